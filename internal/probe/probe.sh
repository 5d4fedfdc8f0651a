# golden-validate's probe script: the shell of every probe of one run, rendered into the
# functions below (see internal/probe). It runs once, as root, and answers requests read from
# standard input, so that retrying a probe costs no new session:
#   a line of probe numbers ("0 1 2")  runs those probes, in order;
#   "quit" (or the end of the input)     ends the script.
# It prints, per fact, "MARK N KEY =VALUE" (one line) or "MARK N KEY ~BASE64", then
# "MARK N end" after each probe and "MARK - ready" after each request. It decides nothing: the
# verdicts are computed from the facts by the caller. It removes itself and its work directory
# when it ends.
set -u
umask 077
M='@@golden-probe@@'
P=-
NL='
'
W=$(mktemp -d "${TMPDIR:-/tmp}/golden-validate.XXXXXX") || exit 1
trap 'rm -rf "$W" "$0"' EXIT
trap 'exit 1' HUP INT TERM

# fact KEY VALUE: one fact of the current probe.
fact() {
  case $2 in
    *"$NL"*) printf '%s %s %s ~' "$M" "$P" "$1"; printf '%s' "$2" | base64 | tr -d '\n'; echo ;;
    *) printf '%s %s %s =%s\n' "$M" "$P" "$1" "$2" ;;
  esac
}

# fact_file KEY FILE: a fact whose value is a file's bytes.
fact_file() {
  printf '%s %s %s ~' "$M" "$P" "$1"
  base64 <"$2" | tr -d '\n'
  echo
}

# http_request METHOD URL SECONDS INSECURE BODYFILE [HEADER]: prints the HTTP status code, or
# "error: ..." when no answer came; the body goes to BODYFILE. curl when the image has it,
# otherwise Python's standard library.
http_request() {
  if command -v curl >/dev/null 2>&1; then
    set -- "$@" ""
    k=
    [ "$4" = true ] && k=-k
    if [ -n "$6" ]; then
      code=$(curl -sSL $k -X "$1" -H "$6" -o "$5" -w '%{http_code}' --max-time "$3" -- "$2" 2>"$W/curl.err")
    else
      code=$(curl -sSL $k -X "$1" -o "$5" -w '%{http_code}' --max-time "$3" -- "$2" 2>"$W/curl.err")
    fi
    if [ "${code:-000}" = 000 ]; then
      printf 'error: %s\n' "$(tr '\n' ' ' <"$W/curl.err")"
    else
      printf '%s\n' "$code"
    fi
  elif command -v python3 >/dev/null 2>&1 && [ -f "$W/http_request.py" ]; then
    python3 "$W/http_request.py" "$@"
  else
    echo "error: neither curl nor python3 is on the instance"
  fi
}
@@HTTP_HELPER@@
@@PROBES@@
while IFS= read -r req; do
  [ "$req" = quit ] && break
  for P in $req; do
    case $P in *[!0-9]*) continue ;; esac
    "probe_$P" </dev/null || :
    printf '%s %s end\n' "$M" "$P"
  done
  P=-
  printf '%s - ready\n' "$M"
done
