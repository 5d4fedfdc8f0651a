package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{nil, ""},
		{[]string{"-listen", "[::1]:0", "-image-pending", "10ms"}, ""},
		{[]string{"-listen", "0.0.0.0:4566"}, "not a loopback address"},
		{[]string{"-listen", "0.0.0.0:4566", "-allow-remote"}, ""},
		{[]string{"-listen", "localhost"}, "missing port"},
		{[]string{"-instance-address", "target"}, "not an IP address"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-lab-dir", "/srv/lab"}, "-lab-dir needs -machines"},
		{[]string{"-machines"}, ""}, // the checkout above this package's folder
		{[]string{"-machines", "-imds-listen", "0.0.0.0:8080"}, "-imds-listen \"0.0.0.0:8080\" is not a loopback address"},
		{[]string{"-machines", "-imds-listen", "8080"}, "-imds-listen \"8080\""},
		{[]string{"-machines", "-lab-repo", t.TempDir()}, "no test/target/target.sh there"},
	} {
		o, err := parseFlags(tc.args, io.Discard)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.wantErr)
		}
		if tc.args == nil && (o.listen != "127.0.0.1:4566" || o.instanceAddress != "127.0.0.1") {
			t.Errorf("defaults %+v", o)
		}
	}
}

// TestRunServesSeedAndStops starts the command on a free port with a seed file, asks it for a
// seeded image, and stops it the way a signal would.
func TestRunServesSeedAndStops(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seed, []byte(`{"regions":{"us-east-1":{"images":[{"id":"ami-0123456789abcdef0","name":"golden-seeded"}]}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-seed", seed, "-quiet"}, w, io.Discard)
		w.Close()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	url := strings.TrimSpace(strings.TrimPrefix(line, "golden-awssim listening on "))
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line %q", line)
	}
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader("Action=DescribeImages&Version=2016-11-15&ImageId.1=ami-0123456789abcdef0"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDSIMULATOR/20240101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "<name>golden-seeded</name>") {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop")
	}
}

func TestRunRejectsBadSeed(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seed, []byte(`{"regions":{"moon-1":{}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"-listen", "127.0.0.1:0", "-seed", seed}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `unknown region "moon-1"`) {
		t.Fatalf("error %v", err)
	}
}
