package hardening

// PackagesOptions configures the `packages` module (HCL block `packages { ... }`).
type PackagesOptions struct {
}

func (o *PackagesOptions) shellParams() map[string]string { return map[string]string{} }

func (o *PackagesOptions) validate() []error { return nil }
