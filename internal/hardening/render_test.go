package hardening

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/golden-ami/packer-plugin-golden/internal/report"
)

// The tests in this file render scripts for small fake modules whose controls work on files in a
// temporary directory ($T_DIR), run them under dash (Debian's /bin/sh, the strictest shell the
// script meets), and read the results back through the Collector.

func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

type fakeRun struct {
	dir      string // T_DIR: the files the fake controls manage
	backups  string
	work     string
	owner    string // uid:gid of the test process, usable in g_write_file/g_set_mode
	runCount int
	// onResult, when set, sees each result as the running script's output delivers it.
	onResult func(Result)
	// env holds more NAME=value pairs for the script's environment.
	env []string
}

func newFakeRun(t *testing.T) *fakeRun {
	t.Helper()
	base := t.TempDir()
	f := &fakeRun{
		dir:     filepath.Join(base, "etc"),
		backups: filepath.Join(base, "backups"),
		work:    base,
		owner:   fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid()),
	}
	if err := os.Mkdir(f.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fakeRun) plan(mode Mode, modules ...Module) Plan {
	f.runCount++
	runID := fmt.Sprintf("test%d", f.runCount)
	return Plan{
		Mode:      mode,
		OS:        OSInfo{ID: "debian", VersionID: "12", Family: "debian"},
		BuildUser: "admin",
		SSHPort:   22,
		RunID:     runID,
		WorkDir:   filepath.Join(f.work, "golden-harden-"+runID),
		BackupDir: filepath.Join(f.backups, runID),
		Params:    []ShellParam{{Name: "T_DIR", Value: f.dir}, {Name: "T_OWNER", Value: f.owner}},
		Modules:   modules,
	}
}

// execute renders and runs the plan under dash and returns the collected run.
func (f *fakeRun) execute(t *testing.T, p Plan) *Run {
	t.Helper()
	run, stderr, err := f.tryExecute(t, p)
	if err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, stderr)
	}
	if _, err := os.Stat(p.WorkDir); !os.IsNotExist(err) {
		t.Errorf("work dir %s left behind (stat: %v)", p.WorkDir, err)
	}
	return run
}

func (f *fakeRun) tryExecute(t *testing.T, p Plan) (*Run, string, error) {
	t.Helper()
	dash := requireTool(t, "dash")
	script, err := Render(p)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(f.work, p.RunID+".sh")
	if err := os.WriteFile(path, script, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(dash, path)
	cmd.Env = append(append(os.Environ(), "G_ALLOW_NON_ROOT=1", "G_IN_CONTAINER=0"), f.env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The output is read while the script runs, as the provisioner reads it.
	col := NewCollector(PlannedIDs(p.Modules))
	col.OnResult = f.onResult
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), Marker+" ")
		if !ok {
			t.Errorf("unexpected output line: %q", sc.Text())
			continue
		}
		if err := col.Add([]byte(line)); err != nil {
			t.Fatalf("%v", err)
		}
	}
	runErr := cmd.Wait()
	run, err := col.Run()
	if err == nil && runErr != nil {
		err = runErr
	}
	return run, stderr.String(), err
}

func byID(run *Run) map[string]Result {
	m := map[string]Result{}
	for _, r := range run.Results {
		m[r.ID] = r
	}
	return m
}

