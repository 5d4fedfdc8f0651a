package hardening

import (
	"fmt"
	"regexp"
	"sync"
)

// SudoOptions configures the `sudo` module (HCL block `sudo { ... }`). Its settings go to one
// drop-in, /etc/sudoers.d/golden-hardening (0440 root:root), which `visudo -cf` checks before it
// is installed; `visudo -c` then checks the whole configuration, and the module is rolled back
// unless the build user still has passwordless sudo. Rules that grant the build user (or anyone)
// NOPASSWD are never touched: that is also why CIS 5.2.4 (a password for every sudo) has no
// control here.
type SudoOptions struct {
	// Where sudo logs every command (`Defaults logfile`). Default `/var/log/sudo.log`. Not used
	// where sudo is sudo-rs (Ubuntu 26.04's), which has no such setting and writes every command to
	// the system log.
	LogFile string `mapstructure:"logfile"`
	// Minutes a sudo authentication stays valid (`Defaults timestamp_timeout`). Default 15, the
	// benchmark's maximum; sudo's own default is also 15, so nothing is written unless a lower value
	// is asked for or a higher one is configured.
	TimestampTimeout int `mapstructure:"timestamp_timeout"`
	// Group whose members may use `su` (pam_wheel in /etc/pam.d/su). Default `sugroup`, created
	// empty, so only root can su: administrators use sudo.
	SuGroup string `mapstructure:"su_group"`
}

const (
	sudoDefaultLogFile          = "/var/log/sudo.log"
	sudoDefaultTimestampTimeout = 15
	sudoDefaultSuGroup          = "sugroup"
)

