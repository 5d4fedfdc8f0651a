package hardening

// SudoOptions configures the `sudo` module (HCL block `sudo { ... }`).
type SudoOptions struct {
}

func (o *SudoOptions) shellParams() map[string]string { return map[string]string{} }

func (o *SudoOptions) validate() []error { return nil }