// hashTree hashes every path, mode and content under dir.
func hashTree(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %v\n", path, info.Mode())
		if d.Type().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			h.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// alphaModule exercises every check verdict.
func alphaModule() Module {
	return Module{Name: "alpha", Finalize: `cat "$T_DIR/alpha.conf" >/dev/null`, Controls: []Control{
		{ID: "alpha.kv", Title: "PermitRootLogin is no",
			Check: `g_kv_is "$T_DIR/alpha.conf" PermitRootLogin no && g_say "PermitRootLogin no"`,
			Fix:   `g_set_kv "$T_DIR/alpha.conf" PermitRootLogin no`},
		{ID: "alpha.ok", Title: "already fine", Check: `g_say "already fine"`},
		{ID: "alpha.na", Title: "not here", Check: "g_say 'not on this host'\ng_say second line\nreturn 2"},
		{ID: "alpha.manual", Title: "manual", Check: `g_say "needs a human"; return 1`},
		{ID: "alpha.boot", Title: "next boot", Check: `g_say "written, in force after reboot"; return 3`},
		{ID: "alpha.broken", Title: "broken check", Check: `echo oops >&2; return 5`},
		{ID: "alpha.unset", Title: "unset variable", Check: `g_say "$NOT_SET_ANYWHERE"`},
		{ID: "alpha.exit", Title: "exits", Check: `exit 1`, Fix: `g_ensure_line "$T_DIR/alpha.lines" "fixed by exit"`},
	}}
}

// betaModule changes several files; its Finalize fails while $T_DIR/beta.bad exists.
func betaModule() Module {
	return Module{Name: "beta",
		Finalize: `if [ -f "$T_DIR/beta.bad" ]; then echo "config test failed: bad option 'Foo'"; exit 1; fi
echo finalized >>"$T_DIR/../finalize.log"`,
		Controls: []Control{
			{ID: "beta.write", Title: "beta.conf content",
				Check: `[ "$(cat "$T_DIR/beta.conf" 2>/dev/null)" = new ]`,
				Fix:   `echo new | g_write_file "$T_DIR/beta.conf" 0640 "$T_OWNER"`},
			{ID: "beta.create", Title: "new file in new dirs",
				Check: `[ -f "$T_DIR/sub/dir/beta.d/new.conf" ]`,
				Fix:   `echo x | g_write_file "$T_DIR/sub/dir/beta.d/new.conf" 0644 "$T_OWNER"`},
			{ID: "beta.mode", Title: "beta.mode is 0600",
				Check: `m=$(stat -c %a "$T_DIR/beta.mode"); g_say "mode $m"; [ "$m" = 600 ]`,
				Fix:   `g_set_mode "$T_DIR/beta.mode" 0600 "$T_OWNER"`},
		}}
}

func TestRenderedScriptPassesShellChecks(t *testing.T) {
	shellcheck := requireTool(t, "shellcheck")
	dash := requireTool(t, "dash")
	f := newFakeRun(t)
	script, err := Render(f.plan(ModeEnforce, alphaModule(), betaModule()))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(f.work, "script.sh")
	if err := os.WriteFile(path, script, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(dash, "-n", path).CombinedOutput(); err != nil {
		t.Fatalf("dash -n: %v\n%s", err, out)
	}
	if out, err := exec.Command("sh", "-n", path).CombinedOutput(); err != nil {
		t.Fatalf("sh -n: %v\n%s", err, out)
	}
	if out, err := exec.Command(shellcheck, "-s", "sh", path).CombinedOutput(); err != nil {
		t.Fatalf("shellcheck -s sh: %v\n%s", err, out)
	}
}

func TestRenderQuotesParametersAndRejectsBadPlans(t *testing.T) {
	f := newFakeRun(t)
	p := f.plan(ModeAudit, alphaModule())
	p.Params = append(p.Params, ShellParam{Name: "SSH_BANNER", Value: "it's `rm -rf /` $(x)"})
	script, err := Render(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(script), `SSH_BANNER='it'\''s `+"`rm -rf /`"+` $(x)'`) {
		t.Errorf("parameter not single-quoted safely:\n%s", script[:600])
	}

	bad := []struct {
		name   string
		mutate func(*Plan)
		want   string
	}{
		{"mode", func(p *Plan) { p.Mode = "fix" }, `mode "fix"`},
		{"run id", func(p *Plan) { p.RunID = "a b" }, "run id"},
		{"work dir", func(p *Plan) { p.WorkDir = "/tmp" }, "work dir"},
		{"port", func(p *Plan) { p.SSHPort = 0 }, "ssh port"},
		{"param", func(p *Plan) { p.Params = []ShellParam{{Name: "G_MODE", Value: "x"}} }, "G_MODE"},
		{"id", func(p *Plan) { p.Modules[0].Controls[0].ID = "Alpha KV" }, `"Alpha KV"`},
		{"dup", func(p *Plan) { p.Modules[0].Controls[1].ID = "alpha.kv" }, "appears twice"},
		{"check", func(p *Plan) { p.Modules[0].Controls[0].Check = " " }, "has no check"},
		{"user", func(p *Plan) { p.BuildUser = "" }, "build user"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			p := f.plan(ModeEnforce, alphaModule())
			tc.mutate(&p)
			_, err := Render(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestDriverReportsEveryVerdict(t *testing.T) {
	f := newFakeRun(t)
	writeFile(t, filepath.Join(f.dir, "alpha.conf"), "# comment\nPermitRootLogin yes\nUsePAM yes\npermitrootlogin prohibit-password\n", 0o600)
	run := f.execute(t, f.plan(ModeEnforce, alphaModule()))
	got := byID(run)

	want := map[string]struct {
		status, before Status
		nextBoot       bool
	}{
		"alpha.kv":     {StatusFixed, StatusFailed, false},
		"alpha.ok":     {StatusPass, StatusPass, false},
		"alpha.na":     {StatusSkipped, StatusSkipped, false},
		"alpha.manual": {StatusFailed, StatusFailed, false},
		"alpha.boot":   {StatusPass, StatusPass, true},
		"alpha.broken": {StatusFailed, StatusFailed, false},
		"alpha.unset":  {StatusFailed, StatusFailed, false},
		"alpha.exit":   {StatusFailed, StatusFailed, false},
	}
	for id, w := range want {
		r := got[id]
		if r.Status != w.status || r.Before != w.before || r.NextBoot != w.nextBoot {
			t.Errorf("%s: status %s before %s next_boot %v, want %s %s %v (message %q)",
				id, r.Status, r.Before, r.NextBoot, w.status, w.before, w.nextBoot, r.Message)
		}
	}
	if r := got["alpha.kv"]; r.Evidence != "PermitRootLogin no" || len(r.Backups) != 1 || r.Backups[0] != filepath.Join(f.dir, "alpha.conf") {
		t.Errorf("alpha.kv evidence %q backups %v", r.Evidence, r.Backups)
	}
	if got := readFile(t, filepath.Join(f.dir, "alpha.conf")); got != "# comment\nPermitRootLogin no\nUsePAM yes\n# permitrootlogin prohibit-password\n" {
		t.Errorf("alpha.conf after the fix:\n%s", got)
	}
	if info, _ := os.Stat(filepath.Join(f.dir, "alpha.conf")); info.Mode().Perm() != 0o600 {
		t.Errorf("g_set_kv changed the mode to %v", info.Mode().Perm())
	}
	if r := got["alpha.na"]; r.Message != "not on this host" {
		t.Errorf("skipped message %q, want the first line of the check's output", r.Message)
	}
	if r := got["alpha.manual"]; r.Message != "no automatic fix: this control needs a manual change" {
		t.Errorf("manual control message %q", r.Message)
	}
	if r := got["alpha.broken"]; !strings.Contains(r.Message, "check exited 5") || !strings.Contains(r.Message, "oops") {
		t.Errorf("broken check message %q", r.Message)
	}
	if r := got["alpha.unset"]; !strings.Contains(r.Message, "NOT_SET_ANYWHERE") {
		t.Errorf("an unset variable must read as a broken check, not as not applicable: %+v", r)
	}
	// The exit in alpha.exit's check ends only its subshell: its fix still ran.
	if got := readFile(t, filepath.Join(f.dir, "alpha.lines")); got != "fixed by exit\n" {
		t.Errorf("alpha.lines = %q", got)
	}
	if len(run.Modules) != 1 || run.Modules[0].Finalize != "ok" {
		t.Errorf("modules %+v", run.Modules)
	}
	// The backup holds the file as it was before the module changed it.
	backup := filepath.Join(f.backups, "test1", "alpha", f.dir, "alpha.conf")
	if got := readFile(t, backup); !strings.Contains(got, "PermitRootLogin yes") {
		t.Errorf("backup %s = %q", backup, got)
	}
	before, after := CountBefore(run.Results), CountAfter(run.Results)
	if before != (report.Counts{Pass: 2, Failed: 5, Skipped: 1, Total: 8}) || after != (report.Counts{Pass: 2, Fixed: 1, Failed: 4, Skipped: 1, Total: 8}) {
		t.Errorf("before %+v after %+v", before, after)
	}
}

func TestDriverSecondRunChangesNothing(t *testing.T) {
	f := newFakeRun(t)
	writeFile(t, filepath.Join(f.dir, "alpha.conf"), "PermitRootLogin yes\n", 0o644)
	writeFile(t, filepath.Join(f.dir, "beta.conf"), "old\n", 0o644)
	writeFile(t, filepath.Join(f.dir, "beta.mode"), "m\n", 0o644)
	first := f.execute(t, f.plan(ModeEnforce, alphaModule(), betaModule()))
	if c := CountAfter(first.Results); c.Fixed != 4 {
		t.Fatalf("first run fixed %d controls, want 4: %+v", c.Fixed, first.Results)
	}
	if got := readFile(t, filepath.Join(f.work, "finalize.log")); got != "finalized\n" {
		t.Errorf("finalize log %q", got)
	}
	snapshot := hashTree(t, f.dir)

	second := f.execute(t, f.plan(ModeEnforce, alphaModule(), betaModule()))
	for _, r := range second.Results {
		if r.Status == StatusFixed || len(r.Backups) > 0 {
			t.Errorf("second run changed %s: %+v", r.ID, r)
		}
	}
	if c := CountAfter(second.Results); c.Pass != 6 {
		t.Errorf("second run: %+v", c)
	}
	if hashTree(t, f.dir) != snapshot {
		t.Error("the second run changed files")
	}
	if _, err := os.Stat(filepath.Join(f.backups, "test2")); !os.IsNotExist(err) {
		t.Errorf("the second run created a backup directory (stat: %v)", err)
	}
	// Finalize runs only when a fix ran.
	if got := readFile(t, filepath.Join(f.work, "finalize.log")); got != "finalized\n" {
		t.Errorf("finalize ran again: %q", got)
	}
	for _, m := range second.Modules {
		if m.Name == "beta" && m.Finalize != "not_needed" {
			t.Errorf("module %s finalize %s on a clean run", m.Name, m.Finalize)
		}
	}
}

func TestDriverAuditChangesNothing(t *testing.T) {
	f := newFakeRun(t)
	writeFile(t, filepath.Join(f.dir, "alpha.conf"), "PermitRootLogin yes\n", 0o644)
	writeFile(t, filepath.Join(f.dir, "beta.mode"), "m\n", 0o644)
	snapshot := hashTree(t, f.dir)
	run := f.execute(t, f.plan(ModeAudit, alphaModule(), betaModule()))
	if hashTree(t, f.dir) != snapshot {
		t.Error("audit mode changed files")
	}
	if _, err := os.Stat(f.backups); !os.IsNotExist(err) {
		t.Errorf("audit mode created backups (stat: %v)", err)
	}
	got := byID(run)
	for _, id := range []string{"alpha.kv", "beta.write", "beta.create", "beta.mode"} {
		if got[id].Status != StatusFailed {
			t.Errorf("%s: %s, want failed in audit mode", id, got[id].Status)
		}
	}
	if got["beta.mode"].Evidence != "mode 644" {
		t.Errorf("evidence %q", got["beta.mode"].Evidence)
	}
	if _, err := os.Stat(filepath.Join(f.work, "finalize.log")); !os.IsNotExist(err) {
		t.Error("audit mode ran a finalize")
	}
}

func TestDriverRollsBackWhenFinalizeFails(t *testing.T) {
	f := newFakeRun(t)
	writeFile(t, filepath.Join(f.dir, "alpha.conf"), "PermitRootLogin yes\n", 0o644)
	writeFile(t, filepath.Join(f.dir, "beta.conf"), "old\n", 0o644)
	writeFile(t, filepath.Join(f.dir, "beta.mode"), "m\n", 0o644)
	writeFile(t, filepath.Join(f.dir, "beta.bad"), "", 0o644)
	betaBefore := map[string]string{}
	for _, name := range []string{"beta.conf", "beta.mode"} {
		info, _ := os.Stat(filepath.Join(f.dir, name))
		betaBefore[name] = fmt.Sprintf("%s %v", readFile(t, filepath.Join(f.dir, name)), info.Mode())
	}

	run := f.execute(t, f.plan(ModeEnforce, alphaModule(), betaModule()))
	got := byID(run)
	for _, id := range []string{"beta.write", "beta.create", "beta.mode"} {
		r := got[id]
		if r.Status != StatusFailed || !r.RolledBack || !strings.Contains(r.Message, "config test failed: bad option 'Foo'") ||
			!strings.Contains(r.Message, "restored from its backup") {
			t.Errorf("%s: %+v", id, r)
		}
	}
	// alpha is another module: its change stays.
	if got["alpha.kv"].Status != StatusFixed || !strings.Contains(readFile(t, filepath.Join(f.dir, "alpha.conf")), "PermitRootLogin no") {
		t.Errorf("alpha.kv: %+v", got["alpha.kv"])
	}
	for name, want := range betaBefore {
		info, _ := os.Stat(filepath.Join(f.dir, name))
		if now := fmt.Sprintf("%s %v", readFile(t, filepath.Join(f.dir, name)), info.Mode()); now != want {
			t.Errorf("%s after rollback = %q, want %q", name, now, want)
		}
	}
	if _, err := os.Stat(filepath.Join(f.dir, "sub")); !os.IsNotExist(err) {
		t.Errorf("the directories created by the module survived the rollback (stat: %v)", err)
	}
	var beta ModuleRun
	for _, m := range run.Modules {
		if m.Name == "beta" {
			beta = m
		}
	}
	if beta.Finalize != "failed" || !strings.Contains(beta.Message, "finalize after the restore exited 1") {
		t.Errorf("beta module: %+v", beta)
	}
	if files := ChangedFiles(run.Results); strings.Join(files, " ") != filepath.Join(f.dir, "alpha.conf")+" "+filepath.Join(f.dir, "alpha.lines") {
		t.Errorf("changed files %v: rolled-back files must not be listed as changed", files)
	}

	// Once the cause is gone, the next run applies the module.
	if err := os.Remove(filepath.Join(f.dir, "beta.bad")); err != nil {
		t.Fatal(err)
	}
	again := byID(f.execute(t, f.plan(ModeEnforce, betaModule())))
	for _, id := range []string{"beta.write", "beta.create", "beta.mode"} {
		if again[id].Status != StatusFixed {
			t.Errorf("%s after removing the cause: %+v", id, again[id])
		}
	}
}

func TestDriverKeepsEvidenceExact(t *testing.T) {
	f := newFakeRun(t)
	tricky := "quote \" backslash \\ tab \t dollar $HOME ünïcødé\nsecond line\r\n\x01bell"
	writeFile(t, filepath.Join(f.dir, "tricky"), tricky, 0o644)
	long := strings.Repeat("0123456789", 1000)
	writeFile(t, filepath.Join(f.dir, "long"), long, 0o644)
	m := Module{Name: "gamma", Controls: []Control{
		{ID: "gamma.tricky", Check: `cat "$T_DIR/tricky"`},
		{ID: "gamma.long", Check: `cat "$T_DIR/long"; echo; echo "$(cat "$T_DIR/long")" >&2; return 7`},
	}}
	got := byID(f.execute(t, f.plan(ModeAudit, m)))
	want := "quote \" backslash \\ tab \t dollar $HOME ünïcødé\nsecond line\nbell"
	if got["gamma.tricky"].Evidence != want {
		t.Errorf("evidence\n got %q\nwant %q", got["gamma.tricky"].Evidence, want)
	}
	ev := got["gamma.long"].Evidence
	if len(ev) != 4096+3 || !strings.HasPrefix(ev, "0123456789") || !strings.HasSuffix(ev, "...") {
		t.Errorf("long evidence: %d bytes, starts %q", len(ev), ev[:20])
	}
	msg := got["gamma.long"].Message
	if len(msg) != 4096+3 || !strings.HasPrefix(msg, "...") || !strings.HasSuffix(msg, "0123456789") {
		t.Errorf("long message: %d bytes, ends %q", len(msg), msg[len(msg)-20:])
	}
}

func TestHelpers(t *testing.T) {
	cases := []struct {
		name   string
		files  map[string]string // relative to T_DIR
		script string
		want   map[string]string // file contents afterwards; "" = must not exist
		output string            // expected evidence (the check's stdout)
	}{
		{
			name:   "set_kv with separator appends and keeps other keys",
			files:  map[string]string{"sysctl.conf": "a = 1\nkernel.x=0\n# kernel.x=9\nKERNEL.X = 3"},
			script: `g_set_kv "$T_DIR/sysctl.conf" kernel.x 2 ' = '; g_set_kv "$T_DIR/sysctl.conf" net.y 1 =`,
			want:   map[string]string{"sysctl.conf": "a = 1\nkernel.x = 2\n# kernel.x=9\n# KERNEL.X = 3\nnet.y=1\n"},
		},
		{
			name:   "set_kv creates the file",
			script: `g_set_kv "$T_DIR/new.conf" MaxAuthTries 4`,
			want:   map[string]string{"new.conf": "MaxAuthTries 4\n"},
		},
		{
			name:   "kv_is reads the first active line only",
			files:  map[string]string{"c": "#Key wrong\n  key   a b  \nKey other\n"},
			script: `g_kv_is "$T_DIR/c" KEY 'a b' && g_say first; g_kv_is "$T_DIR/c" key other || g_say second; g_kv_is "$T_DIR/missing" k v || g_say missing`,
			output: "first\nsecond\nmissing",
		},
		{
			name:   "kv values with backslashes survive",
			script: `g_set_kv "$T_DIR/b" Pattern 'a\nb\\c'; g_kv_is "$T_DIR/b" Pattern 'a\nb\\c' && g_say same`,
			want:   map[string]string{"b": "Pattern a\\nb\\\\c\n"},
			output: "same",
		},
		{
			name:   "ensure_line adds a missing final newline once",
			files:  map[string]string{"l": "one"},
			script: `g_ensure_line "$T_DIR/l" two; g_ensure_line "$T_DIR/l" two; g_ensure_line "$T_DIR/l" one`,
			want:   map[string]string{"l": "one\ntwo\n"},
		},
		{
			name:   "remove_lines",
			files:  map[string]string{"r": "keep\ninstall cramfs /bin/true\nkeep too\n"},
			script: `g_remove_lines "$T_DIR/r" '^install cramfs'; g_remove_lines "$T_DIR/r" '^nothing'; g_remove_lines "$T_DIR/absent" x`,
			want:   map[string]string{"r": "keep\nkeep too\n", "absent": ""},
		},
		{
			name:   "write_file reports nothing changed on identical content",
			files:  map[string]string{"w": "same\n"},
			script: `printf 'same\n' | g_write_file "$T_DIR/w" 0644 "$T_OWNER" && g_say "$(cat "$G_WORK_DIR/c1.changed" 2>/dev/null)"`,
			want:   map[string]string{"w": "same\n"},
			output: "",
		},
		{
			name:   "g_cmd and g_pkg_installed",
			script: `g_cmd sh && g_say sh; g_cmd no-such-command-x || g_say none; g_pkg_installed dpkg && g_say dpkg; g_pkg_installed dpkg no-such-package-x || g_say partial`,
			output: "sh\nnone\ndpkg\npartial",
		},
		{
			// The run reads dpkg's list once; a change through apt (_g_apt marks it) makes every
			// look-up ask dpkg until the driver reads the list again.
			name: "g_pkg_present, g_pkg_missing, read once and asked again after a change",
			script: `g_pkg_present dpkg no-such-package-x; g_say "present:$_g_pp"
g_pkg_missing dpkg no-such-package-x "dpkg:$(dpkg --print-architecture)"; g_say "missing:[$_g_pm]"
case $_G_PKGS in *" installed:dpkg "*) g_say listed ;; esac
echo "install x" >>"$G_WORK_DIR/pkgs-changed"
g_pkg_missing dpkg no-such-package-x; g_say "asked dpkg:[$_g_pm]"`,
			output: "present: dpkg\nmissing:[no-such-package-x ]\nlisted\nasked dpkg:[no-such-package-x ]",
		},
		{
			name:  "file_is compares without the trailing newlines, and a missing file holds nothing",
			files: map[string]string{"f": "a\n  b\\n\n\n", "n": "x"},
			script: `g_file_is "$T_DIR/f" "$(printf 'a\n  b\\n')" && g_say same
g_file_is "$T_DIR/f" "$(printf 'a\n  b\\n\n')" && g_say "same too"
g_file_is "$T_DIR/f" a || g_say differs
g_file_is "$T_DIR/missing" "" && g_say empty
g_file_is "$T_DIR/n" x && g_say "last line without a newline: $_g_fi"`,
			output: "same\nsame too\ndiffers\nempty\nlast line without a newline: x",
		},
		{
			name:  "set_content keeps the mode and changes nothing on identical content",
			files: map[string]string{"c": "old\n", "s": "same\n"},
			script: `chmod 0600 "$T_DIR/c"; printf 'new\n' >"$G_WORK_DIR/new"; g_set_content "$T_DIR/c" "$G_WORK_DIR/new" && g_say "$(stat -c %a "$T_DIR/c")"
printf 'same\n' >"$G_WORK_DIR/same"; g_set_content "$T_DIR/s" "$G_WORK_DIR/same" && ! grep -q '/s$' "$G_WORK_DIR/c1.changed" && g_say unchanged`,
			want:   map[string]string{"c": "new\n", "s": "same\n"},
			output: "600\nunchanged",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.script, "g_pkg_") {
				requireTool(t, "dpkg-query")
			}
			f := newFakeRun(t)
			for name, content := range tc.files {
				writeFile(t, filepath.Join(f.dir, name), content, 0o644)
			}
			m := Module{Name: "helpers", Controls: []Control{{ID: "helpers.case", Check: tc.script + "\nreturn 0"}}}
			got := byID(f.execute(t, f.plan(ModeEnforce, m)))["helpers.case"]
			if got.Status != StatusPass {
				t.Fatalf("status %s: %s", got.Status, got.Message)
			}
			if got.Evidence != tc.output {
				t.Errorf("output %q, want %q", got.Evidence, tc.output)
			}
			names := make([]string, 0, len(tc.want))
			for name := range tc.want {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				b, err := os.ReadFile(filepath.Join(f.dir, name))
				if tc.want[name] == "" {
					if !os.IsNotExist(err) {
						t.Errorf("%s exists: %q", name, b)
					}
					continue
				}
				if string(b) != tc.want[name] {
					t.Errorf("%s =\n%q\nwant\n%q", name, b, tc.want[name])
				}
			}
		})
	}
}

func TestScriptKilledMidRunIsAnError(t *testing.T) {
	f := newFakeRun(t)
	m := Module{Name: "delta", Controls: []Control{
		{ID: "delta.one", Check: "return 0"},
		{ID: "delta.kill", Check: `kill -9 $$; sleep 1`},
		{ID: "delta.three", Check: "return 0"},
	}}
	_, _, err := f.tryExecute(t, f.plan(ModeAudit, m))
	if err == nil || !strings.Contains(err.Error(), "stopped before it finished: 1 of 3 controls reported, missing delta.kill, delta.three") {
		t.Fatalf("err = %v", err)
	}
}

// The whole catalogue with default options renders into one script that dash parses and
// shellcheck accepts: what the control snippets add must keep the script clean.
func TestFullCatalogueRendersClean(t *testing.T) {
	mods := Modules()
	if len(mods) == 0 {
		t.Skip("no module registered")
	}
	dash := requireTool(t, "dash")
	f := newFakeRun(t)
	p := f.plan(ModeEnforce, mods...)
	p.Params = (&Options{}).ShellParams()
	script, err := Render(p)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(f.work, "full.sh")
	if err := os.WriteFile(path, script, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(dash, "-n", path).CombinedOutput(); err != nil {
		t.Fatalf("dash -n: %v\n%s", err, out)
	}
	// Every severity counts, style and info included, but for the notes shellcheckNotes still
	// accepts in named modules.
	assertShellcheckClean(t, string(script))
}

// TestDriverReportsUsage: the module and end records carry the CPU time the script used (its
// waited-for children included) and the processes the machine started, so a loaded machine still
// shows how much work a run did.
func TestDriverReportsUsage(t *testing.T) {
	f := newFakeRun(t)
	// In order: a module the second shell checked ahead reports no machine counters (its checks
	// ran beside the run's), and on a loaded machine that shell may reach the only module first.
	f.env = []string{"G_CHECK_AHEAD=0"}
	busy := Module{Name: "busy", Controls: []Control{{ID: "busy.spin", Title: "spins in a child",
		Check: `i=0; while [ $i -lt 10 ]; do sh -c 'n=0; while [ $n -lt 20000 ]; do n=$((n + 1)); done'; i=$((i + 1)); done; g_say spun`}}}
	run := f.execute(t, f.plan(ModeAudit, busy))
	if len(run.Modules) != 1 {
		t.Fatalf("modules: %+v", run.Modules)
	}
	m := run.Modules[0]
	if m.CPU <= 0 || run.CPU < m.CPU {
		t.Errorf("CPU: module %v, run %v; want the module > 0 and the run >= the module", m.CPU, run.CPU)
	}
	if _, err := os.Stat("/proc/loadavg"); err == nil {
		// Ten shells, the check's subshell and the driver's own: other processes of the machine
		// may add to it, never take away.
		if m.Processes < 11 || run.Processes < m.Processes {
			t.Errorf("processes: module %d, run %d; want the module >= 11 and the run >= the module", m.Processes, run.Processes)
		}
	}
	if _, err := os.Stat("/sys/fs/cgroup/cpu.stat"); err == nil && m.MachineCPU < 0 {
		t.Errorf("machine CPU unknown although /sys/fs/cgroup/cpu.stat is readable")
	}
}

// gammaModule stages its edits of one file and creates another: the fixes change nothing until the
// driver installs the pending copies before the Finalize, which logs what it sees and fails while
// $T_DIR/gamma.bad exists.
func gammaModule() Module {
	stagedKV := func(key, value string) string {
		return `g_stage "$T_DIR/gamma.conf"
g_kv_edit "$_g_sf" "$_g_sn" ` + key + ` ` + value + ` " " || return 1
g_stage_done "$T_DIR/gamma.conf"`
	}
	return Module{Name: "gamma",
		Finalize: `cat "$T_DIR/gamma.conf" "$T_DIR/gamma.d/new.conf" >>"$T_DIR/../finalize.log"
if [ -f "$T_DIR/gamma.bad" ]; then echo "gamma refused"; exit 1; fi`,
		Controls: []Control{
			{ID: "gamma.one", Title: "One is 1", Check: `g_kv_is "$T_DIR/gamma.conf" One 1`, Fix: stagedKV("One", "1")},
			{ID: "gamma.unstaged", Title: "the fix before saw no change", Check: `g_kv_is "$T_DIR/gamma.conf" Two 2 || ! g_kv_is "$T_DIR/gamma.conf" One 1`},
			{ID: "gamma.two", Title: "Two is 2", Check: `g_kv_is "$T_DIR/gamma.conf" Two 2`, Fix: stagedKV("Two", "2")},
			{ID: "gamma.same", Title: "Three is 3, staged without a change", Check: `g_kv_is "$T_DIR/gamma.conf" Three 4; return 1`,
				Fix: stagedKV("Three", "3")},
			{ID: "gamma.new", Title: "a new file in a new directory", Check: `[ -f "$T_DIR/gamma.d/new.conf" ]`,
				Fix: `g_stage "$T_DIR/gamma.d/new.conf"
echo created >"$_g_sn"
g_stage_done "$T_DIR/gamma.d/new.conf" 0600 "$T_OWNER"`},
		}}
}

func TestDriverInstallsStagedFilesOnceBeforeFinalize(t *testing.T) {
	f := newFakeRun(t)
	conf := filepath.Join(f.dir, "gamma.conf")
	writeFile(t, conf, "Three 3\nOne 0\n", 0o640)
	writeFile(t, filepath.Join(f.dir, "gamma.bad"), "", 0o644)

	// Finalize fails: the module is rolled back, the staged changes never stay.
	run := byID(f.execute(t, f.plan(ModeEnforce, gammaModule())))
	for _, id := range []string{"gamma.one", "gamma.two", "gamma.new"} {
		if r := run[id]; r.Status != StatusFailed || !r.RolledBack || !strings.Contains(r.Message, "gamma refused") {
			t.Errorf("%s: %+v", id, r)
		}
	}
	if got := readFile(t, conf); got != "Three 3\nOne 0\n" {
		t.Errorf("gamma.conf after the rollback: %q", got)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "gamma.d")); !os.IsNotExist(err) {
		t.Errorf("the staged file's new directory survived the rollback (stat: %v)", err)
	}
	if err := os.Remove(filepath.Join(f.dir, "gamma.bad")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(f.work, "finalize.log")); err != nil {
		t.Fatal(err)
	}

	run = byID(f.execute(t, f.plan(ModeEnforce, gammaModule())))
	for _, id := range []string{"gamma.one", "gamma.two", "gamma.new"} {
		if run[id].Status != StatusFixed {
			t.Errorf("%s: %+v", id, run[id])
		}
	}
	// The check between the two fixes read the file itself: the first fix had not changed it.
	if r := run["gamma.unstaged"]; r.Status != StatusPass {
		t.Errorf("gamma.unstaged: %+v", r)
	}
	// Each control lists the file its fix changed; the fix that changed nothing lists none.
	for id, want := range map[string]string{"gamma.one": conf, "gamma.two": conf, "gamma.new": filepath.Join(f.dir, "gamma.d/new.conf")} {
		if !slices.Contains(run[id].Backups, want) {
			t.Errorf("%s lists %v as changed, want %s", id, run[id].Backups, want)
		}
	}
	if b := run["gamma.same"].Backups; len(b) != 0 {
		t.Errorf("gamma.same changed nothing but lists %v", b)
	}
	// The Finalize saw both edits installed, and the file kept its mode; the new file has its own.
	if got, want := readFile(t, filepath.Join(f.work, "finalize.log")), "Three 3\nOne 1\nTwo 2\ncreated\n"; got != want {
		t.Errorf("the Finalize saw %q, want %q", got, want)
	}
	for path, want := range map[string]os.FileMode{conf: 0o640, filepath.Join(f.dir, "gamma.d/new.conf"): 0o600} {
		if info, err := os.Stat(path); err != nil || info.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, info.Mode().Perm(), err, want)
		}
	}
}

// A module's results reach the build as soon as the module ends, not when the run ends: the
// build prints them as progress. The second module's check waits until the test has read the
// first module's result from the script's output; without streaming it never sees it and fails
// after its wait.
func TestDriverStreamsEachModulesResultsWhenItEnds(t *testing.T) {
	f := newFakeRun(t)
	seen := filepath.Join(f.dir, "first-result-seen")
	first := Module{Name: "epsilon", Controls: []Control{{ID: "epsilon.first", Check: "return 0"}}}
	second := Module{Name: "zeta", Controls: []Control{
		{ID: "zeta.second", Check: `i=0
while [ ! -e "$T_DIR/first-result-seen" ]; do
	i=$((i + 1))
	[ "$i" -le 100 ] || return 1
	sleep 0.05
done
return 0`},
	}}
	f.onResult = func(r Result) {
		if r.ID == "epsilon.first" {
			writeFile(t, seen, "", 0o644)
		}
	}
	run := f.execute(t, f.plan(ModeAudit, first, second))
	if r := byID(run)["zeta.second"]; r.Status != StatusPass {
		t.Errorf("the first module's result reached the build only after the second module's check: %+v", r)
	}
}

// Each module's report holds its own Finalize's output, although the stream formats a record
// after the driver wrote it, when the next module may already have finalized.
func TestDriverReportsEachModulesOwnFinalizeOutput(t *testing.T) {
	f := newFakeRun(t)
	module := func(name string) Module {
		return Module{Name: name, Finalize: "\techo finalized " + name, Controls: []Control{{
			ID:    name + ".flag",
			Check: `[ -f "$T_DIR/` + name + `.flag" ]`,
			Fix:   `: >"$T_DIR/` + name + `.flag"`,
		}}}
	}
	names := []string{"eta", "theta", "iota"}
	var mods []Module
	for _, n := range names {
		mods = append(mods, module(n))
	}
	run := f.execute(t, f.plan(ModeEnforce, mods...))
	if len(run.Modules) != len(names) {
		t.Fatalf("modules %+v", run.Modules)
	}
	for i, m := range run.Modules {
		if m.Name != names[i] || m.Finalize != "ok" || strings.TrimSpace(m.Message) != "finalized "+names[i] {
			t.Errorf("module %d: %+v, want %s's own Finalize output", i, m, names[i])
		}
	}
}

// requireTwoCPUs skips a test of checking ahead where the driver does not check ahead.
func requireTwoCPUs(t *testing.T) {
	t.Helper()
	out, err := exec.Command("getconf", "_NPROCESSORS_ONLN").Output()
	if n, _ := strconv.Atoi(strings.TrimSpace(string(out))); err != nil || n < 2 {
		t.Skip("the driver checks ahead only on a machine with two CPUs or more")
	}
}

// aheadModules are two modules for the tests of checking ahead: the first one's check passes
// only once the second shell has checked the second module (waitForLambdaCheck, up to 3 s),
// which only checking ahead does before the first module ends. Every run of the second check adds
// a line to checks.log.
func aheadModules(first Control) (Module, Module) {
	return Module{Name: "kappa", Controls: []Control{first}},
		Module{Name: "lambda", Controls: []Control{{ID: "lambda.quiet", Title: "quiet.flag is absent",
			Check: `echo run >>"$T_DIR/../checks.log"
[ ! -e "$T_DIR/quiet.flag" ] || { g_say "quiet.flag is there"; return 1; }
g_say "quiet.flag is absent"`},
			{ID: "lambda.na", Title: "not here", Check: "g_say 'no such service here'\nreturn 2"},
			{ID: "lambda.boot", Title: "next boot", Check: "g_say 'in force after the next boot'\nreturn 3"},
		}}
}

// hardenedBefore leaves an earlier run's backup folder where the fake run keeps its backups, as
// a machine that golden-harden hardened before holds one.
func hardenedBefore(t *testing.T, f *fakeRun) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(f.backups, "earlier-run"), 0o700); err != nil {
		t.Fatal(err)
	}
}

