package hardening

// BuildInfoOptions configures the `build_info` module (HCL block `build_info { ... }`).
type BuildInfoOptions struct {
}

func (o *BuildInfoOptions) shellParams() map[string]string { return map[string]string{} }

func (o *BuildInfoOptions) validate() []error { return nil }
