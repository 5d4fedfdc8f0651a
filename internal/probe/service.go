//go:generate packer-sdc struct-markdown

package probe

import (
	"fmt"
)

// Service checks a systemd unit.
//
// ```hcl
//
//	service {
//	  name    = "fail2ban"
//	  running = true
//	  enabled = true
//	}
//
// ```
type Service struct {
	// The unit, e.g. `ssh` or `chrony.service` (`.service` is implied). Required.
	Name string `mapstructure:"name" required:"true"`
	// The unit must be active (`true`, the default) or must not be (`false`).
	Running *bool `mapstructure:"running"`
	// The unit must be enabled to start at boot (`true`) or must not be (`false`). Unset: not
	// checked. Static and generated units, and units started by a socket or timer that is
	// enabled, count as enabled.
	Enabled *bool `mapstructure:"enabled"`
	Retry   `mapstructure:",squash"`

	// runningUnchecked leaves the active state out (goss entries that state only `enabled`).
	runningUnchecked bool
}

func (s *Service) Type() string    { return "service" }
func (s *Service) Subject() string { return s.Name }

func (s *Service) Validate() []error {
	errs := s.validateRetry()
	errs = append(errs, required("name", s.Name)...)
	return errs
}

func (s *Service) Gather() string {
	return fmt.Sprintf(`u=%s
fact load "$(systemctl show -p LoadState --value "$u" 2>/dev/null)"
fact active "$(systemctl is-active "$u" 2>/dev/null)"
fact enabled "$(systemctl is-enabled "$u" 2>/dev/null)"`, quote(s.Name))
}

// enabledStates are what `systemctl is-enabled` prints for a unit that starts at boot on its own
// or through another unit.
var enabledStates = map[string]bool{"enabled": true, "enabled-runtime": true, "static": true, "generated": true, "indirect": true, "alias": true}

func (s *Service) Judge(f Facts) Verdict {
	evidence := fmt.Sprintf("LoadState=%s, is-active=%s, is-enabled=%s", f["load"], f["active"], f["enabled"])
	v := s.judge(f)
	v.Evidence = evidence
	return v
}

func (s *Service) judge(f Facts) Verdict {
	running := boolOr(s.Running, true)
	if f["load"] == "not-found" || f["load"] == "" {
		if !running && s.Enabled == nil || !running && !*s.Enabled {
			return pass("no such unit, as expected")
		}
		return failf("no unit %s is installed", s.Name)
	}
	active := f["active"] == "active"
	if active != running && !s.runningUnchecked {
		return failf("is %s, want %s", f["active"], yesNo(running, "active", "not active"))
	}
	if s.Enabled != nil {
		enabled := enabledStates[f["enabled"]]
		if enabled != *s.Enabled {
			return failf("is-enabled says %s, want %s", orNone(f["enabled"]), yesNo(*s.Enabled, "enabled", "not enabled"))
		}
	}
	return pass(fmt.Sprintf("%s, %s", f["active"], orNone(f["enabled"])))
}

func orNone(s string) string {
	if s == "" {
		return "(nothing)"
	}
	return s
}
