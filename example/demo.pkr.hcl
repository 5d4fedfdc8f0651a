# The pipeline `make demo` runs: example/ubuntu-22.04.pkr.hcl cut down to what shows every
# component in a few minutes. golden-ebs builds from Ubuntu 22.04, a shell provisioner installs the
# essential packages, golden-harden applies the CIS Level 1 server controls, golden-validate boots
# the new image on a new instance and probes it, and golden-lifecycle copies it to two more
# regions, shares it, publishes it to SSM and prunes the older images of the pipeline.
#
# scripts/demo.sh runs it against the AWS simulator with lab machines (docs/try-locally.md), seeded
# from example/demo-seed.json with the fleet the prune plans against. Against AWS it needs a
# customer managed KMS key (an image encrypted with aws/ebs cannot be shared) in each region:
#
#   packer build -var kms_key=alias/golden -var 'share_with=["111122223333"]' example/demo.pkr.hcl

packer {
  required_plugins {
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

variable "copy_to" {
  type    = list(string)
  default = ["us-west-2", "eu-west-1"]
}

variable "share_with" {
  type    = list(string)
  default = ["111122223333"]
}

variable "kms_key" {
  type        = string
  description = "The customer managed KMS key of the image and its copies, in every region."
  default     = "alias/golden"
}

variable "report_dir" {
  type    = string
  default = "reports"
}

locals {
  pipeline = "golden-demo"
}

# The image the fleet runs today: the newest of the pipeline that passed validation (a newer one
# that failed is passed over).
data "golden-ami" "current" {
  region            = var.region
  name              = "${local.pipeline}-ubuntu-22.04-*"
  tags              = { "golden:pipeline" = local.pipeline }
  require_validated = true
}

source "golden-ebs" "ubuntu" {
  region        = var.region
  source_os     = "ubuntu-22.04"
  instance_type = "t3.micro"
  ami_name      = "${local.pipeline}-ubuntu-22.04-{{timestamp}}"
  root_volume {
    kms_key_id = var.kms_key
  }
  tags = {
    Name              = local.pipeline
    OS                = "Ubuntu"
    OSVersion         = "22.04"
    "golden:pipeline" = local.pipeline
  }
  run_tags = {
    Purpose = "golden-demo build"
  }
  aws_polling {
    delay_seconds = 2
  }
}

build {
  name    = "golden-demo"
  sources = ["source.golden-ebs.ubuntu"]

  provisioner "shell-local" {
    inline = ["echo 'replacing ${data.golden-ami.current.name} (${data.golden-ami.current.id}, compliance score ${data.golden-ami.current.compliance_score})'"]
  }

  # The seed playbook's essential packages.
  provisioner "shell" {
    execute_command = "chmod +x {{ .Path }}; sudo {{ .Vars }} {{ .Path }}"
    scripts         = ["${path.root}/scripts/wait-cloud-init.sh", "${path.root}/scripts/essential-packages.sh"]
  }

  provisioner "golden-harden" {
    profile = "cis-level1-server"
    firewall {
      allow = ["22/tcp"]
    }
    report          = "${var.report_dir}/harden.json"
    report_junit    = "${var.report_dir}/harden.xml"
    report_markdown = "${var.report_dir}/harden.md"
  }

  provisioner "shell" {
    execute_command = "chmod +x {{ .Path }}; sudo {{ .Vars }} {{ .Path }}"
    scripts         = ["${path.root}/scripts/cleanup.sh"]
  }

  post-processor "manifest" {
    output     = "${var.report_dir}/packer-manifest.json"
    strip_path = true
    custom_data = {
      source_ami = "${build.SourceAMI}"
      replaces   = data.golden-ami.current.id
    }
  }

  post-processors {
    post-processor "golden-validate" {
      ssh_username  = "ubuntu"
      required_tags = ["OS=Ubuntu", "OSVersion=22.04"]
      package {
        name = "awscli"
      }
      package {
        name = "fail2ban"
      }
      package {
        name = "jq"
      }
      command {
        command = "ufw status"
        stdout  = ["Status: active"]
      }
      service {
        name    = "fail2ban"
        running = true
        enabled = true
      }
      service {
        name    = "rsyslog"
        running = true
      }
      port {
        port      = "tcp:22"
        listening = true
      }
      file {
        path     = "/etc/golden-build-info"
        contents = ["GOLDEN_HARDEN_PROFILE='cis-level1-server'"]
      }
      imdsv2_enforced    = true
      no_build_leftovers = true
      hardening_audit    = true

      aws_polling {
        delay_seconds = 2
      }

      json_report     = "${var.report_dir}/validate.json"
      junit_report    = "${var.report_dir}/validate.xml"
      markdown_report = "${var.report_dir}/validate.md"
    }

    post-processor "golden-lifecycle" {
      tags = {
        "golden:pipeline" = local.pipeline
      }
      # golden:harden-profile and golden:harden-score on every copy.
      harden_report   = "${var.report_dir}/harden.json"
      copy_to         = var.copy_to
      kms_key_ids     = { for r in var.copy_to : r => var.kms_key }
      poll_interval   = "2s"
      share_with      = var.share_with
      deprecate_after = "90d"
      ssm_parameter   = "/golden/demo/latest"
      manifest        = "${var.report_dir}/lifecycle.json"

      # The seeded fleet: images launch templates, instances and an Auto Scaling group use, one
      # shared with another account, and older ones nothing uses.
      prune {
        match_tags  = { "golden:pipeline" = local.pipeline }
        keep_latest = 3
        older_than  = "30d"
        report      = "${var.report_dir}/prune.json"
      }
    }
  }
}