var (
	sudoLogFilePattern = regexp.MustCompile(`^/[A-Za-z0-9._/-]+$`)
	// unixNamePattern is what useradd/groupadd accept by default on Debian (NAME_REGEX).
	// Compiled on first use, as roleARNSyntax (internal/awsconf) is: counted repetitions are costly to compile.
	unixNamePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`) })
)

func (o *SudoOptions) shellParams() map[string]string {
	logFile, group := o.LogFile, o.SuGroup
	if logFile == "" {
		logFile = sudoDefaultLogFile
	}
	if group == "" {
		group = sudoDefaultSuGroup
	}
	return map[string]string{
		"SUDO_LOGFILE":           logFile,
		"SUDO_TIMESTAMP_TIMEOUT": itoaOr(o.TimestampTimeout, sudoDefaultTimestampTimeout),
		"SUDO_SU_GROUP":          group,
	}
}

func (o *SudoOptions) validate() []error {
	errs := collectRangeErrors("sudo", []intRange{{"timestamp_timeout", o.TimestampTimeout, 1, 1440}})
	if o.LogFile != "" && (!sudoLogFilePattern.MatchString(o.LogFile) || o.LogFile[len(o.LogFile)-1] == '/') {
		errs = append(errs, fmt.Errorf("sudo.logfile: %q must be an absolute file path of letters, digits, . _ - and /", o.LogFile))
	}
	if o.SuGroup != "" && !unixNamePattern().MatchString(o.SuGroup) {
		errs = append(errs, fmt.Errorf("sudo.su_group: %q is not a valid group name", o.SuGroup))
	}
	return errs
}

// sudoersFiles lists, in the order sudo reads them, /etc/sudoers and the files of
// /etc/sudoers.d that sudo does not skip (names with a dot or ending in ~ are skipped).
var sudoersFiles = embedded("sudo/sudoers-files.sh")

// sudoDefaultAwk prints the effective global value of one sudoers Defaults setting (the last one
// read wins): "on"/"off" for a flag, the value for a `key=value` setting, an empty line when
// unset; then each place that sets it.
var sudoDefaultAwk = embedded("sudo/defaults.awk")

// sudoDropIn renders the fix that gives /etc/sudoers.d/golden-hardening the line `line` in place
// of any line for the same setting, checked by visudo before it is installed.
func sudoDropIn(key, line string) string {
	return "_sd_line=" + line + "\n" + embeddedWith("sudo/drop-in-fix.sh", "_sd_key", key)
}

// sudoCheck renders a check of one Defaults setting: effective value in _val, evidence printed,
// then the predicate cond (shell, may use $_val).
func sudoCheck(key, cond string) string {
	return sudoersFiles + "\n" + embeddedWith("sudo/default-check.sh", "_key", key, "_sudo_defaults_awk", sudoDefaultAwk) + "\n" + cond
}

// sudoRsNoLogfile makes sudo.logfile not applicable where sudo is sudo-rs (the alternative
// Ubuntu 26.04 selects): sudo-rs writes every command to the system log (the auth facility,
// /var/log/auth.log with rsyslog, the journal without), has no `Defaults logfile`, and its visudo
// rejects the whole file that carries one ("unknown setting: 'logfile'"). visudo belongs to the
// same alternative as sudo.
var sudoRsNoLogfile = embedded("sudo/sudo-rs-no-logfile.sh") + "\n"

// sudoVisudo is the sudo module's Finalize: the whole configuration must parse, and the build
// user must keep passwordless sudo.
var sudoVisudo = `visudo -c >&2 || return 1
` + pamBuildUserSudo

func init() {
	register(Module{
		Name:        "sudo",
		Description: "sudo logging and pseudo-terminal, authentication timeout, no global !authenticate, su restricted to an empty group.",
		Order:       120,
		Finalize:    sudoVisudo,
		Controls: []Control{
			packageControl("sudo.installed", "Ensure sudo is installed", "5.2.1", "sudo"),
			{
				ID: "sudo.use-pty", Title: "Ensure sudo commands use pty",
				Refs: cisRefsSame("5.2.2"), Level: 1, OS: debianFamilies,
				Check: sudoCheck("use_pty", `[ "$_val" = on ]`),
				Fix:   sudoDropIn("use_pty", `'Defaults use_pty'`),
			},
			{
				ID: "sudo.logfile", Title: "Ensure sudo log file exists",
				Refs: cisRefsSame("5.2.3"), Level: 1, OS: debianFamilies,
				// sudo-rs (Ubuntu 26.04's sudo) has no logfile setting, and its visudo refuses one.
				Check: sudoRsNoLogfile + sudoCheck("logfile", `[ "$_val" = "$SUDO_LOGFILE" ]`),
				Fix:   sudoDropIn("logfile", `"Defaults logfile=\"$SUDO_LOGFILE\""`),
			},
			{
				ID: "sudo.no-global-noauth", Title: "Ensure re-authentication for privilege escalation is not disabled globally",
				Refs: cisRefsSame("5.2.5"), Level: 1, OS: debianFamilies,
				// NOPASSWD rules (the build user's) are another mechanism and stay.
				Check: sudoersFiles + "\n" + embedded("sudo/no-global-noauth-check.sh"),
				Fix:   sudoersFiles + "\n" + embedded("sudo/no-global-noauth-fix.sh"),
			},
			{
				ID: "sudo.timestamp-timeout", Title: "Ensure sudo authentication timeout is configured correctly",
				Refs: cisRefsSame("5.2.6"), Level: 1, OS: debianFamilies,
				// Unset means sudo's built-in 15 minutes.
				Check: sudoCheck("timestamp_timeout", `awk -v v="${_val:-15}" -v max="$SUDO_TIMESTAMP_TIMEOUT" 'BEGIN { exit !(v ~ /^[0-9.]+$/ && v + 0 <= max + 0) }'`),
				Fix:   sudoDropIn("timestamp_timeout", `"Defaults timestamp_timeout=$SUDO_TIMESTAMP_TIMEOUT"`),
			},
			{
				ID: "sudo.su-restricted", Title: "Ensure access to the su command is restricted",
				Refs: cisRefsSame("5.2.7"), Level: 1, OS: debianFamilies,
				Check: embedded("sudo/su-restricted-check.sh"),
				// root keeps su through pam_rootok, which comes first.
				Fix: embedded("sudo/su-restricted-fix.sh"),
			},
		},
	})
}
