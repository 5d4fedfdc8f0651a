package hardening

// The mounts module has no options. CIS 1.1.2 wants the world-writable temporary file systems
// mounted with nodev, nosuid and noexec, so that nothing placed there runs or acts as a device or a
// setuid program. /dev/shm is always a tmpfs: its line in /etc/fstab, which systemd applies at
// boot to the /dev/shm it mounts itself, and a remount now.
//
// /tmp is not in the module. On an image whose /tmp is not a file system of its own (the vendors'
// Debian 12 and Ubuntu images), a /tmp line in /etc/fstab is not only for the next boot: once
// systemd reloads (any package or module that changes a unit does), the next start of a service
// with PrivateTmp (fail2ban's restart, for one) pulls the new tmp.mount in and mounts an empty
// tmpfs over the running build's /tmp, golden-harden's own work folder and the scripts the later
// provisioners upload there. /home, /var, /var/log and /var/log/audit on file systems of their own
// (CIS 1.1.2.3 to 1.1.2.7) come from the image's volume layout, not from a provisioner.

// mountPoint is one mount point the module configures.
type mountPoint struct {
	name, path, title string
	ubuntu, debian    []string // CIS items
	line              string   // the /etc/fstab line when it has none
}

const mountOptions = "nodev,nosuid,noexec"

var mountPoints = []mountPoint{
	{name: "dev-shm", path: "/dev/shm", title: "Ensure /dev/shm is mounted with nodev, nosuid and noexec",
		ubuntu: []string{"1.1.2.2.1", "1.1.2.2.2", "1.1.2.2.3", "1.1.2.2.4"},
		debian: []string{"1.1.2.2.1", "1.1.2.2.2", "1.1.2.2.3", "1.1.2.2.4"},
		line:   "tmpfs /dev/shm tmpfs mode=1777,strictatime," + mountOptions + " 0 0"},
}

// params are the variables a mount point's check and fix read.
func (m mountPoint) params() []string {
	return []string{"_fstab_awk", embedded("mounts/fstab.awk"), "_mp", m.path, "_opts", mountOptions, "_line", m.line}
}

func (m mountPoint) control() Control {
	var refs []Ref
	for i := range m.ubuntu {
		refs = append(refs, cisRefs(m.ubuntu[i], m.debian[i])...)
	}
	return Control{
		ID:    "mounts." + m.name,
		Title: m.title,
		Refs:  refs,
		Level: 1,
		OS:    debianFamilies,
		Check: embeddedWith("mounts/mount-check.sh", m.params()...),
		Fix:   embeddedWith("mounts/mount-fix.sh", m.params()...),
	}
}

func init() {
	var controls []Control
	for _, m := range mountPoints {
		controls = append(controls, m.control())
	}
	register(Module{
		Name:        "mounts",
		Description: "/dev/shm with nodev, nosuid and noexec, stated in /etc/fstab and remounted.",
		Order:       25,
		// systemd makes the mount units of /etc/fstab's lines at a reload.
		Finalize: `	systemctl daemon-reload`,
		Controls: controls,
	})
}
