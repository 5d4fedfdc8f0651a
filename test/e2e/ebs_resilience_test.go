package e2e

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestEBSThrottledBuild: with 30% of every AWS call throttled, a build succeeds (adaptive
// retries, 10 attempts by default) and still leaves nothing behind.
func TestEBSThrottledBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	b := newSSHBuild(t, quickDelays, "")
	b.sim.Throttle(30)
	res := b.p.Run(t, b.args()...)
	if res.ExitCode != 0 {
		t.Fatalf("the throttled build exited %d:\n%s", res.ExitCode, res.Output)
	}
	requireClean(t, b.sim, res)
	retries := 0
	for action := range b.sim.CallCounts() {
		retries += b.sim.Retries(action)
	}
	if retries == 0 {
		t.Errorf("no call was retried: the throttling did not bite")
	}
	t.Logf("%d calls retried after throttling", retries)
}

// imageDelay is how long the simulator takes to make the image in TestEBSSlowImage:
// GOLDEN_E2E_IMAGE_DELAY (a Go duration), two minutes by default.
func imageDelay(t *testing.T) time.Duration {
	if v := os.Getenv("GOLDEN_E2E_IMAGE_DELAY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("GOLDEN_E2E_IMAGE_DELAY: %v", err)
		}
		return d
	}
	return 2 * time.Minute
}

// TestEBSSlowImage: an image that takes minutes to be available is waited for, with a progress
// line at least every 30 seconds, not a silent wait.
func TestEBSSlowImage(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	delay := imageDelay(t)
	delays := quickDelays
	delays.ImagePending = delay
	b := newSSHBuild(t, delays, "")
	res := b.p.Run(t, b.args()...)
	if res.ExitCode != 0 {
		t.Fatalf("the build exited %d:\n%s", res.ExitCode, res.Output)
	}
	requireClean(t, b.sim, res)
	progress := regexp.MustCompile(`AMI ami-[0-9a-f]+ to be available: pending after (\d+m)?\d+s`).FindAllString(res.Output, -1)
	// A line when the wait starts, then one per 30 seconds the image stays pending.
	if want := int((delay-time.Second)/(30*time.Second)) + 1; len(progress) < want {
		t.Errorf("%d progress lines while the image was pending for %s, want at least %d:\n%s", len(progress), delay, want, res.Output)
	}
	if !regexp.MustCompile(`AMI ami-[0-9a-f]+ to be available: available after`).MatchString(res.Output) {
		t.Errorf("no line says how long the image took:\n%s", res.Output)
	}
}

// TestEBSSecretsNeverShown: the access key, secret key and session token of the template and the
// temporary private key appear neither in packer's output nor in its PACKER_LOG=1 log (the
// plugin's log included), nor in the manifest of the artifact.
func TestEBSSecretsNeverShown(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	const (
		accessKey = "AKIAGOLDENSECRETTEST"
		secretKey = "wJalrXUtnFEMIgoldenK7MDENGbPxRfiCYSECRETKEY"
		token     = "IQoJb3JpZ2luX2VjEGOLDENSESSIONTOKENtest"
	)
	b := newSSHBuild(t, quickDelays, `  access_key = "`+accessKey+`"
  secret_key = "`+secretKey+`"
  token      = "`+token+`"`)
	b.p.Setenv("PACKER_LOG", "1")
	file := b.p.WriteFile(t, "build.pkr.hcl", strings.Replace(b.p.ReadFile(t, "build.pkr.hcl"),
		"  provisioner \"shell-local\" {", `  post-processor "manifest" {
    output = "manifest.json"
  }

  provisioner "shell-local" {`, 1))
	res := b.p.Run(t, "build", "-color=false", file)
	if res.ExitCode != 0 {
		t.Fatalf("the build exited %d:\n%s", res.ExitCode, res.Output)
	}
	requireClean(t, b.sim, res)
	manifest := b.p.ReadFile(t, "manifest.json")
	if !strings.Contains(manifest, `"artifact_id": "us-east-1:ami-`) {
		t.Fatalf("the manifest does not hold the artifact:\n%s", manifest)
	}
	if !strings.Contains(res.Output, "[INFO] Packer version") || !strings.Contains(res.Output, "packer-plugin-golden") {
		t.Fatalf("the output holds no PACKER_LOG log of packer and the plugin:\n%s", res.Output)
	}
	for _, where := range []struct{ name, text string }{{"output and log", res.Output}, {"manifest", manifest}} {
		for _, secret := range []string{accessKey, secretKey, token, "PRIVATE KEY"} {
			if strings.Contains(where.text, secret) {
				t.Errorf("the %s shows %q", where.name, secret)
			}
		}
	}
}
