package iam

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

// CallsEnv names a folder of simulator call records (ec2sim.CallsLogEnv) an earlier run of the
// end-to-end suites wrote; `make test` runs the suites once with recording on and hands the folder
// to this test. Without it, TestIAMPolicyMatchesCalls runs the suites itself.
const CallsEnv = "GOLDEN_IAM_CALLS"

// e2eTimeout bounds the end-to-end run this test starts when no records are handed to it.
const e2eTimeout = 60 * time.Minute

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "docs", "iam.md")); err != nil {
		t.Fatal(err)
	}
	return root
}

func readDoc(t *testing.T) []Section {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "iam.md"))
	if err != nil {
		t.Fatal(err)
	}
	sections, err := ParseDoc(data)
	if err != nil {
		t.Fatal(err)
	}
	return sections
}

// registered are the components the plugin binary serves, from its own `describe`.
func registered(t *testing.T) []string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "packer-plugin-golden")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = repoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "describe").Output()
	if err != nil {
		t.Fatalf("%s describe: %v", bin, err)
	}
	var d Describe
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("describe: %v\n%s", err, out)
	}
	return d.Components()
}

// TestIAMDocCoversEveryComponent: every component the plugin registers has a section in
// docs/iam.md, every section is a well-formed least-privilege policy (ParseDoc), and no section
// names a component the plugin does not serve.
func TestIAMDocCoversEveryComponent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary to read its components: skipped under -short (make test runs it)")
	}
	sections := readDoc(t)
	documented := map[string]bool{}
	for _, s := range sections {
		documented[s.Component] = true
	}
	components := registered(t)
	for _, c := range components {
		if !documented[c] {
			t.Errorf("docs/iam.md has no section for %s, which the plugin registers", c)
		}
	}
	for _, s := range sections {
		if !slices.Contains(components, s.Component) {
			t.Errorf("docs/iam.md line %d: %s is not a component the plugin registers (%v)", s.Line, s.Component, components)
		}
	}
}

// TestIAMPolicyMatchesCalls compares, per component, the IAM actions its policy in docs/iam.md
// allows with the actions it called while the end-to-end suites ran against the simulator (each
// component process tells itself apart by its SDK application id, see internal/awsconf). It fails
// on an action called but not allowed (the policy would break a build) and on an action allowed but
// never called (the policy is wider than what the suites show the component needs, or the suites
// do not exercise it). A component no suite recorded a call by is skipped, named.
func TestIAMPolicyMatchesCalls(t *testing.T) {
	dir := os.Getenv(CallsEnv)
	if dir == "" {
		if testing.Short() {
			t.Skip("runs the end-to-end suites: skipped under -short (or set " + CallsEnv + ")")
		}
		dir = runE2E(t)
	}
	logs, err := ec2sim.ReadCallerLogs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) == 0 {
		t.Fatalf("no simulator call records in %s", dir)
	}
	called := map[string]map[string][]string{} // component -> action -> tests
	for _, l := range logs {
		for caller, actions := range l.Callers {
			if !strings.HasPrefix(caller, "golden-") {
				continue // the official amazon plugin, the tests' own clients
			}
			if called[caller] == nil {
				called[caller] = map[string][]string{}
			}
			for action := range actions {
				called[caller][action] = append(called[caller][action], l.Test)
			}
		}
	}

	sections := readDoc(t)
	bySection := map[string]Section{}
	for _, s := range sections {
		bySection[s.Component] = s
	}
	for caller := range called {
		if _, ok := bySection[caller]; !ok {
			t.Errorf("%s made AWS calls %v, and docs/iam.md has no section for it", caller, sortedKeys(called[caller]))
		}
	}
	for _, s := range sections {
		t.Run(s.Component, func(t *testing.T) {
			calls := called[s.Component]
			if s.Policy == nil {
				if len(calls) > 0 {
					t.Errorf("docs/iam.md says %q, but %s called %s", NoPolicyMarker, s.Component, describeCalls(calls))
				}
				return
			}
			if len(calls) == 0 {
				t.Skipf("%s: no end-to-end test recorded an AWS call by it (its suite is not present or did not run); %d documented actions unchecked",
					s.Component, len(s.Actions()))
			}
			allowed := s.Actions()
			for _, action := range sortedKeys(calls) {
				if !slices.Contains(allowed, action) && !slices.Contains(NoPermissionNeeded, action) {
					t.Errorf("%s called %s (in %s), which its policy in docs/iam.md (line %d) does not allow",
						s.Component, action, strings.Join(calls[action], ", "), s.Line)
				}
			}
			var unexercised []string
			for _, action := range allowed {
				_, ok := calls[action]
				listed := slices.Contains(s.Unexercised, action)
				switch {
				case !ok && listed:
					unexercised = append(unexercised, action)
				case !ok:
					t.Errorf("%s's policy in docs/iam.md (line %d) allows %s, which no end-to-end test saw it call",
						s.Component, s.Line, action)
				case listed:
					// Not a failure: a suite that lands later exercises it; the list is to shrink.
					t.Logf("NOTE: docs/iam.md lists %s as not exercised for %s, but %s called it: take it off the list",
						action, s.Component, strings.Join(calls[action], ", "))
				}
			}
			t.Logf("%s: called %d actions, all allowed: %s", s.Component, len(calls), strings.Join(sortedKeys(calls), " "))
			if len(unexercised) > 0 {
				t.Logf("%s: %d allowed actions no suite exercises yet (listed in docs/iam.md): %s",
					s.Component, len(unexercised), strings.Join(unexercised, " "))
			}
		})
	}
}

// runE2E runs the end-to-end suites with the simulator's call records on, and returns their folder.
func runE2E(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-timeout", e2eTimeout.String(), "./test/e2e/...")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), ec2sim.CallsLogEnv+"="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t.Logf("running the end-to-end suites with call records in %s", dir)
	if err := cmd.Run(); err != nil {
		t.Fatalf("go test ./test/e2e/...: %v\n%s", err, out.String())
	}
	return dir
}

func describeCalls(calls map[string][]string) string {
	var parts []string
	for _, a := range sortedKeys(calls) {
		parts = append(parts, fmt.Sprintf("%s (in %s)", a, strings.Join(calls[a], ", ")))
	}
	return strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
