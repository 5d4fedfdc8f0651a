package lab

import "strconv"

// NullSSHTemplate is the smallest real build against a target: packer's null builder connecting
// over SSH to the machine the variables host, port, user and key name (see PackerVars), running
// the given provisioner blocks. The template requires this plugin, so golden-* provisioners work
// in it; lab.Packer installs the plugin for every test.
func NullSSHTemplate(provisioners string) string {
	return nullTemplate(`variable "key"  { type = string }`, `ssh_private_key_file = var.key`, provisioners)
}

// NullSSHPasswordTemplate is NullSSHTemplate logging in with the password in the variable
// password instead of a key (ssh_password only).
func NullSSHPasswordTemplate(provisioners string) string {
	return nullTemplate(`variable "password" {
  type      = string
  sensitive = true
}`, `ssh_password         = var.password`, provisioners)
}

func nullTemplate(authVariable, authSetting, provisioners string) string {
	return `packer {
  required_plugins {
    golden = {
      source  = "` + pluginSource + `"
      version = ">= 0.0.1"
    }
  }
}

variable "host" { type = string }
variable "port" { type = number }
variable "user" { type = string }
` + authVariable + `

source "null" "target" {
  communicator         = "ssh"
  ssh_host             = var.host
  ssh_port             = var.port
  ssh_username         = var.user
  ` + authSetting + `
  ssh_timeout          = "2m"
}

build {
  sources = ["source.null.target"]

` + provisioners + `
}
`
}

// SSHVarNames are the names of the template variables that say where a target is.
type SSHVarNames struct{ Host, Port, User, Key string }

// NullSSHVars are the variables of NullSSHTemplate (and of example/harden.pkr.hcl).
var NullSSHVars = SSHVarNames{Host: "host", Port: "port", User: "user", Key: "key"}

// PackerVars are the -var flags that point NullSSHTemplate at the target.
func (h *TargetHost) PackerVars() []string { return h.PackerVarsNamed(NullSSHVars) }

// PackerVarsNamed are the -var flags that point a template with other variable names at the target.
func (h *TargetHost) PackerVarsNamed(n SSHVarNames) []string {
	return []string{
		"-var", n.Host + "=" + h.Host,
		"-var", n.Port + "=" + strconv.Itoa(h.Port),
		"-var", n.User + "=" + h.User,
		"-var", n.Key + "=" + h.KeyPath,
	}
}
