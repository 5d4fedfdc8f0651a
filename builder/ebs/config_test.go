package ebs

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/template/config"
)

func minimal() map[string]any {
	return map[string]any{"region": "us-east-1", "source_os": "ubuntu-22.04", "instance_type": "t3.small", "ami_name": "golden-test"}
}

func with(extra map[string]any) map[string]any {
	raw := minimal()
	for k, v := range extra {
		if v == nil {
			delete(raw, k)
			continue
		}
		raw[k] = v
	}
	return raw
}

func TestPrepareDefaults(t *testing.T) {
	var b Builder
	names, _, err := b.Prepare(minimal())
	if err != nil {
		t.Fatal(err)
	}
	c := b.config
	checks := map[string]bool{
		"ssh_username from source_os":     c.Comm.SSHUsername == "ubuntu",
		"ssh_clear_authorized_keys on":    c.Comm.SSHClearAuthorizedKeys,
		"gp3 root":                        c.RootVolume.VolumeType == "gp3",
		"encrypted root":                  c.RootVolume.Encrypted == config.TriTrue,
		"IMDSv2 on the instance":          c.MetadataOptions.HTTPTokens == "required" && c.MetadataOptions.HTTPEndpoint == "enabled",
		"IMDSv2 on the image":             c.IMDSSupport == "v2.0",
		"hop limit 1":                     c.MetadataOptions.HTTPPutResponseHopLimit == 1,
		"sweep on":                        c.SweepOrphans.True(),
		"6h ttl":                          c.TemporaryResourcesTTL == 6*time.Hour,
		"10 attempts":                     c.MaxRetries == 9,
		"ssh communicator":                c.Comm.Type == "ssh" && c.Comm.SSHPort == 22,
		"amazon-ebs generated data names": strings.Join(names, ",") == "SourceAMIName,BuildRegion,SourceAMI,SourceAMICreationDate,SourceAMIOwner,SourceAMIOwnerName,SourceAMIDescription",
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("default %s does not hold: %+v", what, c)
		}
	}
}

func TestPrepareKeepsAuthorizedKeysWhenAsked(t *testing.T) {
	var b Builder
	if _, _, err := b.Prepare(with(map[string]any{"ssh_clear_authorized_keys": false})); err != nil {
		t.Fatal(err)
	}
	if b.config.Comm.SSHClearAuthorizedKeys {
		t.Error("ssh_clear_authorized_keys = false was overridden")
	}
}

func TestPrepareAcceptsAnEd25519TemporaryKey(t *testing.T) {
	var b Builder
	if _, _, err := b.Prepare(with(map[string]any{"temporary_key_pair_type": "ed25519"})); err != nil {
		t.Fatalf("temporary_key_pair_type = ed25519, what the run makes anyway, was refused: %v", err)
	}
}

