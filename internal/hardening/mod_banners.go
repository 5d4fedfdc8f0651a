package hardening

import (
	"fmt"
	"regexp"
	"strings"
)

// BannersOptions configures the `banners` module (HCL block `banners { ... }`): the warning shown
// before a local login (/etc/issue), before a remote login (/etc/issue.net, shown by sshd when the
// ssh module sets `Banner`), and after login (/etc/motd). The texts must not reveal the operating
// system: getty's `\m`, `\r`, `\s` and `\v` escapes and the OS name are refused.
type BannersOptions struct {
	// Text of /etc/issue and /etc/issue.net. Default: "Authorized access only. This system is
	// private: all activity on it is monitored and recorded, and unauthorized use is prohibited and
	// may be reported to law enforcement." (a warning that names the owner's rights, the monitoring
	// and the consequences, as the benchmark's and Lynis' checks of a legal banner look for).
	Text string `mapstructure:"text"`
	// Text of /etc/motd. Default: the same as `text`.
	Motd string `mapstructure:"motd"`
}

const bannersDefaultText = "Authorized access only. This system is private: all activity on it is monitored and recorded, and unauthorized use is prohibited and may be reported to law enforcement."

// osRevealing matches what the benchmark's audit refuses in a banner: getty escapes that print
// the machine, release, system name or version, and the OS names of the supported systems.
var osRevealing = regexp.MustCompile(`(?i)\\[mrsv]|debian|ubuntu|amazon linux|red hat|rhel`)

func (o *BannersOptions) texts() (issue, motd string) {
	issue, motd = o.Text, o.Motd
	if issue == "" {
		issue = bannersDefaultText
	}
	if motd == "" {
		motd = issue
	}
	return issue, motd
}

func (o *BannersOptions) shellParams() map[string]string {
	issue, motd := o.texts()
	return map[string]string{"BANNERS_TEXT": issue, "BANNERS_MOTD": motd}
}

func (o *BannersOptions) validate() []error {
	var errs []error
	for _, f := range []struct{ name, value string }{{"text", o.Text}, {"motd", o.Motd}} {
		if m := osRevealing.FindString(f.value); m != "" {
			errs = append(errs, fmt.Errorf("banners.%s: must not reveal the operating system (found %q)", f.name, m))
		}
		if strings.ContainsRune(f.value, 0) {
			errs = append(errs, fmt.Errorf("banners.%s: must not contain NUL characters", f.name))
		}
	}
	return errs
}

// bannerControl gives one banner file the text in shell variable textVar (plus a final newline),
// mode 0644 root:root.
func bannerControl(id, title, cisID, path, textVar string) Control {
	return Control{ID: id, Title: title, Refs: cisRefsSame(cisID), Level: 1, OS: debianFamilies,
		Check: "_banner_text=$" + textVar + "\n" + embeddedWith("banners/text-check.sh", "_banner_file", path),
		Fix:   fmt.Sprintf(`printf '%%s\n' "$%s" | g_write_file %s 0644 root:root`, textVar, path),
	}
}

func init() {
	register(Module{
		Name:        "banners",
		Description: "Login warning banners without operating system details, and their permissions.",
		Order:       140,
		Controls: []Control{
			bannerControl("banners.motd", "Ensure message of the day is configured properly", "1.6.1", "/etc/motd", "BANNERS_MOTD"),
			bannerControl("banners.issue", "Ensure local login warning banner is configured properly", "1.6.2", "/etc/issue", "BANNERS_TEXT"),
			bannerControl("banners.issue-net", "Ensure remote login warning banner is configured properly", "1.6.3", "/etc/issue.net", "BANNERS_TEXT"),
			permControl("banners.motd-perms", "Ensure access to /etc/motd is configured", "1.6.4", "/etc/motd", "0644", "root", "root", true),
			permControl("banners.issue-perms", "Ensure access to /etc/issue is configured", "1.6.5", "/etc/issue", "0644", "root", "root", true),
			permControl("banners.issue-net-perms", "Ensure access to /etc/issue.net is configured", "1.6.6", "/etc/issue.net", "0644", "root", "root", true),
		},
	})
}
