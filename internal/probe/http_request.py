# The HTTP client of golden-validate's probe script on images without curl: standard library
# only. Arguments: METHOD URL SECONDS INSECURE BODYFILE [HEADER]. Prints the status code, or
# "error: ..." when no answer came; the body goes to BODYFILE. (Not named http.py: a script's
# directory comes first on its module path and would hide the standard library's http package.)
import ssl
import sys
import urllib.error
import urllib.request


def main():
    method, url, seconds, insecure, body_file = sys.argv[1:6]
    request = urllib.request.Request(url, method=method)
    if len(sys.argv) > 6 and sys.argv[6]:
        name, _, value = sys.argv[6].partition(":")
        request.add_header(name.strip(), value.strip())
    context = ssl.create_default_context()
    if insecure == "true":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(request, timeout=float(seconds), context=context) as answer:
            status, body = answer.status, answer.read()
    except urllib.error.HTTPError as err:
        status, body = err.code, err.read()
    except Exception as err:  # every failure to get an answer is reported, never raised
        print("error: %s" % err)
        return
    with open(body_file, "wb") as out:
        out.write(body)
    print(status)


main()
