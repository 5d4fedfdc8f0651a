# Shared by the acceptance templates: the newest official Debian 12 image, found with golden-ami.
# The test composing a template gives every variable with -var.

variable "region" {
  type = string
}

variable "debian_owner" {
  type = string
}

data "golden-ami" "debian" {
  region       = var.region
  owners       = [var.debian_owner]
  name         = "debian-12-amd64-*"
  architecture = "x86_64"
}
