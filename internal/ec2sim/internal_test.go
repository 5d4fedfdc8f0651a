package ec2sim

import "testing"

func TestWildcardMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, value string
		want           bool
	}{
		{"golden-*", "golden-ubuntu-22.04", true},
		{"golden-*", "other-golden", false},
		{"ubuntu/images/*/ubuntu-jammy-*", "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240301", true},
		{"debian-1?-amd64-*", "debian-12-amd64-20240211-1654", true},
		{"debian-1?-amd64-*", "debian-9-amd64-20240211-1654", false},
		{"exact", "exact", true},
		{"exact", "exactly", false},
		{`literal\*`, "literal*", true},
		{`literal\*`, "literally", false},
		{"*", "", true},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXcYYb", false},
	} {
		if got := wildcardMatch(tc.pattern, tc.value); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tc.pattern, tc.value, got, tc.want)
		}
	}
}

func TestArchitectureOf(t *testing.T) {
	for typ, want := range map[string]string{
		"t3.micro": "x86_64", "t4g.small": "arm64", "m7g.large": "arm64", "c6gn.xlarge": "arm64",
		"x2gd.medium": "arm64", "a1.large": "arm64", "g5.xlarge": "x86_64", "g5g.xlarge": "arm64",
		"c7i.large": "x86_64", "m5dn.large": "x86_64", "inf2.xlarge": "x86_64",
	} {
		if got := architectureOf(typ); got != want {
			t.Errorf("architectureOf(%s) = %s, want %s", typ, got, want)
		}
	}
}

func TestPaginate(t *testing.T) {
	first, err := paginate("DescribeImages", 12, 5, "")
	if err != nil || first.start != 0 || first.end != 5 || first.next == "" {
		t.Fatalf("first page %+v %v", first, err)
	}
	second, err := paginate("DescribeImages", 12, 5, first.next)
	if err != nil || second.start != 5 || second.end != 10 {
		t.Fatalf("second page %+v %v", second, err)
	}
	last, err := paginate("DescribeImages", 12, 5, second.next)
	if err != nil || last.start != 10 || last.end != 12 || last.next != "" {
		t.Fatalf("last page %+v %v", last, err)
	}
	if _, err := paginate("DescribeSnapshots", 12, 5, first.next); err == nil {
		t.Fatal("a token of another action was accepted")
	}
	all, err := paginate("DescribeImages", 3, 0, "")
	if err != nil || all.end != 3 || all.next != "" {
		t.Fatalf("unpaged listing %+v %v", all, err)
	}
}

func TestZoneID(t *testing.T) {
	for zone, want := range map[string]string{
		"us-east-1a": "use1-az1", "eu-west-2c": "euw2-az3", "ap-northeast-1b": "apne1-az2",
		"ap-southeast-2a": "apse2-az1", "ca-central-1a": "cac1-az1", "sa-east-1b": "sae1-az2",
	} {
		if got := zoneID(zone); got != want {
			t.Errorf("zoneID(%s) = %s, want %s", zone, got, want)
		}
	}
}
