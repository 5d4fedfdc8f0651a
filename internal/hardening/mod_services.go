package hardening

// ServicesOptions configures the `services` module (HCL block `services { ... }`).
type ServicesOptions struct {
}

func (o *ServicesOptions) shellParams() map[string]string { return map[string]string{} }

func (o *ServicesOptions) validate() []error { return nil }
