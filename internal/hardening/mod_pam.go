package hardening

// PAMOptions configures the `pam` module (HCL block `pam { ... }`).
type PAMOptions struct {
}

func (o *PAMOptions) shellParams() map[string]string { return map[string]string{} }

func (o *PAMOptions) validate() []error { return nil }
