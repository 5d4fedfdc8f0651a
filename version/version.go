// Package version holds the plugin's version, set at release time through -ldflags.
package version

import (
	"github.com/hashicorp/packer-plugin-sdk/version"
)

var (
	// Version is the main version number of the plugin.
	Version = "0.1.0"

	// VersionPrerelease marks a development build; goreleaser clears it for releases.
	VersionPrerelease = "dev"

	// VersionMetadata is optional build metadata (semver "+..." part).
	VersionMetadata = ""

	// PluginVersion is what the plugin reports to Packer through `describe`.
	PluginVersion = version.NewPluginVersion(Version, VersionPrerelease, VersionMetadata)
)
