// Package goldentag names the tags the golden-* components write on AMIs and snapshots and read
// back. They are the contract between components that run in different builds: golden-validate
// marks an AMI as validated, golden-lifecycle records provenance, golden-ami selects on both.
package goldentag

// Validation records the outcome of golden-validate on an AMI: ValidationPassed or
// ValidationFailed. golden-ami's require_validated selects only ValidationPassed.
const (
	Validation       = "golden:validation"
	ValidationPassed = "passed"
	ValidationFailed = "failed"
	// ValidatedAt is when golden-validate judged the AMI, in RFC 3339 (UTC).
	ValidatedAt = "golden:validated-at"
)

// Provenance tags: where an AMI came from and how it was made.
const (
	// BuildID identifies the Packer run that built the AMI; the temporary resources of that run
	// carry it too.
	BuildID = "golden:build-id"
	// BuildName is the name of the Packer build block.
	BuildName = "golden:build-name"
	// PackerVersion is the version of Packer that ran the build.
	PackerVersion = "golden:packer-version"
	// SourceAMI is the id of the AMI the build started from.
	SourceAMI = "golden:source-ami"
	// GitCommit and GitRef are the revision of the template's repository, when known.
	GitCommit = "golden:git-commit"
	GitRef    = "golden:git-ref"
	// HardenProfile is the golden-harden profile applied, e.g. "cis-level1-server".
	HardenProfile = "golden:harden-profile"
	// HardenScore is the compliance score golden-harden measured after hardening, in percent.
	HardenScore = "golden:harden-score"
	// Pipeline names the image pipeline an AMI belongs to; pruning selects on it.
	Pipeline = "golden:pipeline"
)

// Temporary resources: what a build (or a validation run) creates only for its own duration, and
// what golden-ebs's orphan sweep may delete once a crashed run left it behind.
const (
	// Temporary marks a resource that exists only while a run needs it; its value is
	// TemporaryTrue. Images and snapshots carry it until their build has finished them.
	Temporary     = "golden:temporary"
	TemporaryTrue = "true"
	// ExpiresAt is when a temporary resource may be swept, in RFC 3339 (UTC). A run that is still
	// alive at that time has outlived its own deadline.
	ExpiresAt = "golden:expires-at"
)
