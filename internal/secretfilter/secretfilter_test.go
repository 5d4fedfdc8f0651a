package secretfilter

import (
	"bytes"
	"log"
	"os"
	"strings"
	"testing"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

func TestUiAndLogMaskRegisteredSecrets(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
	packersdk.LogSecretFilter.Set(secret)

	// A recorder, not packer's BasicUi, which filters by itself: the Ui a plugin gets does not.
	var out bytes.Buffer
	ui := Ui(recorder{Ui: nil, out: &out})
	ui.Say("say " + secret)
	ui.Sayf("sayf %s", secret)
	ui.Message("message " + secret)
	ui.Error("error " + secret)
	ui.Errorf("errorf %s", secret)

	var logged bytes.Buffer
	Log(&logged)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	log.Printf("log %s", secret)

	for name, text := range map[string]string{"ui": out.String(), "log": logged.String()} {
		if strings.Contains(text, secret) {
			t.Errorf("%s shows the secret:\n%s", name, text)
		}
		if !strings.Contains(text, "<sensitive>") {
			t.Errorf("%s does not show the mask:\n%s", name, text)
		}
	}
	if n := strings.Count(out.String(), "<sensitive>"); n != 5 {
		t.Errorf("ui masked %d lines of 5:\n%s", n, out.String())
	}
}

// recorder is a Ui that prints every line as it gets it, as the RPC Ui of a plugin forwards it.
type recorder struct {
	packersdk.Ui
	out *bytes.Buffer
}

func (r recorder) Say(s string)     { r.out.WriteString(s + "\n") }
func (r recorder) Message(s string) { r.out.WriteString(s + "\n") }
func (r recorder) Error(s string)   { r.out.WriteString(s + "\n") }
