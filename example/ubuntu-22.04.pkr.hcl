# The golden Ubuntu 22.04 image, the whole pipeline in one template: build, install, harden,
# validate on a freshly booted instance, copy, share, publish, prune, and report what the old
# images cost. It replaces a Packer template, an Ansible playbook, a validation script in Bash and
# a lifecycle script in Python (docs/migrating-from-ansible.md maps every task of that playbook).
#
#   packer init example/ubuntu-22.04.pkr.hcl
#   packer build -var environment=production example/ubuntu-22.04.pkr.hcl
#
# The same pipeline builds the other releases golden-ebs's source_os knows, from their variable
# files: ubuntu-24.04, ubuntu-26.04, debian-12 and debian-13.
#
#   packer build -var-file=example/debian-12.pkrvars.hcl example/ubuntu-22.04.pkr.hcl
#
# The AWS identity needs the policies of docs/iam.md for golden-ebs, golden-validate and
# golden-lifecycle. To try the template without AWS, see docs/try-locally.md.

packer {
  required_plugins {
    golden = {
      source  = "github.com/golden-ami/golden"
      version = ">= 0.1.0"
    }
  }
}

variable "os" {
  type        = string
  description = "The release to build: a source_os of golden-ebs (see local.releases)."
  default     = "ubuntu-22.04"
  validation {
    condition     = contains(["ubuntu-22.04", "ubuntu-24.04", "ubuntu-26.04", "debian-12", "debian-13"], var.os)
    error_message = "The os variable must be ubuntu-22.04, ubuntu-24.04, ubuntu-26.04, debian-12 or debian-13."
  }
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "instance_type" {
  type    = string
  default = "t3.medium"
}

variable "environment" {
  type    = string
  default = "production"
}

variable "copy_to" {
  type        = list(string)
  description = "Regions the image is copied to once it passed validation."
  default     = ["us-west-2", "eu-west-1"]
}

variable "share_with" {
  type        = list(string)
  description = "Accounts that may launch the image."
  default     = []
}

variable "git_commit" {
  type    = string
  default = ""
}

variable "git_ref" {
  type    = string
  default = ""
}

variable "report_dir" {
  type    = string
  default = "reports"
}

locals {
  # What differs between the releases: the OS tags and the user cloud-init gives the launch key.
  releases = {
    "ubuntu-22.04" = { os = "Ubuntu", version = "22.04", user = "ubuntu" }
    "ubuntu-24.04" = { os = "Ubuntu", version = "24.04", user = "ubuntu" }
    "ubuntu-26.04" = { os = "Ubuntu", version = "26.04", user = "ubuntu" }
    "debian-12"    = { os = "Debian", version = "12", user = "admin" }
    "debian-13"    = { os = "Debian", version = "13", user = "admin" }
  }
  release  = local.releases[var.os]
  pipeline = "golden-${var.os}"
}

source "golden-ebs" "image" {
  region        = var.region
  source_os     = var.os # the vendor's current image, read from its public SSM parameter
  instance_type = var.instance_type
  ami_name      = "${local.pipeline}-{{timestamp}}"

  # IMDSv2, an encrypted gp3 root and SSH open to this machine only are the defaults.
  root_volume {
    volume_size = 20
  }

  # The tags the old validation script required; golden-validate checks them below.
  tags = {
    Name              = local.pipeline
    Environment       = var.environment
    OS                = local.release.os
    OSVersion         = local.release.version
    Purpose           = "Golden AMI"
    ManagedBy         = "Packer"
    "golden:pipeline" = local.pipeline
  }
  snapshot_tags = {
    "golden:pipeline" = local.pipeline
  }
  run_tags = {
    Purpose = "Golden AMI build"
  }
}

build {
  sources = ["source.golden-ebs.image"]

  provisioner "shell" {
    execute_command = "chmod +x {{ .Path }}; sudo {{ .Vars }} {{ .Path }}"
    scripts         = ["${path.root}/scripts/wait-cloud-init.sh"]
  }

  # Docker Engine from Docker's repository, the build user in the docker group.
  provisioner "shell" {
    execute_command  = "chmod +x {{ .Path }}; sudo {{ .Vars }} {{ .Path }}"
    environment_vars = ["DOCKER_USER=${build.User}"]
    scripts          = ["${path.root}/scripts/docker.sh", "${path.root}/scripts/awscli.sh"]
  }

  # The CloudWatch agent and its configuration (metrics, syslog, auth and audit logs).
  provisioner "file" {
    source      = "${path.root}/files/cloudwatch-agent.json"
    destination = "/tmp/amazon-cloudwatch-agent.json"
  }
  provisioner "shell" {
    execute_command = "chmod +x {{ .Path }}; sudo {{ .Vars }} {{ .Path }}"
    scripts         = ["${path.root}/scripts/cloudwatch-agent.sh"]
  }

  # Everything the playbook configured, and the CIS Level 1 server controls, in one run over this
  # SSH connection: checked, fixed, checked again, reported. CIS puts auditd with its rules and
  # the minimum password age in Level 2: the playbook set both, so they are included, and SSH TCP
  # forwarding is turned off too (nothing on this image tunnels through sshd). Beyond CIS, as
  # auditors' scanners ask: private temporary directories per session, the packages' files
  # checked weekly against their checksums, and process accounting.
  provisioner "golden-harden" {
    profile = "cis-level1-server"
    include = ["auditd", "login.pass-min-days", "ssh.tcp-forwarding", "pam.tmpdir", "packages.debsums", "accounting"]

    packages {
      install = ["curl", "wget", "git", "vim", "htop", "tree", "unzip", "jq", "python3-venv",
      "ca-certificates", "gnupg", "lsb-release", "rsyslog"]
      unattended_upgrades = true
    }
    timezone {
      name = "UTC"
    }
    # The playbook's 5-minute keep-alive; one unanswered probe drops the session (the SCAP
    # Security Guide's standard profile asks for at most 300 s in all; the playbook allowed 600).
    # Three key or password attempts per connection: the build logs in with one key.
    ssh {
      client_alive_interval  = 300
      client_alive_count_max = 1
      max_auth_tries         = 3
    }
    # UFW denies incoming traffic but the build's SSH port (allowed before the default deny).
    firewall {
      allow = ["22/tcp"]
    }
    fail2ban {
      bantime  = "1h"
      findtime = "10m"
      maxretry = 3
    }
    chrony {
      servers = ["169.254.169.123 prefer iburst minpoll 4 maxpoll 4"]
    }
    # Docker forwards its containers' traffic.
    sysctl {
      overrides = { "net.ipv4.ip_forward" = "1" }
    }
    build_info {
      build_id = var.git_commit
      values   = { ENVIRONMENT = var.environment }
    }

    report          = "${var.report_dir}/harden.json"
    report_junit    = "${var.report_dir}/harden.xml"
    report_markdown = "${var.report_dir}/harden.md"
    fail_below      = 95
  }

  provisioner "shell" {
    execute_command = "chmod +x {{ .Path }}; sudo {{ .Vars }} {{ .Path }}"
    scripts         = ["${path.root}/scripts/cleanup.sh"]
  }

  # A record of every build, kept even when validation fails (so a deprecated image stays known).
  post-processor "manifest" {
    output     = "${var.report_dir}/manifest.json"
    strip_path = true
    custom_data = {
      source_ami = "${build.SourceAMI}"
      git_commit = var.git_commit
    }
  }

  post-processors {
    # Boot the new image on a new instance and check it as the old validation script did, and more.
    post-processor "golden-validate" {
      ssh_username = local.release.user

      required_tags = ["Environment", "OS", "OSVersion", "Purpose"]
      command {
        command = "docker --version"
        stdout  = ["/^Docker version /"]
      }
      command {
        command = "aws --version"
        stdout  = ["/^aws-cli\\/2\\./"]
      }
      command {
        command = "python3 --version"
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
        name    = "docker"
        running = true
        enabled = true
      }
      service {
        name    = "chrony"
        running = true
      }
      service {
        name    = "amazon-cloudwatch-agent"
        enabled = true
      }
      file {
        path = "/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json"
        mode = "0644"
      }
      port {
        port      = "tcp:22"
        listening = true
      }
      hardening_audit    = true
      imdsv2_enforced    = true
      no_build_leftovers = true

      on_failure      = "deprecate"
      junit_report    = "${var.report_dir}/validate.xml"
      json_report     = "${var.report_dir}/validate.json"
      markdown_report = "${var.report_dir}/validate.md"
    }

    # Only a validated image gets here: copy, share, publish, and prune the old ones.
    post-processor "golden-lifecycle" {
      tags = {
        "golden:pipeline" = local.pipeline
      }
      git_commit    = var.git_commit
      git_ref       = var.git_ref
      harden_report = "${var.report_dir}/harden.json"

      copy_to         = var.copy_to
      share_with      = var.share_with
      deprecate_after = "90d"
      ssm_parameter   = "/golden/${var.os}/latest"
      manifest        = "${var.report_dir}/lifecycle.json"

      # The cost report: every image this pipeline owns, those kept and why, those deleted, and
      # the snapshot storage (GiB and USD per month) reclaimed.
      prune {
        match_tags          = { "golden:pipeline" = local.pipeline }
        keep_latest         = 5
        older_than          = "30d"
        regions             = concat([var.region], var.copy_to)
        price_per_gib_month = 0.05
        report              = "${var.report_dir}/prune.json"
      }
    }
  }
}
