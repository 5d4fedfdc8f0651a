package launch

// ValidInstanceType reports whether s is written as an instance type (family.size, e.g. t3.small),
// for components that take instance types outside RunConfig.
func ValidInstanceType(s string) bool { return instanceTypeSyntax.MatchString(s) }

// ValidSubnetID reports whether s is written as a subnet id.
func ValidSubnetID(s string) bool { return subnetIDSyntax.MatchString(s) }