func TestPrepareErrorsNameTheOption(t *testing.T) {
	tests := []struct {
		name string
		raw  map[string]any
		want []string
	}{
		{"no source", with(map[string]any{"source_os": nil}), []string{"source_ami, source_ami_filter, source_ami_ssm_parameter or source_os: one is required"}},
		{"two sources", with(map[string]any{"source_ami": "ami-0a1b2c3d4e5f60718"}), []string{"source_ami, source_os: set only one of them"}},
		{"filter without owners", with(map[string]any{"source_os": nil, "source_ami_filter": map[string]any{"filters": map[string]string{"name": "ubuntu/*"}}}),
			[]string{"source_ami_filter.owners: required"}},
		{"bad owner", with(map[string]any{"source_os": nil, "source_ami_filter": map[string]any{"filters": map[string]string{"name": "x"}, "owners": []string{"someone"}}}),
			[]string{`source_ami_filter.owners: "someone"`}},
		{"unknown source_os", with(map[string]any{"source_os": "windows-11"}), []string{`source_os: "windows-11" is not one of al2023, debian-12, debian-13, ubuntu-22.04, ubuntu-24.04, ubuntu-26.04`}},
		{"bad ami id", with(map[string]any{"source_os": nil, "source_ami": "ami-123"}), []string{`source_ami: "ami-123" is not an AMI id`}},
		{"bad ami name", with(map[string]any{"ami_name": "golden:{bad}"}), []string{`ami_name: "golden:{bad}" must be 3 to 128 characters`}},
		{"short ami name", with(map[string]any{"ami_name": "ab"}), []string{`ami_name: "ab" must be`}},
		{"no ami name", with(map[string]any{"ami_name": nil}), []string{"ami_name: required"}},
		{"whole internet implicit", with(map[string]any{"temporary_security_group_source_cidrs": []string{"10.1.2.3/0"}}),
			[]string{`temporary_security_group_source_cidrs: "10.1.2.3/0" opens the SSH port to every address; write 0.0.0.0/0 if that is meant`}},
		{"empty cidrs", with(map[string]any{"temporary_security_group_source_cidrs": []string{}}), []string{"temporary_security_group_source_cidrs: an empty list lets nobody in"}},
		{"groups and cidrs", with(map[string]any{"security_group_ids": []string{"sg-0a1b2c3d4e5f60718"}, "temporary_security_group_source_cidrs": []string{"0.0.0.0/0"}}),
			[]string{"security_group_ids: cannot be combined"}},
		{"bad checkip", with(map[string]any{"temporary_security_group_checkip_url": "checkip"}), []string{`temporary_security_group_checkip_url: "checkip" is not an http or https URL`}},
		{"no instance type", with(map[string]any{"instance_type": nil}), []string{"instance_type: required"}},
		{"mixed architectures", with(map[string]any{"instance_type": nil, "instance_types": []string{"t3.small", "t4g.small"}}), []string{"instance_types: mixes x86_64 and arm64"}},
		{"bad instance type", with(map[string]any{"instance_type": "large"}), []string{`instance_type: "large" is not an instance type`}},
		{"bad subnet", with(map[string]any{"subnet_id": "subnet-1"}), []string{`subnet_id: "subnet-1"`}},
		{"io1 without iops", with(map[string]any{"root_volume": map[string]any{"volume_type": "io1"}}), []string{"root_volume.iops: required for io1"}},
		{"throughput on gp2", with(map[string]any{"root_volume": map[string]any{"volume_type": "gp2", "throughput": 200}}), []string{"root_volume.throughput: only gp3"}},
		{"key without encryption", with(map[string]any{"root_volume": map[string]any{"encrypted": false, "kms_key_id": "alias/golden"}}), []string{"root_volume.kms_key_id: set, but encrypted = false"}},
		{"bad key", with(map[string]any{"root_volume": map[string]any{"kms_key_id": "golden"}}), []string{`root_volume.kms_key_id: "golden"`}},
		{"imds v1 contradiction", with(map[string]any{"metadata_options": map[string]any{"http_tokens": "optional"}}), []string{"metadata_options.http_tokens: optional contradicts imds_support"}},
		{"bad tokens", with(map[string]any{"metadata_options": map[string]any{"http_tokens": "sometimes"}}), []string{`metadata_options.http_tokens: "sometimes"`}},
		{"bad hop limit", with(map[string]any{"metadata_options": map[string]any{"http_put_response_hop_limit": 65}}), []string{"metadata_options.http_put_response_hop_limit: 65"}},
		{"bad boot mode", with(map[string]any{"boot_mode": "efi"}), []string{`boot_mode: "efi"`}},
		{"tpm on bios", with(map[string]any{"boot_mode": "legacy-bios", "tpm_support": "v2.0"}), []string{"tpm_support: NitroTPM needs UEFI"}},
		{"bad imds support", with(map[string]any{"imds_support": "v1"}), []string{`imds_support: "v1"`}},
		{"reserved tag", with(map[string]any{"tags": map[string]string{"golden:temporary": "false"}}), []string{`tags: key "golden:temporary" is set by the build itself`}},
		{"aws tag", with(map[string]any{"run_tags": map[string]string{"aws:x": "y"}}), []string{`run_tags: key "aws:x": the aws: prefix is reserved`}},
		{"cooldown without protection", with(map[string]any{"deregistration_protection": map[string]any{"with_cooldown": true}}), []string{"deregistration_protection.with_cooldown: needs enabled = true"}},
		{"bad ssh interface", with(map[string]any{"ssh_interface": "ipv6"}), []string{`ssh_interface: "ipv6"`}},
		{"winrm", with(map[string]any{"communicator": "winrm", "winrm_username": "x"}), []string{"communicator: winrm is not supported"}},
		{"short ttl", with(map[string]any{"temporary_resources_ttl": "1ms"}), []string{"temporary_resources_ttl: 1ms is shorter than a second"}},
		{"user data twice", with(map[string]any{"user_data": "x", "user_data_file": "/nonexistent"}), []string{"user_data and user_data_file: set one", "user_data_file:"}},
		{"rsa temporary key", with(map[string]any{"temporary_key_pair_type": "rsa", "temporary_key_pair_bits": 4096}),
			[]string{`temporary_key_pair_type: "rsa" is not supported: the temporary key is always ed25519`, "temporary_key_pair_bits: not supported"}},
		{"temporary key pair name", with(map[string]any{"temporary_key_pair_name": "mine"}), []string{"temporary_key_pair_name: not supported"}},
		{"every error at once", with(map[string]any{"ami_name": "x", "instance_type": "y", "boot_mode": "z"}), []string{"ami_name:", "instance_type:", "boot_mode:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b Builder
			_, _, err := b.Prepare(tt.raw)
			if err == nil {
				t.Fatalf("Prepare accepted %v", tt.raw)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
		})
	}
}

func TestArchitectureOf(t *testing.T) {
	for it, want := range map[string]string{"t3.small": "x86_64", "t4g.small": "arm64", "c7gn.large": "arm64", "a1.medium": "arm64",
		"g5.xlarge": "x86_64", "g5g.xlarge": "arm64", "im4gn.large": "arm64", "g4dn.xlarge": "x86_64", "m7i-flex.large": "x86_64"} {
		if got := architectureOf(it); got != want {
			t.Errorf("architectureOf(%s) = %s, want %s", it, got, want)
		}
	}
}

// TestPrepareAcceptsPackersPlaceholderForUnknownValues: `packer validate` without
// -evaluate-datasources passes "<unknown>" for every value a data source would give, as in
// example/layered-app.pkr.hcl (source_ami = data.golden-ami.base.id); the id checks let it
// through, and still refuse a malformed id.
func TestPrepareAcceptsPackersPlaceholderForUnknownValues(t *testing.T) {
	placeholders := map[string]any{
		"source_os":          nil,
		"ssh_username":       "ubuntu",
		"source_ami":         "<unknown>",
		"subnet_id":          "<unknown>",
		"vpc_id":             "<unknown>",
		"security_group_ids": []string{"<unknown>"},
		"root_volume":        map[string]any{"kms_key_id": "<unknown>"},
	}
	var b Builder
	if _, _, err := b.Prepare(with(placeholders)); err != nil {
		t.Fatalf("Packer's placeholder for values not known yet was refused: %v", err)
	}
	for option, bad := range map[string]any{
		"source_ami": "<unknown>x", "subnet_id": "unknown", "vpc_id": "<vpc>",
		"security_group_ids": []string{"<unknown>", "sg-1"}, "root_volume": map[string]any{"kms_key_id": "<known>"},
	} {
		raw := with(placeholders)
		raw[option] = bad
		var b Builder
		if _, _, err := b.Prepare(raw); err == nil || !strings.Contains(err.Error(), option) {
			t.Errorf("%s = %v: want an error naming %s, got %v", option, bad, option, err)
		}
	}
}