// waitForLambdaCheck waits until the second shell has finished the second module (its results are
// complete, m2.done): only then does the run take them rather than check the module again, and
// on a loaded machine the run can reach it first.
const waitForLambdaCheck = `i=0
while [ ! -e "$G_WORK_DIR/ahead/m2.done" ]; do
	i=$((i + 1))
	[ "$i" -le 60 ] || { g_say "lambda was not checked ahead"; return 1; }
	sleep 0.05
done
`

// A re-run (the machine holds an earlier run's backups) or an audit where every check passes takes
// the later modules' results from the second shell: the first module's check sees the second
// module checked before it ends, the second check runs once, and its result and evidence are the
// check's. A first run, or one with checking ahead switched off, checks in order: the same first
// control fails.
func TestDriverChecksLaterModulesAhead(t *testing.T) {
	requireTwoCPUs(t)
	first := Control{ID: "kappa.waits", Title: "waits for lambda", Check: waitForLambdaCheck + `g_say "lambda checked"`}
	for _, c := range []struct {
		name   string
		ahead  bool
		mode   Mode
		before bool // an earlier run's backups on the machine
		env    []string
	}{
		{"re-run", true, ModeEnforce, true, nil},
		{"audit", true, ModeAudit, false, nil},
		{"first run", false, ModeEnforce, false, nil},
		{"switched off", false, ModeEnforce, true, []string{"G_CHECK_AHEAD=0"}},
	} {
		f := newFakeRun(t)
		f.env = c.env
		if c.before {
			hardenedBefore(t, f)
		}
		kappa, lambda := aheadModules(first)
		run := f.execute(t, f.plan(c.mode, kappa, lambda))
		got := byID(run)
		if !c.ahead {
			if got["kappa.waits"].Status != StatusFailed {
				t.Errorf("%s: without checking ahead the first check should give up: %+v", c.name, got["kappa.waits"])
			}
			continue
		}
		if r := got["kappa.waits"]; r.Status != StatusPass {
			t.Errorf("%s: the second module was not checked while the first ran: %+v", c.name, r)
		}
		if r := got["lambda.quiet"]; r.Status != StatusPass || r.Before != StatusPass || strings.TrimSpace(r.Evidence) != "quiet.flag is absent" {
			t.Errorf("%s: lambda.quiet %+v, want the check's pass and evidence", c.name, r)
		}
		if r := got["lambda.na"]; r.Status != StatusSkipped || r.Before != StatusSkipped || strings.TrimSpace(r.Message) != "no such service here" {
			t.Errorf("%s: lambda.na %+v, want skipped with the check's reason", c.name, r)
		}
		if r := got["lambda.boot"]; r.Status != StatusPass || !r.NextBoot || strings.TrimSpace(r.Evidence) != "in force after the next boot" {
			t.Errorf("%s: lambda.boot %+v, want pass in force after the next boot", c.name, r)
		}
		if log := readFile(t, filepath.Join(f.work, "checks.log")); log != "run\n" {
			t.Errorf("%s: the second module's check ran %q times, want once", c.name, log)
		}
		if len(run.Modules) != 2 || run.Modules[1].Name != "lambda" || run.Modules[1].Finalize != "not_needed" {
			t.Errorf("%s: modules %+v", c.name, run.Modules)
		}
	}
}

