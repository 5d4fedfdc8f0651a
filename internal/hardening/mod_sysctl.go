package hardening

// SysctlOptions configures the `sysctl` module (HCL block `sysctl { ... }`).
type SysctlOptions struct {
}

func (o *SysctlOptions) shellParams() map[string]string { return map[string]string{} }

func (o *SysctlOptions) validate() []error { return nil }
