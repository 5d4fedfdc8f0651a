# The plugin's provisioner and post-processors behind the official amazon-ebs builder, for a team
# that keeps its amazon-ebs source (and its options: spot fleets, Session Manager, Windows...) and
# adopts one golden component at a time: golden-harden hardens over amazon-ebs's SSH connection,
# golden-validate and golden-lifecycle read amazon-ebs's artifact as they read golden-ebs's.
#
#   packer init example/amazon-ebs.pkr.hcl && packer build example/amazon-ebs.pkr.hcl

packer {
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.8.0"
    }
    golden = {
      source  = "github.com/golden-ami/golden"
      version = ">= 0.1.0"
    }
  }
}

variable "region" {
  type    = string
  default = "us-east-1"
}

source "amazon-ebs" "ubuntu" {
  region        = var.region
  instance_type = "t3.medium"
  ami_name      = "golden-ubuntu-22.04-amazon-ebs-{{timestamp}}"
  ssh_username  = "ubuntu"

  source_ami_filter {
    filters = {
      name                = "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["099720109477"] # Canonical
    most_recent = true
  }

  # What golden-ebs does by default, asked of amazon-ebs explicitly.
  imds_support = "v2.0"
  metadata_options {
    http_tokens                 = "required"
    http_endpoint               = "enabled"
    http_put_response_hop_limit = 1
  }
  temporary_key_pair_type                   = "ed25519"
  temporary_security_group_source_public_ip = true
  encrypt_boot                              = true
  launch_block_device_mappings {
    device_name           = "/dev/sda1"
    volume_size           = 20
    volume_type           = "gp3"
    encrypted             = true
    delete_on_termination = true
  }

  tags = {
    Name              = "golden-ubuntu-22.04"
    Environment       = "production"
    OS                = "Ubuntu"
    OSVersion         = "22.04"
    Purpose           = "Golden AMI"
    "golden:pipeline" = "golden-ubuntu-22.04-amazon-ebs"
  }
}

build {
  sources = ["source.amazon-ebs.ubuntu"]

  provisioner "golden-harden" {
    profile = "cis-level1-server"
    report  = "reports/harden.json"
  }

  post-processors {
    post-processor "golden-validate" {
      ssh_username       = "ubuntu"
      required_tags      = ["Environment", "OS", "OSVersion", "Purpose"]
      hardening_audit    = true
      no_build_leftovers = true
      junit_report       = "reports/validate.xml"
    }
    post-processor "golden-lifecycle" {
      copy_to       = ["us-west-2"]
      ssm_parameter = "/golden/ubuntu-22.04-amazon-ebs/latest"
      harden_report = "reports/harden.json"
      prune {
        match_tags  = { "golden:pipeline" = "golden-ubuntu-22.04-amazon-ebs" }
        keep_latest = 5
        older_than  = "30d"
      }
    }
  }
}
