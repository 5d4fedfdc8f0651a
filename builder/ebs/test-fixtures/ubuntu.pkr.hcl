# golden-ebs against real AWS (TestAccBuilder_ubuntu): Ubuntu 22.04 from Canonical's SSM parameter,
# every security default left as it is, a file left by a shell provisioner, the artifact recorded
# by the manifest post-processor. The test gives every variable with -var.
#
# golden is not listed in required_plugins: `packer init` skips development builds, and `packer
# build` uses the one `make dev` installed.

variable "region" {
  type = string
}

# Unique per run: the AMI name and the tag on everything the run makes, which the cleanup and
# anyone looking for leftovers search for.
variable "run_name" {
  type = string
}

variable "manifest" {
  type = string
}

source "golden-ebs" "ubuntu" {
  region        = var.region
  source_os     = "ubuntu-22.04"
  instance_type = "t3.micro"
  ami_name      = var.run_name
  tags          = { Pipeline = var.run_name }
  snapshot_tags = { Pipeline = var.run_name }
  run_tags      = { "golden:acc" = var.run_name }

  # The machine running the test is usually behind NAT: let its public address in, a /32.
  temporary_security_group_checkip_url = "https://checkip.amazonaws.com"
}

build {
  sources = ["source.golden-ebs.ubuntu"]

  provisioner "shell" {
    inline = ["echo 'built-by-golden-ebs source=${build.SourceAMI}' | sudo tee /etc/golden-acc"]
  }

  post-processor "manifest" {
    output = var.manifest
    custom_data = {
      source_ami   = "${build.SourceAMI}"
      build_region = "${build.BuildRegion}"
    }
  }
}
