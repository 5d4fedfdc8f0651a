package hardening

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// BuildInfoOptions configures the `build_info` module (HCL block `build_info { ... }`): the file
// /etc/golden-build-info (0644 root:root) that tells anyone on an instance how its image was made.
// One `KEY='value'` line per fact, readable by `. /etc/golden-build-info` and by systemd's
// `EnvironmentFile=`:
//
//	GOLDEN_BUILD_ID        the `build_id` option, when set
//	GOLDEN_BUILD_USER      the user the build connected as (not root: it is the communicator's user)
//	GOLDEN_OS              the OS id and version, e.g. `debian 12`
//	GOLDEN_HARDEN_PROFILE, GOLDEN_PLUGIN_VERSION, GOLDEN_SOURCE_AMI
//	                       when the provisioner knows them
//	<your values>          the `values` map
//	GOLDEN_BUILD_TIME      UTC time the file was written, e.g. `2025-01-31T12:00:00Z`
//
// The file is rewritten only when it is missing or a fact other than GOLDEN_BUILD_TIME changed, so
// a second run in the same build leaves it (and its time) alone.
type BuildInfoOptions struct {
	// Identifier of the build, written as GOLDEN_BUILD_ID, e.g. a CI pipeline id. Default: none
	// (the line is left out).
	BuildID string `mapstructure:"build_id"`
	// Extra facts: keys in upper case (`TEAM`, `GIT_COMMIT`), not starting with `GOLDEN_`; values
	// on one line, without single quotes or backslashes. Default: none.
	Values map[string]string `mapstructure:"values"`
}

// Compiled on first use, as roleARNSyntax (internal/awsconf) is: counted repetitions are costly to compile.
var buildInfoKeyPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`) })

// buildInfoValueOK refuses what would break the KEY='value' line format.
func buildInfoValueOK(v string) bool {
	return !strings.ContainsAny(v, "'\\\n\r\x00")
}

func (o *BuildInfoOptions) shellParams() map[string]string {
	keys := make([]string, 0, len(o.Values))
	for k := range o.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = k + "='" + o.Values[k] + "'"
	}
	return map[string]string{
		"BUILD_INFO_BUILD_ID": o.BuildID,
		"BUILD_INFO_VALUES":   strings.Join(lines, "\n"),
	}
}

func (o *BuildInfoOptions) validate() []error {
	var errs []error
	if !buildInfoValueOK(o.BuildID) {
		errs = append(errs, fmt.Errorf("build_info.build_id: must be one line without single quotes or backslashes"))
	}
	keys := make([]string, 0, len(o.Values))
	for k := range o.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case !buildInfoKeyPattern().MatchString(k):
			errs = append(errs, fmt.Errorf("build_info.values: key %q must be upper case letters, digits and underscores, starting with a letter", k))
		case strings.HasPrefix(k, "GOLDEN_"):
			errs = append(errs, fmt.Errorf("build_info.values: key %q must not start with GOLDEN_ (reserved for the facts the plugin writes)", k))
		}
		if !buildInfoValueOK(o.Values[k]) {
			errs = append(errs, fmt.Errorf("build_info.values: the value of %q must be one line without single quotes or backslashes", k))
		}
	}
	return errs
}

// buildInfoStable prints every line of the file but GOLDEN_BUILD_TIME. The G_PROFILE,
// G_PLUGIN_VERSION and G_SOURCE_AMI run variables are optional: their lines are left out when the
// provisioner does not set them.
var buildInfoStable = embedded("build_info/stable.sh")

func init() {
	const file = "/etc/golden-build-info"
	register(Module{
		Name:        "build_info",
		Description: "/etc/golden-build-info: how, when and by whom the image was built.",
		Order:       200,
		Controls: []Control{
			{
				ID: "build_info.file", Title: "Ensure the image records its build information", Level: 1, OS: debianFamilies,
				Check: "_want=$(" + buildInfoStable + ")\n" + embeddedWith("build_info/file-check.sh", "_bi_file", file),
				Fix:   "_want=$(" + buildInfoStable + ")\n" + embeddedWith("build_info/file-fix.sh", "_bi_file", file),
			},
		},
	})
}
