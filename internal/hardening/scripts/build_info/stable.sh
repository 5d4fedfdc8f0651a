{
	if [ -n "$BUILD_INFO_BUILD_ID" ]; then printf "GOLDEN_BUILD_ID='%s'\n" "$BUILD_INFO_BUILD_ID"; fi
	printf "GOLDEN_BUILD_USER='%s'\n" "$G_BUILD_USER"
	printf "GOLDEN_OS='%s %s'\n" "$G_OS_ID" "$G_OS_VERSION"
	if [ -n "${G_PROFILE:-}" ]; then printf "GOLDEN_HARDEN_PROFILE='%s'\n" "$G_PROFILE"; fi
	if [ -n "${G_PLUGIN_VERSION:-}" ]; then printf "GOLDEN_PLUGIN_VERSION='%s'\n" "$G_PLUGIN_VERSION"; fi
	if [ -n "${G_SOURCE_AMI:-}" ]; then printf "GOLDEN_SOURCE_AMI='%s'\n" "$G_SOURCE_AMI"; fi
	if [ -n "$BUILD_INFO_VALUES" ]; then printf '%s\n' "$BUILD_INFO_VALUES"; fi
}
