package amiref

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"testing/quick"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    []Ref
		wantErr string
	}{
		{in: "us-east-1:ami-0123456789abcdef0", want: []Ref{{"us-east-1", "ami-0123456789abcdef0"}}},
		{in: "us-east-1:ami-12345678", want: []Ref{{"us-east-1", "ami-12345678"}}},
		{
			in:   "us-east-1:ami-0123456789abcdef0, eu-west-1:ami-0fedcba9876543210",
			want: []Ref{{"us-east-1", "ami-0123456789abcdef0"}, {"eu-west-1", "ami-0fedcba9876543210"}},
		},
		{in: "us-gov-west-1:ami-0123456789abcdef0", want: []Ref{{"us-gov-west-1", "ami-0123456789abcdef0"}}},
		{in: "", wantErr: "no AMI references"},
		{in: "   ", wantErr: "no AMI references"},
		{in: "ami-0123456789abcdef0", wantErr: `"ami-0123456789abcdef0" is not region:ami-id`},
		{in: "us-east-1:ami-0123456789abcdef0,", wantErr: `"" is not region:ami-id`},
		{in: "useast1:ami-0123456789abcdef0", wantErr: `"useast1" is not a region name`},
		{in: "us-east-1:ami-0123456789ABCDEF0", wantErr: "is not an AMI id"},
		{in: "us-east-1:ami-0123456789abcdef", wantErr: "is not an AMI id"},   // 16 hex
		{in: "us-east-1:ami-1234567", wantErr: "is not an AMI id"},            // 7 hex
		{in: "us-east-1:snap-0123456789abcdef0", wantErr: "is not an AMI id"}, // a snapshot
		{in: "us-east-1:vol-0123456789abcdef0", wantErr: "is not an AMI id"},
		{in: "us-east-1:ami-0123456789abcdef0:x", wantErr: "is not an AMI id"},
		{in: "us-east-1:ami-0123456789abcdef0,us-east-1:ami-0fedcba9876543210", wantErr: "region us-east-1 appears twice"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		refs []Ref
		want string
	}{
		{nil, ""},
		{[]Ref{{"us-east-1", "ami-0123456789abcdef0"}}, "us-east-1:ami-0123456789abcdef0"},
		{
			[]Ref{{"us-west-2", "ami-22222222"}, {"eu-west-1", "ami-11111111"}, {"us-east-1", "ami-33333333"}},
			"eu-west-1:ami-11111111,us-east-1:ami-33333333,us-west-2:ami-22222222",
		},
	}
	for _, tt := range tests {
		if got := Format(tt.refs); got != tt.want {
			t.Errorf("Format(%v) = %q, want %q", tt.refs, got, tt.want)
		}
	}
	in := []Ref{{"us-west-2", "ami-22222222"}, {"eu-west-1", "ami-11111111"}}
	Format(in)
	if in[0].Region != "us-west-2" {
		t.Errorf("Format reordered its argument")
	}
}

// refSet is a random set of references with distinct regions, for the round-trip property.
type refSet []Ref

func (refSet) Generate(r *rand.Rand, size int) reflect.Value {
	regions := []string{"us-east-1", "us-west-2", "eu-west-1", "eu-central-2", "ap-southeast-7", "us-gov-west-1", "cn-north-1"}
	r.Shuffle(len(regions), func(i, j int) { regions[i], regions[j] = regions[j], regions[i] })
	n := 1 + r.Intn(len(regions))
	refs := make(refSet, n)
	for i := range refs {
		digits := 17
		if r.Intn(4) == 0 {
			digits = 8
		}
		var id strings.Builder
		id.WriteString("ami-")
		for range digits {
			id.WriteByte("0123456789abcdef"[r.Intn(16)])
		}
		refs[i] = Ref{Region: regions[i], ImageID: id.String()}
	}
	return reflect.ValueOf(refs)
}

func TestFormatParseRoundTrip(t *testing.T) {
	roundTrip := func(refs refSet) bool {
		s := Format(refs)
		parsed, err := Parse(s)
		if err != nil {
			t.Logf("Parse(%q): %v", s, err)
			return false
		}
		return len(parsed) == len(refs) && Format(parsed) == s && sameSet(parsed, refs)
	}
	if err := quick.Check(roundTrip, &quick.Config{MaxCount: 300}); err != nil {
		t.Error(err)
	}
}

func sameSet(a, b []Ref) bool {
	m := map[Ref]bool{}
	for _, r := range a {
		m[r] = true
	}
	for _, r := range b {
		if !m[r] {
			return false
		}
	}
	return len(a) == len(b)
}

func TestFromArtifact(t *testing.T) {
	const twoRegions = "eu-west-1:ami-0fedcba9876543210,us-east-1:ami-0123456789abcdef0"
	want := []Ref{{"eu-west-1", "ami-0fedcba9876543210"}, {"us-east-1", "ami-0123456789abcdef0"}}
	tests := []struct {
		name      string
		builderID string
		id        string
		want      []Ref
		wantErr   string
	}{
		{name: "golden-ebs", builderID: BuilderIDGoldenEBS, id: twoRegions, want: want},
		{name: "golden-lifecycle", builderID: BuilderIDGoldenLifecycle, id: twoRegions, want: want},
		{name: "amazon-ebs", builderID: "mitchellh.amazonebs", id: twoRegions, want: want},
		{name: "amazon-ebssurrogate", builderID: "mitchellh.amazon.ebssurrogate", id: twoRegions, want: want},
		{name: "amazon-instance", builderID: "mitchellh.amazon.instance", id: twoRegions, want: want},
		{name: "amazon-chroot", builderID: "mitchellh.amazon.chroot", id: twoRegions, want: want},
		{name: "amazon-import", builderID: "packer.post-processor.amazon-import", id: "us-east-1:ami-0123456789abcdef0", want: want[1:]},
		{
			name: "amazon-ebsvolume", builderID: "mitchellh.amazon.ebsvolume", id: "us-east-1:vol-0123456789abcdef0",
			wantErr: `artifact of builder "mitchellh.amazon.ebsvolume" is not an AMI artifact; want one from amazon-chroot, amazon-ebs,`,
		},
		{name: "docker", builderID: "packer.docker", id: "sha256:abc", wantErr: `builder "packer.docker" is not an AMI artifact`},
		{name: "manifest", builderID: "packer.post-processor.manifest", id: "packer-manifest.json", wantErr: `"packer.post-processor.manifest"`},
		{
			name: "accepted builder with a broken id", builderID: BuilderIDAmazonEBS, id: "us-east-1:ami-xyz",
			wantErr: `reading the amazon-ebs artifact id "us-east-1:ami-xyz": "us-east-1:ami-xyz": "ami-xyz" is not an AMI id`,
		},
		{name: "accepted builder without AMIs", builderID: BuilderIDGoldenEBS, id: "", wantErr: "reading the golden-ebs artifact id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromArtifact(&packersdk.MockArtifact{BuilderIdValue: tt.builderID, IdValue: tt.id})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("FromArtifact error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FromArtifact = %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := FromArtifact(nil); err == nil {
		t.Error("FromArtifact(nil) succeeded")
	}
}

func TestValidImageID(t *testing.T) {
	for id, want := range map[string]bool{
		"ami-12345678": true, "ami-0123456789abcdef0": true,
		"ami-1234567": false, "ami-123456789": false, "AMI-12345678": false, "ami-1234567g": false, "": false,
		" ami-12345678": false, "ami-0123456789abcdef01": false,
	} {
		if got := ValidImageID(id); got != want {
			t.Errorf("ValidImageID(%q) = %v, want %v", id, got, want)
		}
	}
}
