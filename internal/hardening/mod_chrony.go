package hardening

// ChronyOptions configures the `chrony` module (HCL block `chrony { ... }`).
type ChronyOptions struct {
}

func (o *ChronyOptions) shellParams() map[string]string { return map[string]string{} }

func (o *ChronyOptions) validate() []error { return nil }
