package lab

// VendorImageParams are the public SSM parameters naming each base image's AMI, as the vendors
// publish them (the ones golden-ebs's source_os reads).
var VendorImageParams = map[string]string{
	"debian-12":    "/aws/service/debian/release/12/latest/amd64",
	"debian-13":    "/aws/service/debian/release/13/latest/amd64",
	"ubuntu-22.04": "/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id",
	"ubuntu-24.04": "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
	"ubuntu-26.04": "/aws/service/canonical/ubuntu/server/26.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
}

// VendorUsers are the default users of the vendors' EC2 images, which source_os sets as
// ssh_username.
var VendorUsers = map[string]string{
	"debian-12": "admin", "debian-13": "admin",
	"ubuntu-22.04": "ubuntu", "ubuntu-24.04": "ubuntu", "ubuntu-26.04": "ubuntu",
}
