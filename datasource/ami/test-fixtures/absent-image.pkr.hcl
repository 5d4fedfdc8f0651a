# Acceptance fixture: golden-ami when nothing matches. The name is unique to the run, so no image
# of the account can match, and the build must fail naming the selection.

variable "region" {
  type = string
}

variable "name" {
  type = string
}

data "golden-ami" "absent" {
  region = var.region
  name   = var.name
}

source "null" "outputs" {
  communicator = "none"
}

build {
  sources = ["source.null.outputs"]

  provisioner "shell-local" {
    inline = ["echo 'unreachable: ${data.golden-ami.absent.id}'"]
  }
}
