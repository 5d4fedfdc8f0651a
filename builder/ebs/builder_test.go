package ebs

import (
	"errors"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// answeringUI answers every question with answer.
type answeringUI struct {
	packersdk.Ui
	answer string
}

func (u answeringUI) Ask(string) (string, error) { return u.answer, nil }

func TestRetryUIDropsTheErrorOfAStepTheUserRetries(t *testing.T) {
	const askPrompt = "[c] Clean up and exit, [a] abort without cleanup, or [r] retry step (build may fail even if retry succeeds)?"
	cases := []struct {
		query, answer string
		keepsError    bool
	}{
		{askPrompt, "r", false},
		{askPrompt, "Retry", false},
		{askPrompt, "a", true},
		{askPrompt, "c", true},
		{askPrompt, "", true},
		// A debug pause answered with an r does not retry anything.
		{"Pausing after run of step 'StepFinishImage'. Press enter to continue.", "r", true},
	}
	for _, tc := range cases {
		state := new(multistep.BasicStateBag)
		state.Put("error", errors.New("the failed attempt"))
		got, err := retryUI{answeringUI{answer: tc.answer}, state}.Ask(tc.query)
		if err != nil || got != tc.answer {
			t.Errorf("Ask(%q) answered %q, %v; want the user's answer %q", tc.query, got, err, tc.answer)
		}
		if _, kept := state.GetOk("error"); kept != tc.keepsError {
			t.Errorf("answer %q to %q: error kept %t, want %t", tc.answer, tc.query, kept, tc.keepsError)
		}
	}
}