// From the first fix on, what the second shell saw is not used: the first module's fix writes the
// file the second module's check looks for after that check ran ahead (and passed), and the second
// module is checked again and reported failing, as the machine now is.
func TestDriverDropsWhatWasCheckedAheadAfterAFix(t *testing.T) {
	requireTwoCPUs(t)
	first := Control{ID: "kappa.flag", Title: "quiet.flag written",
		Check: waitForLambdaCheck + `[ -e "$T_DIR/quiet.flag" ]`,
		Fix:   `: >"$T_DIR/quiet.flag"`}
	f := newFakeRun(t)
	hardenedBefore(t, f)
	kappa, lambda := aheadModules(first)
	run := f.execute(t, f.plan(ModeEnforce, kappa, lambda))
	got := byID(run)
	if r := got["kappa.flag"]; r.Status != StatusFixed {
		t.Errorf("kappa.flag %+v, want fixed", r)
	}
	if r := got["lambda.quiet"]; r.Status != StatusFailed || strings.TrimSpace(r.Evidence) != "quiet.flag is there" {
		t.Errorf("lambda.quiet %+v, want failed: checked again after the fix", r)
	}
	if log := readFile(t, filepath.Join(f.work, "checks.log")); log != "run\nrun\n" {
		t.Errorf("the second module's check ran %q times, want twice (ahead, then after the fix)", log)
	}
}

