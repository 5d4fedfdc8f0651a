package hardening

// FirewallOptions configures the `firewall` module (HCL block `firewall { ... }`).
type FirewallOptions struct {
}

func (o *FirewallOptions) shellParams() map[string]string { return map[string]string{} }

func (o *FirewallOptions) validate() []error { return nil }
