# An application image layered on the team's golden image: golden-ami finds the newest Ubuntu
# 22.04 golden image that passed golden-validate (built by ubuntu-22.04.pkr.hcl), golden-ebs
# builds on it, the application is installed, golden-harden checks in audit mode that the
# installation kept every control of the base (it changes nothing), golden-validate boots the result
# and probes the application, and golden-lifecycle publishes it for the deployments.
#
#   packer init example/layered-app.pkr.hcl && packer build example/layered-app.pkr.hcl

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

variable "app_version" {
  type    = string
  default = "1.0.0"
}

data "golden-ami" "base" {
  region            = var.region
  name              = "golden-ubuntu-22.04-*"
  tags              = { "golden:pipeline" = "golden-ubuntu-22.04" }
  require_validated = true # only images golden-validate tagged golden:validation = passed
}

source "golden-ebs" "app" {
  region        = var.region
  source_ami    = data.golden-ami.base.id
  ssh_username  = "ubuntu"
  instance_type = "t3.small"
  ami_name      = "web-${var.app_version}-{{timestamp}}"
  tags = {
    App               = "web"
    Version           = var.app_version
    BaseImage         = data.golden-ami.base.name
    BaseScore         = data.golden-ami.base.compliance_score
    "golden:pipeline" = "web"
  }
}

build {
  sources = ["source.golden-ebs.app"]

  provisioner "shell" {
    execute_command = "chmod +x {{ .Path }}; sudo {{ .Vars }} {{ .Path }}"
    inline = [
      "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx",
      "echo 'ok' > /var/www/html/health",
      "systemctl enable nginx",
    ]
  }

  # The base is hardened already: audit only, and fail if the application broke a control. The
  # web server's package and port are the application's, so they are allowed.
  provisioner "golden-harden" {
    profile = "cis-level1-server"
    mode    = "audit"
    services {
      allow = ["nginx"]
    }
    firewall {
      allow = ["22/tcp", "80/tcp"]
    }
    report     = "reports/app-audit.json"
    fail_below = 95
  }

  post-processors {
    post-processor "golden-validate" {
      ssh_username = "ubuntu"
      service {
        name    = "nginx"
        running = true
        enabled = true
      }
      http {
        url    = "http://127.0.0.1/health"
        status = 200
      }
      hardening_audit = true
      junit_report    = "reports/app-validate.xml"
    }
    post-processor "golden-lifecycle" {
      ssm_parameter = "/web/ami/latest"
      prune {
        match_tags  = { "golden:pipeline" = "web" }
        keep_latest = 3
        older_than  = "14d"
      }
    }
  }
}
