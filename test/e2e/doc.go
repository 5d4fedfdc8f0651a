// Package e2e holds the end-to-end tests: the real packer binary with this plugin installed in
// private folders, the AWS simulator (internal/ec2sim) on the loopback, and Debian 12 targets
// reached over SSH (test/target/target.sh), all driven through the harness in test/e2e/lab.
//
// One file per component: lab_test.go (the lab itself), datasource_ami_test.go, harden_test.go,
// lifecycle_test.go... TestMain lives in lab_test.go. Every test skips under `go test -short`;
// a test that needs a target fails with the reason on a machine that cannot run one, unless
// GOLDEN_SKIP_LAB=1 opts out. See docs/test-lab.md.
package e2e
