package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// HostSpeed is how fast this machine was when the environment was recorded. The same code has
// measured 2-3 times faster on one day than on another on the same 2-core machine (a shared
// host), so a table's figures are comparable with another table's only beside these.
type HostSpeed struct {
	// ProcessStartMS is the median time to start /bin/true and wait for it, in ms: the unit of
	// most of golden-harden's work on a lab machine (a check is mostly program starts).
	ProcessStartMS float64 `json:"process_start_ms"`
	// SHA256MBps is one core's SHA-256 throughput, in MB/s: plain CPU speed.
	SHA256MBps float64 `json:"sha256_mb_per_s"`
	// CPUTicks are /proc/stat's aggregate cpu line (user nice system idle iowait irq softirq
	// steal ...); two readings give the share of time the hypervisor gave to other guests.
	CPUTicks []uint64 `json:"cpu_ticks,omitempty"`
}

// processStarts is how many starts of /bin/true measureHostSpeed times.
const processStarts = 200

// measureHostSpeed takes about half a second.
func measureHostSpeed() HostSpeed {
	var h HostSpeed
	var starts []float64
	for range processStarts {
		t := time.Now()
		if err := exec.Command("/bin/true").Run(); err != nil {
			break
		}
		starts = append(starts, float64(time.Since(t).Microseconds())/1000)
	}
	if len(starts) > 0 {
		slices.Sort(starts)
		h.ProcessStartMS = starts[len(starts)/2]
	}
	buf := make([]byte, 64<<20)
	t := time.Now()
	sha256.Sum256(buf)
	h.SHA256MBps = float64(len(buf)>>20) / time.Since(t).Seconds()
	h.CPUTicks = cpuTicks()
	return h
}

// cpuTicks reads /proc/stat's first line; nil when unreadable.
func cpuTicks() []uint64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return nil
	}
	var ticks []uint64
	for _, f := range fields[1:] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return nil
		}
		ticks = append(ticks, v)
	}
	return ticks
}

// stealPercent is the share of the time between two readings that the hypervisor ran other guests
// on this machine's CPUs (steal, the 8th value), and false when either reading lacks it.
func stealPercent(start, end []uint64) (float64, bool) {
	if len(start) < 8 || len(end) < len(start) {
		return 0, false
	}
	// The first 8 values are all of the time; guest and guest_nice (9th, 10th) are already
	// counted in user and nice.
	var total uint64
	for i := range 8 {
		total += end[i] - start[i]
	}
	if total == 0 {
		return 0, false
	}
	return 100 * float64(end[7]-start[7]) / float64(total), true
}

// hostSpeedText is the line under the table that says how fast the machine was.
func hostSpeedText(start, end HostSpeed) string {
	if start.ProcessStartMS == 0 {
		return ""
	}
	s := fmt.Sprintf("host speed: a process start %.2f ms at start, %.2f ms at end (median of %d); SHA-256 %.0f MB/s at start, %.0f MB/s at end",
		start.ProcessStartMS, end.ProcessStartMS, processStarts, start.SHA256MBps, end.SHA256MBps)
	if p, ok := stealPercent(start.CPUTicks, end.CPUTicks); ok {
		s += fmt.Sprintf("; CPU time stolen by the hypervisor during the run, as this kernel reports it: %.1f %%", p)
	}
	return s + "\n"
}
