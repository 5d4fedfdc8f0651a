package hardening

// LoginOptions configures the `login` module (HCL block `login { ... }`).
type LoginOptions struct {
}

func (o *LoginOptions) shellParams() map[string]string { return map[string]string{} }

func (o *LoginOptions) validate() []error { return nil }
