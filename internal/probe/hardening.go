package probe

import (
	"fmt"
	"sort"
	"strings"

	"github.com/golden-ami/packer-plugin-golden/internal/report"
)

// HardeningAudit is the `hardening_audit` built-in's verdict: golden-harden's audit of the booted
// instance (boot) against the report the build left on the image (build). Every control that
// was compliant when the image was built (pass or fixed, including those in force only after the
// next boot) must pass on the booted instance; each one that does not is named with what the
// audit saw. Controls that failed, were skipped or waived at build time are not required.
func HardeningAudit(build, boot *report.Report) Verdict {
	after := map[string]report.Item{}
	for _, it := range boot.Items {
		after[it.ID] = it
	}
	var required, drifted, evidence []string
	for _, it := range build.Items {
		if it.Status != report.StatusPass && it.Status != report.StatusFixed {
			continue
		}
		required = append(required, it.ID)
		now, ok := after[it.ID]
		switch {
		case !ok:
			drifted = append(drifted, it.ID+" (not checked after the boot)")
		case now.Status != report.StatusPass:
			drifted = append(drifted, fmt.Sprintf("%s (%s at build time, %s after the boot)", it.ID, it.Status, now.Status))
			evidence = append(evidence, fmt.Sprintf("%s: %s", it.ID, strings.TrimSpace(firstNonEmpty(now.Message, now.Evidence))))
		}
	}
	sort.Strings(drifted)
	profile := build.Property("profile")
	if len(drifted) > 0 {
		return Verdict{
			Message:  fmt.Sprintf("%d of %d controls of %s that passed at build time fail after the boot: %s", len(drifted), len(required), profile, strings.Join(drifted, ", ")),
			Evidence: strings.Join(evidence, "\n"),
		}
	}
	return Verdict{Pass: true, Message: fmt.Sprintf("all %d controls of %s that passed at build time pass after the boot", len(required), profile)}
}

// PassedAtBuild lists the controls HardeningAudit requires, for the audit to run only those.
func PassedAtBuild(build *report.Report) []string {
	var ids []string
	for _, it := range build.Items {
		if it.Status == report.StatusPass || it.Status == report.StatusFixed {
			ids = append(ids, it.ID)
		}
	}
	return ids
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
