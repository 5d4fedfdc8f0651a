package ami

import (
	"reflect"
	"strings"
	"testing"

	"github.com/golden-ami/packer-plugin-golden/internal/amiselect"
)

func TestConfigure(t *testing.T) {
	tests := []struct {
		name    string
		raw     map[string]any
		check   func(t *testing.T, c Config)
		wantErr []string
	}{
		{
			name: "defaults",
			raw:  map[string]any{"region": "us-east-1", "name": "golden-*"},
			check: func(t *testing.T, c Config) {
				if !reflect.DeepEqual(c.Owners, []string{"self"}) || c.SortBy != SortByCreationDate || !c.criteria().MostRecent ||
					c.IncludeDeprecated || c.RequireValidated {
					t.Errorf("defaults: owners %v, sort_by %q, criteria %+v", c.Owners, c.SortBy, c.criteria())
				}
			},
		},
		{
			name: "every filter",
			raw: map[string]any{
				"region": "eu-west-1", "name": "golden-*", "tags": map[string]string{"Team": "platform"},
				"owners": []string{"self", "111122223333", "amazon"}, "architecture": "arm64", "require_validated": true,
				"include_deprecated": true, "sort_by": "name", "most_recent": false,
			},
			check: func(t *testing.T, c Config) {
				want := amiselect.Criteria{
					Region: "eu-west-1", Owners: []string{"self", "111122223333", "amazon"}, Name: "golden-*",
					Tags: map[string]string{"Team": "platform"}, Architecture: "arm64", RequireValidated: true,
					IncludeDeprecated: true, SortBy: SortByName, MostRecent: false,
				}
				if got := c.criteria(); !reflect.DeepEqual(got, want) {
					t.Errorf("criteria = %+v\nwant %+v", got, want)
				}
			},
		},
		{
			name: "ssm parameter alone",
			raw:  map[string]any{"region": "us-east-1", "ssm_parameter": "/golden/ubuntu/latest", "require_validated": true},
			check: func(t *testing.T, c Config) {
				if c.Owners != nil || c.SortBy != "" {
					t.Errorf("filter defaults applied with ssm_parameter: owners %v, sort_by %q", c.Owners, c.SortBy)
				}
			},
		},
		{name: "no filter", raw: map[string]any{"region": "us-east-1"}, wantErr: []string{"name, tags or ssm_parameter: one is required"}},
		{name: "tags alone are enough", raw: map[string]any{"region": "us-east-1", "tags": map[string]string{"golden:pipeline": "ubuntu"}}},
		{name: "unknown sort_by", raw: map[string]any{"region": "us-east-1", "name": "x", "sort_by": "size"}, wantErr: []string{`sort_by: "size" is not "creation_date" or "name"`}},
		{name: "empty owners", raw: map[string]any{"region": "us-east-1", "name": "x", "owners": []string{}}, wantErr: []string{"owners: must name at least one owner"}},
		{name: "wildcard owner", raw: map[string]any{"region": "us-east-1", "name": "x", "owners": []string{"*"}}, wantErr: []string{`owners: "*" is neither an account ID`}},
		{name: "short account id", raw: map[string]any{"region": "us-east-1", "name": "x", "owners": []string{"12345"}}, wantErr: []string{`owners: "12345"`}},
		{name: "bad architecture", raw: map[string]any{"region": "us-east-1", "name": "x", "architecture": "amd64"}, wantErr: []string{`architecture: "amd64" is not one of`}},
		{name: "empty tag key", raw: map[string]any{"region": "us-east-1", "tags": map[string]string{"": "x"}}, wantErr: []string{"tags: tag keys must not be empty"}},
		{
			name:    "ssm parameter with filters",
			raw:     map[string]any{"region": "us-east-1", "ssm_parameter": "/p", "name": "x", "owners": []string{"self"}, "most_recent": true, "sort_by": "name"},
			wantErr: []string{"ssm_parameter: cannot be combined with most_recent, name, owners, sort_by"},
		},
		{name: "ssm parameter name", raw: map[string]any{"region": "us-east-1", "ssm_parameter": "not a name"}, wantErr: []string{`ssm_parameter: "not a name" is not a parameter name`}},
		{
			name:    "access errors are reported with the filter errors",
			raw:     map[string]any{"region": "mars-1", "access_key": "AKID", "name": "x", "sort_by": "size"},
			wantErr: []string{"region:", "access_key and secret_key", "sort_by"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AWS_REGION", "")
			t.Setenv("AWS_DEFAULT_REGION", "")
			var d Datasource
			err := d.Configure(tt.raw)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if tt.check != nil {
					tt.check(t, d.config)
				}
				return
			}
			requireErrorContains(t, err, tt.wantErr...)
		})
	}
}

// requireErrorContains fails the test unless err is an error whose message contains every want.
func requireErrorContains(t *testing.T, err error, wants ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", wants)
	}
	for _, want := range wants {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\nwant it to contain %q", err, want)
		}
	}
}
