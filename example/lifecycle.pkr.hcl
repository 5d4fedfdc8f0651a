# golden-lifecycle with every option set: copy, share, deprecate, protect, publish and prune.
#
# The post-processor reads the artifact of an EBS-backed builder: golden-ebs, or packer-plugin-amazon's
# amazon-ebs. To check this file without AWS (`packer validate example/lifecycle.pkr.hcl`), the
# build below uses the null builder; in a pipeline, put your golden-ebs or amazon-ebs source there.
# Credentials are left to the environment (AWS_PROFILE, SSO, instance roles...): the static
# credential options (profile, access_key, secret_key, token) and custom_endpoint_ec2 exist, but
# belong in no template kept in a repository.

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

variable "git_commit" {
  type    = string
  default = "0000000000000000000000000000000000000000"
}

variable "git_ref" {
  type    = string
  default = "refs/heads/main"
}

variable "dry_run" {
  type        = bool
  default     = true
  description = "Print every change without making it. Set to false to act."
}

source "null" "image" {
  communicator = "none"
}

build {
  sources = ["source.null.image"]

  post-processor "golden-lifecycle" {
    # The build's AMI must survive the post-processor: see "When a step fails" in the docs.
    keep_input_artifact = true

    # AWS access (shared by every golden-* component).
    region                 = var.region
    skip_region_validation = false
    max_retries            = 10
    assume_role {
      role_arn     = "arn:aws:iam::111122223333:role/golden-image-publisher"
      session_name = "golden-lifecycle"
      external_id  = "golden-pipeline"
      duration     = "1h"
    }

    # Tags on the image and its snapshots in every region, plus provenance
    # (golden:build-id, golden:source-ami, golden:git-commit, golden:harden-score, ...).
    tags = {
      Name        = "golden-ubuntu-22.04"
      Pipeline    = "golden-ubuntu-22.04"
      Environment = "production"
    }
    snapshot_tags = {
      Backup = "none"
    }
    git_commit = var.git_commit
    git_ref    = var.git_ref
    # The report of the build's golden-harden provisioner: its profile and score become the
    # golden:harden-profile and golden:harden-score tags.
    harden_report = "reports/harden.json"

    # Copies, all at once, each encrypted with its region's customer managed key.
    copy_to        = ["us-west-2", "eu-west-1"]
    encrypt_copies = true
    kms_key_ids = {
      "us-west-2" = "alias/golden-images"
      "eu-west-1" = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    }
    copy_timeout  = "2h"
    poll_interval = "15s"

    # Sharing: accounts get launch permission and create-volume permission on the snapshots.
    share_with          = ["444455556666"]
    share_with_org_arns = ["arn:aws:organizations::111122223333:organization/o-exampleorg1"]
    share_with_ou_arns  = ["arn:aws:organizations::111122223333:ou/o-exampleorg1/ou-ab12-cdefgh34"]

    # Retirement: deprecated after 90 days; protected from accidental deregistration.
    deprecate_after = "90d"
    deregistration_protection {
      enabled       = true
      with_cooldown = true
    }

    # Publication: the id in an SSM parameter per region, and a manifest for Terraform and CI.
    ssm_parameter = "/golden/ubuntu-22.04/latest"
    manifest      = "build/golden-manifest.json"

    # Prune older images of this pipeline. Deleted only if outside the 5 newest AND older than
    # 30 days AND unused (instances, launch templates, Auto Scaling groups, launch
    # configurations, SSM parameters) AND not tagged golden:keep or protected.
    prune {
      match_tags          = { Pipeline = "golden-ubuntu-22.04" }
      name_pattern        = "golden-ubuntu-22.04-*"
      keep_latest         = 5
      older_than          = "30d"
      keep_tag            = "golden:keep"
      regions             = ["us-east-1", "us-west-2", "eu-west-1"]
      delete_snapshots    = true
      include_shared      = false
      dry_run             = true
      price_per_gib_month = 0.05
      report              = "build/prune-plan.json"
    }

    dry_run = var.dry_run
  }
}
