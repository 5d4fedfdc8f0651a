//go:generate go run ./cmd/gendocs -src . -out ../../docs-partials/provisioner/harden

package hardening

// The generator above writes the control tables and the module option reference of the
// golden-harden docs from this catalogue and the option structs' comments.
