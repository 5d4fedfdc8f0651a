package hardening

// KernelModulesOptions configures the `kernel_modules` module (HCL block `kernel_modules { ... }`).
type KernelModulesOptions struct {
}

func (o *KernelModulesOptions) shellParams() map[string]string { return map[string]string{} }

func (o *KernelModulesOptions) validate() []error { return nil }
