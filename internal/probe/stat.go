package probe

import "strings"

// fileStat is stat's answer.
type fileStat struct {
	kind, mode, owner, group string
}

func parseStat(s string) (fileStat, bool) {
	f := strings.Split(s, "|")
	if len(f) != 5 {
		return fileStat{}, false
	}
	kind := map[string]string{"regular file": "file", "regular empty file": "file", "directory": "directory", "symbolic link": "symlink"}[f[0]]
	if kind == "" {
		kind = f[0]
	}
	return fileStat{kind: kind, mode: f[1], owner: f[2], group: f[3]}, true
}
