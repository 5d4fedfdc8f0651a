package e2e

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/hardening"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

func TestMain(m *testing.M) { os.Exit(lab.Main(m)) }

// shellOverSSH is the smallest real build: a shell provisioner over SSH on a target.
var shellOverSSH = lab.NullSSHTemplate(`  provisioner "shell" {
    inline = [
      "echo written-by-packer-as-$(id -un) | sudo tee /etc/golden-e2e-marker >/dev/null",
      "sudo chmod 0640 /etc/golden-e2e-marker",
    ]
  }`)

// TestLabPackerShellOverSSH runs the real packer binary against a target, on the standard SSH port
// and on another one, and checks on the target, over a new connection, what the build wrote.
func TestLabPackerShellOverSSH(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	for _, port := range []int{22, 2222} {
		t.Run(fmt.Sprintf("port_%d", port), func(t *testing.T) {
			t.Parallel()
			target := lab.Target(t, lab.WithSSHPort(port))
			if target.Port != port {
				t.Fatalf("target listens on port %d, want %d", target.Port, port)
			}
			p := lab.Packer(t)
			file := p.WriteFile(t, "null-ssh.pkr.hcl", shellOverSSH)

			res := p.Run(t, append(append([]string{"build", "-color=false"}, target.PackerVars()...), file)...)
			if res.ExitCode != 0 {
				t.Fatalf("packer build exited %d:\n%s", res.ExitCode, res.Output)
			}
			if !strings.Contains(res.Output, "Build 'null.target' finished") {
				t.Errorf("packer did not report the build as finished:\n%s", res.Output)
			}

			got := target.MustRun(t, "sudo stat -c '%U %a' /etc/golden-e2e-marker && sudo cat /etc/golden-e2e-marker")
			want := "root 640\nwritten-by-packer-as-" + target.User + "\n"
			if got != want {
				t.Errorf("on the target after the build: %q, want %q", got, want)
			}
		})
	}
}

// TestLabSimInstanceIsTarget launches an instance in the simulator, through the real SDK, and
// reaches the target at the address the API reports: the mapping builder and validation tests use.
func TestLabSimInstanceIsTarget(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	target := lab.Target(t)
	sim := ec2sim.StartTest(t, ec2sim.Options{
		InstanceAddress: target.Host,
		Delays:          ec2sim.Delays{InstancePending: 300 * time.Millisecond},
	})
	ami := sim.AddImage(lab.SimRegion, ec2sim.ImageSeed{Name: "debian-12-amd64-lab"})
	client := ec2.NewFromConfig(aws.Config{
		Region:       lab.SimRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(lab.SimAccessKeyID, lab.SimSecretAccessKey, ""),
		BaseEndpoint: aws.String(sim.URL()),
	})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	run, err := client.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(ami), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
	})
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	if state := run.Instances[0].State.Name; state != types.InstanceStateNamePending {
		t.Errorf("a new instance is %s, want pending", state)
	}

	waiter := ec2.NewInstanceRunningWaiter(client, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	})
	out, err := waiter.WaitForOutput(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, time.Minute)
	if err != nil {
		t.Fatalf("waiting for %s to run: %v", id, err)
	}
	inst := out.Reservations[0].Instances[0]
	address := aws.ToString(inst.PublicIpAddress)
	if address != target.Host {
		t.Fatalf("instance %s reports public IP %q, want the target's %s", id, address, target.Host)
	}

	// Connect where the API said the instance is, as a builder would.
	instance := *target
	instance.Host = address
	if got := strings.TrimSpace(instance.MustRun(t, "hostname && sudo -n true && echo sudo-ok")); got != target.Name+"\nsudo-ok" {
		t.Errorf("on the instance: %q, want the target's hostname %s and passwordless sudo", got, target.Name)
	}
}

