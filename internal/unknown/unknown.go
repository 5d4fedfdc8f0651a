// Package unknown recognises the placeholder Packer core writes for a value it cannot know yet.
//
// `packer validate` without -evaluate-datasources runs no data source: every string a data source
// would produce, and every expression built from one, reaches the plugin's Prepare as "<unknown>"
// (numbers as 0, booleans as false, collections empty). A syntax check that refuses the placeholder
// makes a valid template fail to validate (hashicorp/packer-plugin-sdk#143), so the checks of
// options that templates commonly fill from data sources (AMI, subnet, VPC, security group and KMS
// key ids) let it through. `packer build` runs the data sources before Prepare, so the real value
// is checked there, and a placeholder written out by hand is refused when the build uses it.
package unknown

// Placeholder is the string Packer core passes for a string value it does not know yet.
const Placeholder = "<unknown>"

// Is reports whether s is Packer core's placeholder for a value not known yet.
func Is(s string) bool { return s == Placeholder }
