# A launch template on the golden image, two ways: pinned to the id of the last plan (changes show
# up in plans, a rollout is an apply), or resolved by EC2 at every launch from the SSM parameter
# (the newest validated image, no apply). golden-lifecycle's prune never deletes an image a launch
# template version or the SSM parameter still names.

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  type    = string
  default = "us-east-1"
}

module "golden_ami" {
  source        = "../../modules/golden-ami-data"
  ssm_parameter = "/golden/ubuntu-22.04/latest"
}

resource "aws_launch_template" "pinned" {
  name_prefix   = "web-pinned-"
  image_id      = module.golden_ami.ami_id
  instance_type = "t3.small"

  metadata_options {
    http_tokens = "required"
  }

  tag_specifications {
    resource_type = "instance"
    tags = {
      GoldenImage = module.golden_ami.ami_name
    }
  }
}

resource "aws_launch_template" "latest" {
  name_prefix   = "web-latest-"
  image_id      = "resolve:ssm:/golden/ubuntu-22.04/latest"
  instance_type = "t3.small"

  metadata_options {
    http_tokens = "required"
  }
}

output "golden_ami_id" {
  value = module.golden_ami.ami_id
}
