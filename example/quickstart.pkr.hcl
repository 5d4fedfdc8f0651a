# The README's template: an Ubuntu 22.04 image built, hardened, validated on a fresh boot, copied,
# published to SSM and pruned, with the defaults doing the rest (IMDSv2, encrypted gp3, SSH from this
# machine only, every temporary resource removed).
packer {
  required_plugins {
    golden = { source = "github.com/golden-ami/golden", version = ">= 0.1.0" }
  }
}

source "golden-ebs" "ubuntu" {
  region        = "us-east-1"
  source_os     = "ubuntu-22.04" # Canonical's image, through its public SSM parameter
  instance_type = "t3.micro"
  ami_name      = "golden-ubuntu-22.04-{{timestamp}}"
  tags          = { "golden:pipeline" = "ubuntu-22.04" }
}

build {
  sources = ["source.golden-ebs.ubuntu"]
  provisioner "golden-harden" { profile = "cis-level1-server" }
  post-processors {
    post-processor "golden-validate" {
      ssh_username    = "ubuntu"
      hardening_audit = true # every control that passed at build time passes after a boot
    }
    post-processor "golden-lifecycle" {
      region        = "us-east-1"
      copy_to       = ["us-west-2"]
      ssm_parameter = "/golden/ubuntu-22.04/latest"
      prune {
        match_tags  = { "golden:pipeline" = "ubuntu-22.04" }
        keep_latest = 3
      }
    }
  }
}
