# Shared by the acceptance templates that need a real instance: amazon-ebs (packer-plugin-amazon)
# launches a t3.micro from the Debian image of debian.pkr.hcl, which comes with this file.
#
# golden is not listed in required_plugins: `packer init` skips development builds, and `packer
# build` uses the one `make dev` installed.

packer {
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.3.0"
    }
  }
}

# Unique per run: the AMI name, the tag on the instance and on the image (Pipeline), which the
# cleanup and anyone looking for leftovers search for.
variable "run_name" {
  type = string
}

variable "skip_create_ami" {
  type    = bool
  default = false
}

source "amazon-ebs" "debian" {
  region          = var.region
  source_ami      = data.golden-ami.debian.id
  instance_type   = "t3.micro"
  ssh_username    = "admin"
  ami_name        = var.run_name
  skip_create_ami = var.skip_create_ami
  tags = {
    Pipeline = var.run_name
  }

  # SSH only from the address running the test.
  temporary_security_group_source_public_ip = true
  run_tags = {
    "golden:acc" = var.run_name
  }
}