// TestLabTarget checks what later tests rely on: a cloud-like build user, apt through the lab's
// proxy and nowhere else, a reboot that keeps changes, and a container that cannot touch the
// host's kernel settings.
func TestLabTarget(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	target := lab.Target(t)

	t.Run("build_user", func(t *testing.T) {
		got := target.MustRun(t, "id -un; sudo -n true && echo sudo-ok; sudo sshd -T | grep -i '^passwordauthentication'; sudo passwd -S "+target.User+" | cut -d' ' -f2")
		want := target.User + "\nsudo-ok\npasswordauthentication no\nL\n"
		if got != want {
			t.Errorf("build user: %q, want %q (key-only login, locked password, passwordless sudo)", got, want)
		}
	})

	t.Run("kernel_settings_stay_inside", func(t *testing.T) {
		hostMartians := readHostSysctl(t, "net/ipv4/conf/all/log_martians")
		hostDmesg := readHostSysctl(t, "kernel/dmesg_restrict")
		flipped := map[string]string{"0": "1", "1": "0"}

		// net.* belongs to the target's own network namespace: writable, invisible to the host.
		want := flipped[hostMartians]
		got := target.MustRun(t, "sudo sysctl -q -w net.ipv4.conf.all.log_martians="+want+" && sudo sysctl -n net.ipv4.conf.all.log_martians")
		if got != want+"\n" {
			t.Errorf("net.* sysctl inside the target: %q", got)
		}
		if after := readHostSysctl(t, "net/ipv4/conf/all/log_martians"); after != hostMartians {
			t.Errorf("the target changed the host's log_martians: %s -> %s", hostMartians, after)
		}

		// kernel.* is the host's: refused, even after remounting /proc/sys read-write.
		out, err := target.Run(t, "sudo mount -o remount,rw /proc/sys; sudo sysctl -w kernel.dmesg_restrict="+flipped[hostDmesg])
		if err == nil {
			t.Errorf("the target could write kernel.dmesg_restrict:\n%s", out)
		}
		if after := readHostSysctl(t, "kernel/dmesg_restrict"); after != hostDmesg {
			t.Errorf("the target changed the host's kernel.dmesg_restrict: %s -> %s", hostDmesg, after)
		}
	})

	t.Run("apt_through_proxy", func(t *testing.T) {
		target.MustRun(t, "sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ufw >/dev/null")
		// ufw with default deny keeps the SSH port it allowed first: new connections still work.
		target.MustRun(t, "sudo ufw allow 22/tcp && sudo ufw --force enable")
		if got := target.MustRun(t, "sudo ufw status | head -n1"); got != "Status: active\n" {
			t.Errorf("ufw status: %q", got)
		}
	})

	t.Run("only_the_mirror", func(t *testing.T) {
		// Ask the proxy for a host that is not the mirror, by hand (the image has no curl): it
		// must refuse. No direct route leads anywhere but the host's end of the veth.
		proxy := strings.TrimPrefix(strings.TrimSuffix(target.ProxyURL, "/"), "http://")
		host, port, _ := strings.Cut(proxy, ":")
		got := target.MustRun(t, fmt.Sprintf(`exec 3<>/dev/tcp/%s/%s
printf 'GET http://example.invalid/ HTTP/1.0\r\nHost: example.invalid\r\n\r\n' >&3
head -n1 <&3
ip route get 192.0.2.1 2>&1 || true`, host, port))
		if !strings.Contains(got, " 403 ") {
			t.Errorf("the proxy did not refuse a non-mirror host: %q", got)
		}
		if !strings.Contains(got, "unreachable") {
			t.Errorf("the target has a route out: %q", got)
		}
	})

	t.Run("reboot_keeps_changes", func(t *testing.T) {
		target.MustRun(t, "echo kept | sudo tee /etc/golden-e2e-reboot >/dev/null")
		target.Reboot(t)
		if got := target.MustRun(t, "cat /etc/golden-e2e-reboot"); got != "kept\n" {
			t.Errorf("after a reboot: %q", got)
		}
	})
}

