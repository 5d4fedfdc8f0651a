package lab

import (
	"os"
	"path/filepath"
	"testing"
)

// TestVMKernelProbe holds the probe that decides between KVM and software emulation to what it
// must tell apart: the VM image's kernel prints its banner under software emulation, a file that
// is not a kernel prints none, and the accelerator picked is KVM only with a model the probe
// passed. In the VM suite only (make e2e-vm): it needs qemu and the VM image.
func TestVMKernelProbe(t *testing.T) {
	RequireVMSuite(t)
	kernel := filepath.Join(vmImage(t, "debian-12"), "vmlinuz")
	if !kernelBoots("tcg", "max", kernel) {
		t.Errorf("%s printed no banner under software emulation within %s", kernel, kvmProbeWait)
	}
	notKernel := filepath.Join(t.TempDir(), "vmlinuz")
	if err := os.WriteFile(notKernel, []byte("not a kernel\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if kernelBoots("tcg", "max", notKernel) {
		t.Errorf("a file that is not a kernel passed the probe")
	}
	switch accel, cpu := vmAccel(kernel); {
	case accel == "tcg" && cpu == "max":
		t.Logf("software emulation: KVM absent or its guests do not boot here")
	case accel == "kvm" && kernelBoots(accel, cpu, kernel):
		t.Logf("KVM with -cpu %s", cpu)
	default:
		t.Errorf("vmAccel picked %s with -cpu %s, which the probe does not pass", accel, cpu)
	}
}
