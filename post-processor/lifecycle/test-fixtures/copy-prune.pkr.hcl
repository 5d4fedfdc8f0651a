# Acceptance fixture, run on the shared Debian 12 amazon-ebs source (internal/acceptance/templates),
# which builds a small AMI tagged Pipeline = run_name: golden-lifecycle tags it, copies it to one
# more region, deprecates it, publishes its id to SSM and plans a prune of the run's pipeline
# without deleting anything (dry run). The test's teardown deregisters both images with their
# snapshots and deletes the parameter in both regions.

variable "copy_region" {
  type = string
}

variable "ssm_parameter" {
  type = string
}

variable "manifest" {
  type = string
}

build {
  sources = ["source.amazon-ebs.debian"]

  post-processor "golden-lifecycle" {
    keep_input_artifact = true
    region              = var.region
    tags = {
      Pipeline     = var.run_name
      "golden:acc" = "lifecycle"
    }
    copy_to         = [var.copy_region]
    copy_timeout    = "45m"
    deprecate_after = "1d"
    ssm_parameter   = var.ssm_parameter
    manifest        = var.manifest

    prune {
      match_tags  = { Pipeline = var.run_name }
      keep_latest = 1
      dry_run     = true
    }
  }
}
