package hardening

// AuditdOptions configures the `auditd` module (HCL block `auditd { ... }`).
type AuditdOptions struct {
}

func (o *AuditdOptions) shellParams() map[string]string { return map[string]string{} }

func (o *AuditdOptions) validate() []error { return nil }
