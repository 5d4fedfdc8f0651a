package hardening

// BannersOptions configures the `banners` module (HCL block `banners { ... }`).
type BannersOptions struct {
}

func (o *BannersOptions) shellParams() map[string]string { return map[string]string{} }

func (o *BannersOptions) validate() []error { return nil }
