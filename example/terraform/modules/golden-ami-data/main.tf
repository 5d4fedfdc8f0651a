# The golden image a deployment should use: the AMI id golden-lifecycle published to an SSM
# parameter, and what the image says about itself. Nothing is committed back to a repository when
# a new image is built: the next plan reads the new id.

data "aws_ssm_parameter" "image" {
  name = var.ssm_parameter
}

data "aws_ami" "image" {
  owners = var.owners

  filter {
    name   = "image-id"
    values = [nonsensitive(data.aws_ssm_parameter.image.value)]
  }

  lifecycle {
    postcondition {
      condition     = !var.require_validated || lookup(self.tags, "golden:validation", "") == "passed"
      error_message = "The image ${self.id} named by ${var.ssm_parameter} has not passed golden-validate."
    }
  }
}
