# Does what ufw's command line does, for several commands in one Python process, through ufw's
# own modules. Arguments: ufw's path, the work directory, then "OUT:COMMAND" items, COMMAND being
# ufw's arguments ("allow 22/tcp", "status verbose") and OUT "-" (result on stdout) or a file name
# in the work directory that receives the result, and "--" items. Commands up to a "--" share one
# ufw frontend, as the rules of an application profile do in a single ufw call: the firewall's
# capabilities are probed once (a dozen iptables runs) instead of once per rule. After a "--" a
# new frontend reads the rules and the firewall afresh, as a new ufw call would. It holds ufw's
# lock throughout and stops at the first error (exit status not 0); the caller then runs ufw's
# command line for every command (ufw-run.sh).
import gettext, os, sys
import ufw.common, ufw.frontend, ufw.util
gettext.install(ufw.common.programName)
# ufw checks the ownership and mode of the running program (argv[0]) and its directories.
ufwpath, workdir, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
sys.argv = [ufwpath]
lock = ufw.util.create_lock()
try:
    ui = None
    for spec in specs:
        if spec == "--":
            ui = None
            continue
        out, _, cmd = spec.partition(":")
        try:
            if ui is None:
                ui = ufw.frontend.UFWFrontend(False)
            pr = ufw.frontend.parse_command(["ufw"] + cmd.split())
            res = ui.do_action(pr.action, pr.data.get("rule", ""), pr.data.get("iptype", ""), True)
        except ufw.common.UFWError as e:
            sys.exit("ufw " + cmd + ": " + e.value)
        except ValueError:
            sys.exit("ufw " + cmd + ": not a ufw command")
        if out == "-":
            if res:
                print(res, flush=True)
        else:
            with open(os.path.join(workdir, out), "w") as f:
                f.write(res + "\n")
finally:
    ufw.util.release_lock(lock)
