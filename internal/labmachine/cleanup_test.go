package labmachine

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/labmachine/imdstest"
)

// helperEnv makes the test binary run TestOwnerHelper as a process that owns machines.
const helperEnv = "GOLDEN_LABMACHINE_OWNER_HELPER"

// TestOwnerHelper is not a test: run by TestKilledOwnerLeavesNothing in a process of its own, it
// boots a running and a stopped machine and captures a layer, prints what it made, and waits to
// be killed.
func TestOwnerHelper(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process of TestKilledOwnerLeavesNothing")
	}
	h, err := New(Options{RepoRoot: repoRoot(t)})
	if err != nil {
		t.Fatal(err)
	}
	imds := imdstest.Start(t)
	running := launch(t, h, imds, "debian-12", nil)
	stopped := launch(t, h, imds, "debian-12", nil)
	running.waitBooted(t)
	stopped.waitBooted(t)
	layer, err := running.CaptureDisk(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := stopped.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("MACHINE %s %s\nMACHINE %s %s\nLAYER %s\nREADY\n", running.Name(), running.dir, stopped.Name(), stopped.dir, layer)
	time.Sleep(time.Hour)
}

// TestKilledOwnerLeavesNothing kills (SIGKILL) a process that owns a running machine, a stopped
// one and a layer, and checks that the lab removes all of it: no machine process, mount, veth,
// nft table, DHCP server, slot record, machine folder or layer.
func TestKilledOwnerLeavesNothing(t *testing.T) {
	requireLab(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestOwnerHelper$", "-test.v", "-test.timeout=20m")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	var dirs, names, layers, slots []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "MACHINE" {
			names, dirs = append(names, f[1]), append(dirs, f[2])
			slot, err := os.ReadFile(filepath.Join(f[2], "slot"))
			if err != nil {
				t.Fatal(err)
			}
			slots = append(slots, strings.TrimSpace(string(slot)))
		}
		if len(f) == 2 && f[0] == "LAYER" {
			layers = append(layers, f[1])
		}
		if len(f) == 1 && f[0] == "READY" {
			break
		}
	}
	if len(names) != 2 || len(layers) != 1 {
		t.Fatalf("the helper did not get its machines up (machines %v, layers %v)", names, layers)
	}
	labDir := filepath.Dir(filepath.Dir(dirs[0]))
	layerDir := filepath.Join(labDir, "layers", layers[0])
	if _, err := os.Stat(layerDir); err != nil {
		t.Fatalf("the helper's layer: %v", err)
	}
	killed := time.Now()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	var left []string
	deadline := time.Now().Add(2 * time.Minute)
	for {
		left = leftovers(dirs, names, slots, layerDir)
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(left) > 0 {
		t.Fatalf("%s after the owner was killed, still there:\n%s", time.Since(killed).Round(time.Second), strings.Join(left, "\n"))
	}
	t.Logf("everything gone %s after the owner was killed", time.Since(killed).Round(100*time.Millisecond))
}

// leftovers lists what remains of the machines (folders, names, address slots) and the layer.
func leftovers(dirs, names, slots []string, layerDir string) []string {
	var left []string
	exists := func(path, what string) {
		if _, err := os.Stat(path); err == nil {
			left = append(left, what+": "+path)
		}
	}
	exists(layerDir, "layer")
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	for i, dir := range dirs {
		exists(dir, "machine folder")
		if strings.Contains(string(mounts), dir) {
			left = append(left, "mount below "+dir)
		}
		exists("/sys/class/net/glab"+slots[i], "veth")
		exists("/run/golden-lab/slots/"+slots[i], "slot record")
		if out, _ := exec.Command("nft", "list", "table", "inet", "golden-lab-"+slots[i]).CombinedOutput(); !strings.Contains(string(out), "No such file") {
			left = append(left, "nft table golden-lab-"+slots[i])
		}
		procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		for _, p := range procs {
			data, _ := os.ReadFile(p)
			cmdline := strings.ReplaceAll(string(data), "\x00", " ")
			if strings.Contains(cmdline, names[i]) || strings.Contains(cmdline, dir+"/") {
				left = append(left, "process "+filepath.Base(filepath.Dir(p))+": "+cmdline)
			}
		}
	}
	return left
}