// TestLabPreinstalledPackages boots the image variant with golden-harden's packages already there,
// for tests that must not depend on the mirror: every package a control of a profile installs
// with default options is in it.
func TestLabPreinstalledPackages(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	wanted := profilePackages()
	for _, pkg := range []string{"auditd", "audispd-plugins", "cracklib-runtime", "curl"} {
		if !slices.Contains(wanted, pkg) {
			t.Fatalf("the controls' fixes do not name %s: %q (is profilePackages still reading them right?)", pkg, wanted)
		}
	}
	wanted = append(wanted, lab.HardeningPackages...)
	slices.Sort(wanted)
	wanted = slices.Compact(wanted)

	target := lab.Target(t, lab.WithPackages(lab.HardeningPackages...))
	got := target.MustRun(t, "dpkg-query -W -f='${Package} ${db:Status-Status}\\n' "+strings.Join(wanted, " ")+" 2>&1 || true")
	for _, pkg := range wanted {
		if !strings.Contains(got, pkg+" installed\n") {
			t.Errorf("%s is not installed in the variant (add it to lab.HardeningPackages and target.sh):\n%s", pkg, got)
		}
	}
}

// optionalPackages are installed by a control of a profile only when an option that is off by
// default turns it on.
var optionalPackages = map[string]string{
	"unattended-upgrades": "packages.unattended_upgrades",
}

// pkgInstall finds the arguments of the runtime's g_pkg_install in a control's fix.
var pkgInstall = regexp.MustCompile(`g_pkg_install((?:[ \t]+[^ \t\n;|&]+)+)`)

// profilePackages lists the packages the fixes of every profile's controls install with default
// options ($PACKAGES_INSTALL is the packages module's default list).
func profilePackages() []string {
	params := map[string]string{}
	for _, p := range (&hardening.Options{}).ShellParams() {
		params[p.Name] = p.Value
	}
	var out []string
	for _, m := range hardening.Modules() {
		for _, c := range m.Controls {
			if len(hardening.ProfilesOf(c)) == 0 {
				continue
			}
			for _, match := range pkgInstall.FindAllStringSubmatch(c.Fix, -1) {
				for _, word := range strings.Fields(os.Expand(match[1], func(k string) string { return params[k] })) {
					if optionalPackages[word] == "" {
						out = append(out, word)
					}
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestLabParallelTargets starts targets side by side, as parallel tests do (run it with -parallel
// 6 to start all six at once): each comes up with its own name and address, and reaches its own
// apt proxy.
func TestLabParallelTargets(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	var mu sync.Mutex
	running := map[string]string{} // address -> target name, of the targets up right now
	for i := range 6 {
		t.Run(fmt.Sprintf("target_%d", i), func(t *testing.T) {
			t.Parallel()
			target := lab.Target(t)
			mu.Lock()
			if other, taken := running[target.Host]; taken {
				t.Errorf("targets %s and %s both have the address %s", other, target.Name, target.Host)
			}
			running[target.Host] = target.Name
			mu.Unlock()
			t.Cleanup(func() {
				mu.Lock()
				delete(running, target.Host)
				mu.Unlock()
			})

			proxy := strings.TrimPrefix(target.ProxyURL, "http://")
			host, port, _ := strings.Cut(proxy, ":")
			got := target.MustRun(t, fmt.Sprintf("hostname; ip -4 -o addr show dev eth0 | awk '{ print $4 }'; (exec 3<>/dev/tcp/%s/%s) && echo proxy-ok", host, port))
			if want := target.Name + "\n" + target.Host + "/30\nproxy-ok\n"; got != want {
				t.Errorf("on %s: %q, want %q", target.Name, got, want)
			}
		})
	}
}

func readHostSysctl(t *testing.T, key string) string {
	t.Helper()
	data, err := os.ReadFile("/proc/sys/" + key)
	if err != nil {
		t.Fatalf("reading the host's %s: %v", key, err)
	}
	return strings.TrimSpace(string(data))
}
