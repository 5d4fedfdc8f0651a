variable "ssm_parameter" {
  type        = string
  description = "The SSM parameter golden-lifecycle publishes the image id to."
  default     = "/golden/ubuntu-22.04/latest"
}

variable "owners" {
  type        = list(string)
  description = "Accounts allowed to own the image: this account, or the account that shares it."
  default     = ["self"]
}

variable "require_validated" {
  type        = bool
  description = "Fail the plan unless golden-validate tagged the image golden:validation = passed."
  default     = true
}
