# golden-harden: the hand-written playbook's hardening rebuilt as one provisioner block.
#
# The provisioner runs on any build with an SSH communicator: golden-ebs, packer-plugin-amazon's
# amazon-ebs, or, as here, the null builder pointed at a machine that already runs (handy to try
# it on a test VM: packer build -var host=... -var user=... -var key=... example/harden.pkr.hcl).
# In a pipeline, put your golden-ebs or amazon-ebs source in the build instead.

packer {
  required_plugins {
    golden = {
      source  = "github.com/golden-ami/golden"
      version = ">= 0.1.0"
    }
  }
}

variable "host" {
  type    = string
  default = "127.0.0.1"
}

variable "port" {
  type    = number
  default = 22
}

variable "user" {
  type    = string
  default = "admin"
}

variable "key" {
  type        = string
  description = "private key of the build user"
  default     = "~/.ssh/id_ed25519"
}

source "null" "machine" {
  communicator         = "ssh"
  ssh_host             = var.host
  ssh_port             = var.port
  ssh_username         = var.user
  ssh_private_key_file = pathexpand(var.key)
}

build {
  sources = ["source.null.machine"]

  provisioner "golden-harden" {
    # Every CIS Level 1 server control (the default). "baseline" applies only what the old
    # playbook did (packages, UTC, ssh basics, ufw, fail2ban, chrony, auditd, sysctls...).
    profile = "cis-level1-server"

    # The playbook's extra packages; ufw, fail2ban, chrony and auditd come with their modules.
    packages {
      install = ["ca-certificates", "curl", "wget", "git", "vim", "htop", "tree", "unzip", "jq", "gnupg", "lsb-release", "python3-venv"]
    }

    timezone {
      name = "UTC"
    }

    # The playbook's SSH settings are CIS defaults already; the build user stays allowed.
    ssh {
      client_alive_interval  = 300
      client_alive_count_max = 2
    }

    # The build's SSH port is always allowed first; add the service ports here.
    firewall {
      allow = ["443/tcp"]
    }

    # The playbook's fail2ban jail, now with a backend that works on Debian 12 (systemd journal).
    fail2ban {
      bantime  = "1h"
      findtime = "10m"
      maxretry = 3
    }

    # The Amazon Time Sync Service.
    chrony {
      servers = ["169.254.169.123"]
    }

    # A finding accepted for a while: reported "waived" instead of "failed", until it expires.
    waiver {
      control       = "files.world-writable"
      justification = "the monitoring agent's spool directory; fixed in its next release"
      expires       = "2027-01-31"
    }

    report          = "reports/harden.json"
    report_junit    = "reports/harden.xml"
    report_markdown = "reports/harden.md"
    fail_below      = 100
  }
}
