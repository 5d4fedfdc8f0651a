# golden-ebs builds and hardens an Ubuntu 22.04 image; golden-validate boots it on fresh instances
# in two targets, probes it, and tags it golden:validation = passed or failed.
#
# `packer validate example/validate.pkr.hcl` checks it without AWS. Credentials are left to the
# environment (AWS_PROFILE, SSO, instance roles...).

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

source "golden-ebs" "ubuntu" {
  region        = var.region
  source_os     = "ubuntu-22.04"
  instance_type = "t3.medium"
  ami_name      = "golden-ubuntu-22.04-{{timestamp}}"
  tags = {
    Team        = "platform"
    Environment = "production"
  }
}

build {
  sources = ["source.golden-ebs.ubuntu"]

  provisioner "golden-harden" {
    profile = "cis-level1-server"
    report  = "reports/harden.json"
  }

  post-processor "golden-validate" {
    region       = var.region
    ssh_username = "ubuntu"

    # One instance per target, all at once.
    target {
      instance_type = "t3.micro"
    }
    target {
      instance_type = "m7i.large"
    }

    # Waits after the launch, each with its own limit.
    ssh_timeout        = "5m"
    cloud_init_timeout = "10m"
    # A failing probe is asked again every probe_interval until its timeout.
    probe_timeout  = "2m"
    probe_interval = "2s"

    service {
      name    = "ssh"
      running = true
      enabled = true
    }
    service {
      name    = "telnet"
      running = false
    }
    package {
      name    = "openssh-server"
      version = ">= 1:8.9"
    }
    package {
      name      = "telnetd"
      installed = false
    }
    port {
      port      = "tcp:22"
      listening = true
    }
    file {
      path  = "/etc/ssh/sshd_config"
      mode  = "0600"
      owner = "root"
    }
    sysctl {
      name  = "net.ipv4.conf.all.send_redirects"
      value = "0"
    }
    sysctl {
      name    = "net.ipv4.tcp_syncookies"
      value   = "1"
      timeout = "30s"
    }
    mount {
      path    = "/tmp"
      options = ["nosuid", "nodev"]
    }
    user {
      name   = "ubuntu"
      groups = ["sudo"]
    }
    group {
      name = "sudo"
    }
    process {
      name = "sshd"
    }
    command {
      command     = "chronyc tracking"
      exit_status = 0
      stdout      = ["/Leap status +: Normal/"]
    }

    hardening_audit    = true
    imdsv2_enforced    = true
    no_build_leftovers = true
    required_tags      = ["Team", "Environment=production"]

    # The image stays listed as failed but out of the way; a kept instance helps debugging.
    on_failure      = "deprecate"
    keep_on_failure = false

    junit_report    = "reports/validate.xml"
    json_report     = "reports/validate.json"
    markdown_report = "reports/validate.md"
  }

  # Packer deletes a build's artifact when its only post-processor fails: the manifest keeps it, so
  # that on_failure decides.
  post-processor "manifest" {
    output = "reports/manifest.json"
  }
}
