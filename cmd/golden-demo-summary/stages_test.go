package main

import (
	"strings"
	"testing"
	"time"
)

// packerLog is the shape of `packer build -timestamp-ui` output: stamps before TargetedUI's
// "==> BUILD: " (Say) and "    BUILD: " (Message) prefixes, colour codes around a whole line when
// the output is a terminal, and multi-line messages stamped once.
const packerLog = `2026-12-03T10:00:00Z: ==> golden-demo.golden-ebs.ubuntu: Source AMI: ami-0aa (ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240301)
2026-12-03T10:00:05Z: ==> golden-demo.golden-ebs.ubuntu: Running local shell script: /tmp/packer-shell1
2026-12-03T10:00:40Z: ==> golden-demo.golden-ebs.ubuntu: Provisioning with shell script: /src/example/scripts/wait-cloud-init.sh
2026-12-03T10:00:41Z:     golden-demo.golden-ebs.ubuntu: Provisioning with shell script: printed by a script
2026-12-03T10:00:42Z: ==> golden-demo.golden-ebs.ubuntu: Provisioning with shell script: /src/example/scripts/essential-packages.sh
2026-12-03T10:02:00Z: ` + "\x1b[1;32m" + `==> golden-demo.golden-ebs.ubuntu: golden-harden: enforce mode, profile cis-level1-server, 190 controls in 20 modules on ubuntu 22.04 as ubuntu` + "\x1b[0m" + `
==> golden-demo.golden-ebs.ubuntu: a second line of the same message
2026-12-03T10:05:00Z: ==> golden-demo.golden-ebs.ubuntu: Provisioning with shell script: /src/example/scripts/cleanup.sh
2026-12-03T10:05:10Z: ==> golden-demo.golden-ebs.ubuntu: Removing the temporary key from authorized_keys
2026-12-03T10:05:30Z: ==> golden-demo.golden-ebs.ubuntu: AMI ami-0bb (golden-demo-ubuntu-22.04-1) is ready in us-east-1
2026-12-03T10:05:40Z: ==> golden-demo.golden-ebs.ubuntu: Running post-processor:  (type manifest)
2026-12-03T10:05:41Z: ==> golden-demo.golden-ebs.ubuntu: Running post-processor:  (type golden-validate)
2026-12-03T10:06:30Z: ==> golden-demo.golden-ebs.ubuntu: golden-harden: audit mode, profile cis-level1-server, 190 controls in 20 modules on ubuntu 22.04 as ubuntu
2026-12-03T10:07:00Z: ==> golden-demo.golden-ebs.ubuntu: Running post-processor: publish (type golden-lifecycle)
2026-12-03T10:07:20Z: Build 'golden-demo.golden-ebs.ubuntu' finished after 7 minutes 20 seconds.
not a stamped line
`

func TestParseStages(t *testing.T) {
	stages, err := ParseStages(strings.NewReader(packerLog))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name    string
		elapsed time.Duration
	}{
		{"golden-ebs: launch and connect", 40 * time.Second},
		{"shell: wait-cloud-init.sh, essential-packages.sh", 80 * time.Second},
		{"golden-harden", 3 * time.Minute},
		{"shell: cleanup.sh", 10 * time.Second},
		{"golden-ebs: capture the AMI", 30 * time.Second},
		{"manifest", time.Second},
		// golden-validate's hardening audit is part of golden-validate.
		{"golden-validate", 79 * time.Second},
		{"golden-lifecycle", 20 * time.Second},
	}
	if len(stages) != len(want) {
		t.Fatalf("stages %+v, want %d", stages, len(want))
	}
	var total time.Duration
	for i, w := range want {
		if stages[i].Name != w.name || stages[i].Elapsed != w.elapsed {
			t.Errorf("stage %d = %s %s, want %s %s", i, stages[i].Name, stages[i].Elapsed, w.name, w.elapsed)
		}
		total += stages[i].Elapsed
	}
	if total != 7*time.Minute+20*time.Second {
		t.Errorf("stages add up to %s, want the build's 7m20s", total)
	}
}

func TestParseStagesWithoutStamps(t *testing.T) {
	stages, err := ParseStages(strings.NewReader("==> golden-demo.golden-ebs.ubuntu: Provisioning with shell script: x.sh\n"))
	if err != nil || len(stages) != 0 {
		t.Errorf("output without -timestamp-ui: stages %v, error %v; want none", stages, err)
	}
}
