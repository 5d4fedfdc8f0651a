//go:generate packer-sdc mapstructure-to-hcl2 -type Options,KernelModulesOptions,SysctlOptions,SSHOptions,FirewallOptions,Fail2banOptions,ChronyOptions,AuditdOptions,PAMOptions,LoginOptions,SudoOptions,CronOptions,FilesOptions,ServicesOptions,BannersOptions,PackagesOptions,TimezoneOptions,BuildInfoOptions

package hardening

import (
	"errors"
	"sort"
)

// Options are the per-module parameters a template sets in HCL blocks named after the module
// (`ssh { max_auth_tries = 3 }`, `firewall { allow = ["22/tcp"] }`...). Every field has a default
// that matches the CIS Level 1 server recommendation; an unset block keeps all defaults.
type Options struct {
	KernelModules KernelModulesOptions `mapstructure:"kernel_modules"`
	Sysctl        SysctlOptions        `mapstructure:"sysctl"`
	SSH           SSHOptions           `mapstructure:"ssh"`
	Firewall      FirewallOptions      `mapstructure:"firewall"`
	Fail2ban      Fail2banOptions      `mapstructure:"fail2ban"`
	Chrony        ChronyOptions        `mapstructure:"chrony"`
	Auditd        AuditdOptions        `mapstructure:"auditd"`
	PAM           PAMOptions           `mapstructure:"pam"`
	Login         LoginOptions         `mapstructure:"login"`
	Sudo          SudoOptions          `mapstructure:"sudo"`
	Cron          CronOptions          `mapstructure:"cron"`
	Files         FilesOptions         `mapstructure:"files"`
	Services      ServicesOptions      `mapstructure:"services"`
	Banners       BannersOptions       `mapstructure:"banners"`
	Packages      PackagesOptions      `mapstructure:"packages"`
	Timezone      TimezoneOptions      `mapstructure:"timezone"`
	BuildInfo     BuildInfoOptions     `mapstructure:"build_info"`
}

// moduleOptions is what each module's options block provides to the renderer.
type moduleOptions interface {
	// shellParams returns the module's parameters as shell variable name -> value with defaults
	// applied. Names are upper case and start with the module's prefix (SSH_MAX_AUTH_TRIES).
	// Lists are joined with single spaces unless the control needs another separator.
	shellParams() map[string]string
	// validate returns one error per bad value, each naming the option ("ssh.max_auth_tries: ...").
	validate() []error
}

func (o *Options) all() []moduleOptions {
	return []moduleOptions{
		&o.KernelModules, &o.Sysctl, &o.SSH, &o.Firewall, &o.Fail2ban, &o.Chrony, &o.Auditd,
		&o.PAM, &o.Login, &o.Sudo, &o.Cron, &o.Files, &o.Services, &o.Banners, &o.Packages, &o.Timezone, &o.BuildInfo,
	}
}

// Validate checks every module's options and joins all errors, so `packer validate` shows them at once.
func (o *Options) Validate() error {
	var errs []error
	for _, m := range o.all() {
		errs = append(errs, m.validate()...)
	}
	return errors.Join(errs...)
}

// ShellParams returns every module's parameters, sorted by name for a stable script.
func (o *Options) ShellParams() []ShellParam {
	var out []ShellParam
	for _, m := range o.all() {
		for k, v := range m.shellParams() {
			out = append(out, ShellParam{Name: k, Value: v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ShellParam is one shell variable assignment at the top of the rendered script.
type ShellParam struct {
	Name  string
	Value string
}
