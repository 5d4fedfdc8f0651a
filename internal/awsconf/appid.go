package awsconf

import (
	"os"
	"strings"
)

// componentAppID is the application id every AWS call of this process carries in its User-Agent
// ("app/golden-ebs"): CloudTrail records the user agent of each call, so an account's owner can tell
// which component made it, and the simulator's per-caller counts (the IAM test) rest on it.
//
// Packer starts the plugin binary once per component, as `packer-plugin-golden start <kind> <name>`
// with flags such as `--protobuf` anywhere among the arguments (packer-plugin-sdk's plugin.Set);
// any other process (a test binary, `describe`) gets no id.
func componentAppID(args []string) string {
	var words []string
	for _, a := range args[min(1, len(args)):] {
		if !strings.HasPrefix(a, "-") {
			words = append(words, a)
		}
	}
	if len(words) == 3 && words[0] == "start" && words[2] != "" {
		return "golden-" + words[2]
	}
	return ""
}

var processAppID = componentAppID(os.Args)
