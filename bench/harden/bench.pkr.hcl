# The benchmark's build: the null builder over SSH to a lab target, golden-harden with a profile.
packer {
  required_plugins {
    golden = {
      source  = "github.com/golden-ami/golden"
      version = ">= 0.0.1"
    }
  }
}

variable "host" { type = string }
variable "port" { type = number }
variable "user" { type = string }
variable "key" { type = string }
variable "profile" { type = string }
variable "report" { type = string }

source "null" "target" {
  communicator         = "ssh"
  ssh_host             = var.host
  ssh_port             = var.port
  ssh_username         = var.user
  ssh_private_key_file = var.key
  ssh_timeout          = "2m"
}

build {
  sources = ["source.null.target"]

  provisioner "golden-harden" {
    profile = var.profile
    report  = var.report
  }
}
