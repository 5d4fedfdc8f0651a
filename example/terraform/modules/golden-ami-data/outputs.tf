output "ami_id" {
  description = "The golden image's id."
  value       = data.aws_ami.image.id
}

output "ami_name" {
  value = data.aws_ami.image.name
}

output "creation_date" {
  value = data.aws_ami.image.creation_date
}

output "tags" {
  description = "The image's tags, among them golden:source-ami, golden:harden-score and golden:git-commit."
  value       = data.aws_ami.image.tags
}

output "ssm_parameter_arn" {
  description = "For launch templates that resolve the parameter at launch (resolve:ssm:...)."
  value       = data.aws_ssm_parameter.image.arn
}
