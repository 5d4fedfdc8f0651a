# Integration metadata read by the Packer integrations registry, next to components/.
integration {
  name        = "Golden AMI"
  description = "Build, harden, validate and manage golden Amazon Machine Images as native Packer components."
  identifier  = "packer/golden-ami/golden"
  flags       = []
  docs {
    process_docs    = true
    readme_location = "./README.md"
    external_url    = "https://github.com/golden-ami/packer-plugin-golden"
  }
  license {
    type = "MPL-2.0"
    url  = "https://github.com/golden-ami/packer-plugin-golden/blob/main/LICENSE"
  }
  component {
    type = "builder"
    name = "Golden EBS"
    slug = "ebs"
  }
  component {
    type = "provisioner"
    name = "Golden Harden"
    slug = "harden"
  }
  component {
    type = "post-processor"
    name = "Golden Lifecycle"
    slug = "lifecycle"
  }
  component {
    type = "post-processor"
    name = "Golden Validate"
    slug = "validate"
  }
  component {
    type = "data-source"
    name = "Golden AMI"
    slug = "ami"
  }
}
