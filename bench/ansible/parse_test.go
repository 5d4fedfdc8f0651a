package ansible

import (
	"testing"
	"time"
)

// profile_tasks' summary as packer's ansible provisioner prints it: each line prefixed with the
// build's name, the task name padded with dashes to the terminal's width.
const summary = `    null.target: Friday 04 December 2026  20:31:02 +0000 (0:00:00.412)       0:01:02.118 ******
    null.target: ===============================================================================
    null.target: Disable unused filesystems (blacklist) ------------------------------------ 3.45s
    null.target: Configure audit log storage and disk actions ------------------------------ 3.43s
    null.target: Install the essential packages -------------------------------------------- 1.27s
    null.target: Set the time zone --------------------------------------------------------- 0.61s
`

func TestTaskDuration(t *testing.T) {
	d, ok := taskDuration(summary, aptTaskName)
	if !ok || d != 1270*time.Millisecond {
		t.Errorf("taskDuration(%q) = %v, %v; want 1.27s, true", aptTaskName, d, ok)
	}
	if _, ok := taskDuration(summary, "Enable ASLR"); ok {
		t.Error("taskDuration found a task the summary does not list")
	}
	if got, want := slowestTasks(summary, 2), "Disable unused filesystems (blacklist) 3.45s, Configure audit log storage and disk actions 3.43s"; got != want {
		t.Errorf("slowestTasks = %q, want %q", got, want)
	}
}
