package main

import (
	"strings"
	"testing"
)

func TestStealPercentIsTheStealShareOfAllTheTime(t *testing.T) {
	start := []uint64{100, 0, 50, 800, 10, 0, 5, 35, 7, 0}
	// 1000 ticks later: 600 user, 200 idle, 200 steal; guest's 300 are inside user, not counted again.
	end := []uint64{700, 0, 50, 1000, 10, 0, 5, 235, 307, 0}
	got, ok := stealPercent(start, end)
	if !ok || got != 20 {
		t.Fatalf("stealPercent = %v, %v; want 20, true", got, ok)
	}
	if _, ok := stealPercent(start[:4], end); ok {
		t.Fatal("a reading without the steal value gave a share")
	}
	if _, ok := stealPercent(start, start); ok {
		t.Fatal("no time between the readings gave a share")
	}
}

func TestHostSpeedTextSaysBothReadings(t *testing.T) {
	start := HostSpeed{ProcessStartMS: 1.04, SHA256MBps: 1500, CPUTicks: []uint64{0, 0, 0, 0, 0, 0, 0, 0}}
	end := HostSpeed{ProcessStartMS: 2.5, SHA256MBps: 900, CPUTicks: []uint64{50, 0, 0, 40, 0, 0, 0, 10}}
	got := hostSpeedText(start, end)
	for _, want := range []string{"1.04 ms at start", "2.50 ms at end", "1500 MB/s at start", "900 MB/s at end", "10.0 %"} {
		if !strings.Contains(got, want) {
			t.Errorf("hostSpeedText = %q, lacks %q", got, want)
		}
	}
	if hostSpeedText(HostSpeed{}, end) != "" {
		t.Error("an environment recorded before the speed was measured printed a speed")
	}
}

func TestMeasureHostSpeedMeasures(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 200 processes and hashes 64 MB")
	}
	h := measureHostSpeed()
	if h.ProcessStartMS <= 0 || h.SHA256MBps <= 0 {
		t.Fatalf("measureHostSpeed = %+v", h)
	}
}
