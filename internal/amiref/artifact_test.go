package amiref

import "testing"

// TestText: values from an artifact's state, as they arrive directly or through Packer's plugin
// RPC (numbers of any width); scores get one decimal.
func TestText(t *testing.T) {
	for _, tc := range []struct {
		in   interface{}
		want string
	}{
		{"cis-level1-server", "cis-level1-server"},
		{[]byte("ami-0123456789abcdef0"), "ami-0123456789abcdef0"},
		{97.5, "97.5"},
		{91.66666, "91.7"},
		{float32(88.25), "88.3"},
		{100.0, "100"},
		{0.0, "0"},
		{42, "42"},
		{int8(7), "7"},
		{int64(1700000000), "1700000000"},
		{uint64(212), "212"},
		{true, ""},
		{nil, ""},
		{[]string{"x"}, ""},
		{map[string]interface{}{"a": "b"}, ""},
	} {
		if got := Text(tc.in); got != tc.want {
			t.Errorf("Text(%#v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestMap: the map shapes an artifact's state arrives in, nested ones too; a map with a key that
// is not text is not read as one.
func TestMap(t *testing.T) {
	codec := map[interface{}]interface{}{
		"BuildRegion": "us-east-1",
		"SourceAMI":   []byte("ami-0123456789abcdef0"),
		"Tags":        map[interface{}]interface{}{"Name": "x"},
		"List":        []interface{}{map[interface{}]interface{}{"k": "v"}},
	}
	m, ok := Map(codec)
	if !ok || m["BuildRegion"] != "us-east-1" || m["SourceAMI"] != "ami-0123456789abcdef0" {
		t.Fatalf("Map(codec) = %#v, %v", m, ok)
	}
	if tags, _ := m["Tags"].(map[string]interface{}); tags["Name"] != "x" {
		t.Fatalf("nested map %#v", m["Tags"])
	}
	if list, _ := m["List"].([]interface{}); len(list) != 1 || list[0].(map[string]interface{})["k"] != "v" {
		t.Fatalf("nested list %#v", m["List"])
	}
	if s := Strings(map[string]string{"a": "b"}); s["a"] != "b" {
		t.Fatalf("Strings %#v", s)
	}
	if _, ok := Map(map[interface{}]interface{}{1: "x"}); ok {
		t.Fatal("a map with a numeric key was read")
	}
	if _, ok := Map("x"); ok {
		t.Fatal("a string was read as a map")
	}
}
