package hardening

// SSHOptions configures the `ssh` module (HCL block `ssh { ... }`).
type SSHOptions struct {
}

func (o *SSHOptions) shellParams() map[string]string { return map[string]string{} }

func (o *SSHOptions) validate() []error { return nil }