// A failing control without a fix changes nothing: the later modules' results still come from
// the second shell.
func TestDriverChecksAheadPastAControlWithoutAFix(t *testing.T) {
	requireTwoCPUs(t)
	f := newFakeRun(t)
	hardenedBefore(t, f)
	kappa, lambda := aheadModules(Control{ID: "kappa.manual", Title: "needs a person",
		Check: waitForLambdaCheck + `g_say "not compliant"; return 1`})
	run := f.execute(t, f.plan(ModeEnforce, kappa, lambda))
	got := byID(run)
	if r := got["kappa.manual"]; r.Status != StatusFailed || !strings.Contains(r.Evidence, "not compliant") {
		t.Errorf("kappa.manual %+v, want failed with its check's evidence", r)
	}
	if r := got["lambda.quiet"]; r.Status != StatusPass {
		t.Errorf("lambda.quiet %+v, want pass", r)
	}
	if log := readFile(t, filepath.Join(f.work, "checks.log")); log != "run\n" {
		t.Errorf("the second module's check ran %q times, want once (ahead)", log)
	}
}

// backgroundModules are two modules for the tests of finishing beside the run: the first one
// (Background) fixes mu.conf through g_write_file, and its Finalize passes only once the second
// module's check has run (it waits up to 3 s for the file that check leaves), which happens before
// it ends only when the Finalize runs beside the second module; it then spends some CPU of its own,
// which the module's usage must show. failFinalize makes the Finalize
// fail after that wait.
func backgroundModules(failFinalize bool) (Module, Module) {
	fin := `i=0
while [ ! -e "$T_DIR/../nu-checked" ]; do
	i=$((i + 1))
	[ "$i" -le 60 ] || { echo "nu was not checked beside this Finalize"; return 1; }
	sleep 0.05
done
# CPU of its own until the kernel counts two clock ticks of it (utime and stime, fields 14 and 15
# of stat): the module's CPU is then more than the rounding of a tick, however fast the machine.
# Without a stat to read it fails, rather than spin.
while :; do
	read -r st </proc/self/stat || { echo "no /proc/self/stat"; return 1; }
	set -- ${st##*) }
	[ "$((${12} + ${13}))" -lt 2 ] || break
done
echo "finalized mu"`
	if failFinalize {
		fin += "\necho 'the daemon refused it'; return 1"
	}
	return Module{Name: "mu", Background: true, Finalize: fin, Controls: []Control{{ID: "mu.conf", Title: "mu.conf exists",
			Check: `[ -f "$T_DIR/mu.conf" ] || { g_say "mu.conf is missing"; return 1; }
g_say "mu.conf is there"`,
			Fix: `printf 'on\n' | g_write_file "$T_DIR/mu.conf" 0644 "$T_OWNER"`}}},
		Module{Name: "nu", Controls: []Control{{ID: "nu.quiet", Title: "checked", Check: `: >"$T_DIR/../nu-checked"
g_say "checked"`}}}
}

