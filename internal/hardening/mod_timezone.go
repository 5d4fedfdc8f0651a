package hardening

// TimezoneOptions configures the `timezone` module (HCL block `timezone { ... }`).
type TimezoneOptions struct {
}

func (o *TimezoneOptions) shellParams() map[string]string { return map[string]string{} }

func (o *TimezoneOptions) validate() []error { return nil }
