package hardening

// Fail2banOptions configures the `fail2ban` module (HCL block `fail2ban { ... }`).
type Fail2banOptions struct {
}

func (o *Fail2banOptions) shellParams() map[string]string { return map[string]string{} }

func (o *Fail2banOptions) validate() []error { return nil }