// A Background module's Finalize and re-check run while the run goes on with the next module: its
// Finalize sees the next module checked, its control is reported fixed after the re-check, and
// the run ends only after it. Switched off, the same Finalize runs first and gives up.
func TestDriverFinishesABackgroundModuleBesideTheNext(t *testing.T) {
	requireTwoCPUs(t)
	for _, c := range []struct {
		name   string
		beside bool
		env    []string
	}{
		{"beside", true, nil},
		{"switched off", false, []string{"G_FINISH_BESIDE=0"}},
	} {
		f := newFakeRun(t)
		f.env = c.env
		mu, nu := backgroundModules(false)
		run := f.execute(t, f.plan(ModeEnforce, mu, nu))
		got := byID(run)
		mods := map[string]ModuleRun{}
		for _, m := range run.Modules {
			mods[m.Name] = m
		}
		if r := got["nu.quiet"]; r.Status != StatusPass {
			t.Errorf("%s: nu.quiet %+v, want pass", c.name, r)
		}
		if !c.beside {
			if r := got["mu.conf"]; r.Status != StatusFailed || !r.RolledBack {
				t.Errorf("%s: mu.conf %+v, want failed and rolled back: the Finalize ran before the next module", c.name, r)
			}
			continue
		}
		if r := got["mu.conf"]; r.Status != StatusFixed || r.Before != StatusFailed || strings.TrimSpace(r.Evidence) != "mu.conf is there" {
			t.Errorf("%s: mu.conf %+v, want fixed with the re-check's evidence", c.name, r)
		}
		if m := mods["mu"]; m.Finalize != "ok" || strings.TrimSpace(m.Message) != "finalized mu" || m.Usage.MachineCPU != -1 || m.Usage.Processes != -1 || m.Usage.CPU <= 0 {
			t.Errorf("%s: module mu %+v, want its Finalize's output, its CPU and no machine counters", c.name, m)
		}
		if len(run.Modules) != 2 {
			t.Errorf("%s: modules %+v", c.name, run.Modules)
		}
	}
}

