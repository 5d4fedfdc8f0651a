# Acceptance fixture, run on the shared Debian 12 amazon-ebs source (internal/acceptance/templates):
# golden-harden in audit mode on a real EC2 instance. Audit mode changes nothing and the test sets
# skip_create_ami: amazon-ebs terminates the instance and removes its temporary key pair and
# security group at the end of the build, and no AMI is left.

variable "report" {
  type = string
}

build {
  sources = ["source.amazon-ebs.debian"]

  provisioner "golden-harden" {
    profile = "cis-level1-server"
    mode    = "audit"
    # A stock image fails controls; the audit reports them without failing the build.
    on_failure = "warn"
    report     = var.report
  }
}
