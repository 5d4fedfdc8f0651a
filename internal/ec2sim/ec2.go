package ec2sim

// ec2Handlers are the EC2 actions the simulator answers (EC2 Query API, version 2016-11-15).
var ec2Handlers = map[string]handler{}

func init() {
	// Registered in init: several handlers read this table indirectly, which a package-level
	// map literal would turn into an initialisation cycle.
	for name, h := range map[string]handler{
		"DescribeImages":                       describeImages,
		"CreateImage":                          createImageOnMachine,
		"CopyImage":                            copyImageWithDisk,
		"DeregisterImage":                      deregisterImage,
		"ModifyImageAttribute":                 modifyImageAttribute,
		"DescribeImageAttribute":               describeImageAttribute,
		"EnableImageDeprecation":               enableImageDeprecation,
		"DisableImageDeprecation":              disableImageDeprecation,
		"EnableImageDeregistrationProtection":  enableImageDeregistrationProtection,
		"DisableImageDeregistrationProtection": disableImageDeregistrationProtection,
		"DescribeImageReferences":              describeImageReferences,
		"DescribeSnapshots":                    describeSnapshots,
		"DeleteSnapshot":                       deleteSnapshot,
		"ModifySnapshotAttribute":              modifySnapshotAttribute,
		"DescribeSnapshotAttribute":            describeSnapshotAttribute,
		"CreateTags":                           createTags,
		"DeleteTags":                           deleteTags,
		"DescribeTags":                         describeTags,
		"RunInstances":                         runInstancesOnMachines,
		"DescribeInstances":                    describeInstances,
		"DescribeInstanceStatus":               describeInstanceStatus,
		"StopInstances":                        onMachines(stopInstances),
		"StartInstances":                       onMachines(startInstances),
		"TerminateInstances":                   onMachines(terminateInstances),
		"RebootInstances":                      rebootInstances,
		"ModifyInstanceMetadataOptions":        modifyInstanceMetadataOptions,
		"ModifyInstanceAttribute":              modifyInstanceAttribute,
		"GetConsoleOutput":                     getConsoleOutputOfMachine,
		"DescribeVolumes":                      describeVolumes,
		"CreateKeyPair":                        createKeyPair,
		"ImportKeyPair":                        importKeyPair,
		"DeleteKeyPair":                        deleteKeyPair,
		"DescribeKeyPairs":                     describeKeyPairs,
		"CreateSecurityGroup":                  createSecurityGroup,
		"AuthorizeSecurityGroupIngress":        authorizeSecurityGroupIngress,
		"RevokeSecurityGroupIngress":           revokeSecurityGroupIngress,
		"DeleteSecurityGroup":                  deleteSecurityGroup,
		"DescribeSecurityGroups":               describeSecurityGroups,
		"DescribeVpcs":                         describeVpcs,
		"DescribeSubnets":                      describeSubnets,
		"DescribeAvailabilityZones":            describeAvailabilityZones,
		"DescribeRegions":                      describeRegions,
		"DescribeLaunchTemplates":              describeLaunchTemplates,
		"DescribeLaunchTemplateVersions":       describeLaunchTemplateVersions,
		"CreateLaunchTemplate":                 createLaunchTemplate,
		"CreateLaunchTemplateVersion":          createLaunchTemplateVersion,
		"ModifyLaunchTemplate":                 modifyLaunchTemplate,
	} {
		ec2Handlers[name] = h
	}
}
