# The demo pipeline `make demo` runs against the local AWS simulator and a Debian 12 test machine:
# find the newest validated golden image to layer on, harden the machine over SSH, and report.
# The SSH target stands in for the EC2 instance the golden-ebs builder will launch.

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

variable "ssh_host" {
  type = string
}

variable "ssh_port" {
  type    = number
  default = 22
}

variable "ssh_username" {
  type    = string
  default = "admin"
}

variable "ssh_private_key_file" {
  type = string
}

variable "report_dir" {
  type    = string
  default = "reports"
}

# The newest image of this pipeline that golden-validate passed; the failed one from November is
# ignored, whatever its date.
data "golden-ami" "base" {
  region            = var.region
  name              = "golden-debian-12-*"
  tags              = { "golden:pipeline" = "debian-12" }
  require_validated = true
}

source "null" "debian" {
  communicator         = "ssh"
  ssh_host             = var.ssh_host
  ssh_port             = var.ssh_port
  ssh_username         = var.ssh_username
  ssh_private_key_file = var.ssh_private_key_file
}

build {
  name    = "golden-debian-12"
  sources = ["source.null.debian"]

  provisioner "shell-local" {
    inline = ["echo 'layering on ${data.golden-ami.base.name} (${data.golden-ami.base.id}, score ${data.golden-ami.base.compliance_score})'"]
  }

  provisioner "golden-harden" {
    profile = "cis-level1-server"

    firewall {
      allow = ["22/tcp", "443/tcp"]
    }

    waiver {
      control       = "files.world-writable"
      justification = "scratch directories of the test image are reviewed separately"
      expires       = "2027-06-30"
    }

    report          = "${var.report_dir}/harden.json"
    report_junit    = "${var.report_dir}/harden.xml"
    report_markdown = "${var.report_dir}/harden.md"
    fail_below      = 90
  }

  # Running the same hardening again must change nothing: the report says every control passes.
  provisioner "golden-harden" {
    profile = "cis-level1-server"
    mode    = "audit"

    firewall {
      allow = ["22/tcp", "443/tcp"]
    }

    report = "${var.report_dir}/audit.json"
  }

  provisioner "shell" {
    inline = ["sudo sshd -T | grep -E '^(permitrootlogin|passwordauthentication|maxauthtries) '", "sudo ufw status"]
  }
}
