package probe

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// BuildLeftovers is the `no_build_leftovers` built-in: the image carries nothing of the build
// that made it.
//
//   - no SSH key in any user's authorized_keys but the ones this validation launched with (and
//     AllowedKeys): the build's temporary key left on the image would let whoever kept its
//     private half into every instance;
//   - no non-empty shell or REPL history in any home directory;
//   - no Packer or golden-harden temporary files in /tmp or /var/tmp (uploaded scripts, work
//     directories);
//   - no build report under /var/log/golden readable by every user.
type BuildLeftovers struct {
	// AllowedKeys are authorized_keys lines (or bare `type base64` keys) that may be present: the
	// key the validation instance was launched with, and keys the image is meant to carry.
	AllowedKeys []string
}

func (p *BuildLeftovers) Type() string            { return "no_build_leftovers" }
func (p *BuildLeftovers) Subject() string         { return "image" }
func (p *BuildLeftovers) Deadline() time.Duration { return 0 }
func (p *BuildLeftovers) Validate() []error {
	var errs []error
	for _, k := range p.AllowedKeys {
		if keyBlob(k) == "" {
			errs = append(errs, fmt.Errorf("allowed key %q is not an SSH public key", excerpt(k, 40)))
		}
	}
	return errs
}

// historyFiles are the histories shells and REPLs keep in a home directory.
var historyFiles = []string{".bash_history", ".zsh_history", ".sh_history", ".ash_history", ".history",
	".python_history", ".mysql_history", ".psql_history", ".sqlite_history", ".node_repl_history", ".lesshst"}

func (p *BuildLeftovers) Gather() string {
	return fmt.Sprintf(`getent passwd | cut -d: -f6 | sort -u >"$W/homes"
: >"$W/keys"; : >"$W/history"
while IFS= read -r h; do
  [ -d "$h" ] || continue
  for k in "$h/.ssh/authorized_keys" "$h/.ssh/authorized_keys2"; do
    [ -f "$k" ] && awk -v f="$k" 'NF && !/^[[:space:]]*#/ { print f "\t" $0 }' "$k" >>"$W/keys"
  done
  for f in %s; do
    [ -s "$h/$f" ] && printf '%%s\n' "$h/$f" >>"$W/history"
  done
done <"$W/homes"
fact_file keys "$W/keys"
fact_file history "$W/history"
find /tmp /var/tmp -mindepth 1 -maxdepth 1 \( -name 'packer*' -o -name 'script_*.sh' -o -name 'golden-harden-*' \) -print >"$W/temp" 2>/dev/null
fact_file temp "$W/temp"
find /var/log/golden -type f -perm -0004 -print >"$W/reports" 2>/dev/null
fact_file reports "$W/reports"`, strings.Join(historyFiles, " "))
}

// keyTypeSyntax matches the key type field of an authorized_keys line.
var keyTypeSyntax = regexp.MustCompile(`^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)$`)

// keyBlob returns the base64 key of an authorized_keys line (after any options), or "".
func keyBlob(line string) string {
	fields := strings.Fields(line)
	for i := 0; i+1 < len(fields); i++ {
		if keyTypeSyntax.MatchString(fields[i]) {
			return fields[i+1]
		}
	}
	return ""
}

// fingerprint is the key's SHA256 fingerprint as ssh-keygen -l prints it.
func fingerprint(blob string) string {
	raw, err := base64.StdEncoding.DecodeString(blob)
	if err != nil {
		return "unreadable key"
	}
	sum := sha256.Sum256(raw)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

func (p *BuildLeftovers) Judge(f Facts) Verdict {
	allowed := map[string]bool{}
	for _, k := range p.AllowedKeys {
		allowed[keyBlob(k)] = true
	}
	var found []string
	var strangers []string
	for _, l := range lines(f["keys"]) {
		file, key, _ := strings.Cut(l, "\t")
		blob := keyBlob(key)
		if blob == "" || allowed[blob] {
			continue
		}
		comment := ""
		if fields := strings.Fields(key); len(fields) > 0 {
			comment = fields[len(fields)-1]
		}
		strangers = append(strangers, fmt.Sprintf("%s (%s %s)", file, fingerprint(blob), comment))
	}
	if len(strangers) > 0 {
		found = append(found, "authorized keys not launched with: "+strings.Join(strangers, ", "))
	}
	if h := lines(f["history"]); len(h) > 0 {
		found = append(found, "shell history: "+strings.Join(h, ", "))
	}
	if t := lines(f["temp"]); len(t) > 0 {
		found = append(found, "build temporary files: "+strings.Join(t, ", "))
	}
	if r := lines(f["reports"]); len(r) > 0 {
		found = append(found, "build reports readable by every user: "+strings.Join(r, ", "))
	}
	if len(found) > 0 {
		return Verdict{Message: strings.Join(found, "; "), Evidence: strings.Join(found, "\n")}
	}
	n := len(lines(f["keys"]))
	return Verdict{Pass: true, Message: fmt.Sprintf("clean (%d authorized keys, all expected)", n), Evidence: f["keys"]}
}