// A Background module whose Finalize fails is rolled back beside the run, as in order: its file is
// restored (here: removed, it did not exist) and its control reported failed with the Finalize's
// output.
func TestDriverRollsBackABackgroundModuleBesideTheNext(t *testing.T) {
	requireTwoCPUs(t)
	f := newFakeRun(t)
	mu, nu := backgroundModules(true)
	run := f.execute(t, f.plan(ModeEnforce, mu, nu))
	got := byID(run)
	if r := got["mu.conf"]; r.Status != StatusFailed || !r.RolledBack || !strings.Contains(r.Message, "the daemon refused it") {
		t.Errorf("mu.conf %+v, want failed, rolled back, with the Finalize's output", r)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "mu.conf")); !os.IsNotExist(err) {
		t.Errorf("mu.conf was not removed by the rollback (stat: %v)", err)
	}
	if r := got["nu.quiet"]; r.Status != StatusPass {
		t.Errorf("nu.quiet %+v, want pass", r)
	}
}

// Settings and a flag line that fixes of one module stage in the same file (g_stage_kv,
// g_stage_line, as pam's pwquality.conf fixes do) all reach the file, installed once before the
// Finalize with the file's own mode: had one fix written the file directly, the install of the
// pending copy would have dropped its change.
func TestDriverStagesSettingsAndLinesOfOneFile(t *testing.T) {
	f := newFakeRun(t)
	conf := filepath.Join(f.dir, "quality.conf")
	if err := os.WriteFile(conf, []byte("# quality\nminlen = 8\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	kv := func(id, key, val string) Control {
		return Control{ID: "xi." + id, Title: id,
			Check: `grep -qx '` + key + ` = ` + val + `' "$T_DIR/quality.conf" || { g_say "` + key + ` not ` + val + `"; return 1; }`,
			Fix:   `g_stage_kv "$T_DIR/quality.conf" ` + key + ` ` + val + ` ' = '`}
	}
	flag := Control{ID: "xi.flag", Title: "flag",
		Check: `grep -qx enforce_for_root "$T_DIR/quality.conf" || { g_say "no flag"; return 1; }`,
		Fix:   `g_stage_line "$T_DIR/quality.conf" enforce_for_root`}
	mod := Module{Name: "xi", Finalize: `cat "$T_DIR/quality.conf" >"$T_DIR/../at-finalize"`,
		Controls: []Control{kv("minlen", "minlen", "14"), flag, kv("difok", "difok", "2")}}
	run := f.execute(t, f.plan(ModeEnforce, mod))
	for _, r := range run.Results {
		if r.Status != StatusFixed {
			t.Errorf("%s: %+v, want fixed", r.ID, r)
		}
	}
	want := "# quality\nminlen = 14\nenforce_for_root\ndifok = 2\n"
	if got := readFile(t, conf); got != want {
		t.Errorf("quality.conf:\n%s\nwant:\n%s", got, want)
	}
	if got := readFile(t, filepath.Join(f.work, "at-finalize")); got != want {
		t.Errorf("the Finalize saw:\n%s\nwant every staged change installed before it", got)
	}
	if st, err := os.Stat(conf); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("quality.conf mode %v (%v), want its own 0640", st.Mode().Perm(), err)
	}
}
