package report

import (
	"encoding/json"
	"fmt"
)

// JSON returns the report as indented JSON.
func (r *Report) JSON() ([]byte, error) {
	items := r.Items
	if items == nil {
		items = []Item{}
	}
	out := *r
	out.Items = items
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the report as JSON: %w", err)
	}
	return append(b, '\n'), nil
}

// ParseJSON reads a report written by JSON.
func ParseJSON(b []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("reading a JSON report: %w", err)
	}
	return &r, nil
}
