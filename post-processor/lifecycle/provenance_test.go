package lifecycle

import "testing"

// TestStateString: provenance values from an artifact's state, as they arrive through Packer's
// plugin RPC; scores get one decimal, whether they come as numbers or from a report.
func TestStateString(t *testing.T) {
	for _, tc := range []struct {
		in   interface{}
		want string
	}{
		{"cis-level1-server", "cis-level1-server"},
		{97.5, "97.5"},
		{91.66666, "91.7"},
		{float32(88.25), "88.3"},
		{100.0, "100"},
		{0.0, "0"},
		{42, "42"},
		{int64(1700000000), "1700000000"},
		{true, ""},
		{nil, ""},
		{[]string{"x"}, ""},
	} {
		if got := stateString(tc.in); got != tc.want {
			t.Errorf("stateString(%#v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
