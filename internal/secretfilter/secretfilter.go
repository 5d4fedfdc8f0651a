// Package secretfilter makes Packer's log secret filter (packersdk.LogSecretFilter) apply inside
// the plugin process. Components register their secrets there (awsconf the AWS credentials,
// launch the temporary private key), but in a plugin nothing reads that registry: the plugin's
// log goes straight to its stderr, and the Ui a component gets forwards every line over RPC to
// packer, whose own filter only knows the template's sensitive variables. Log routes the log
// through the filter; Ui wraps a component's Ui so that what it prints is filtered too.
//
// The SDK's registry is a plain map: registering a secret while another goroutine filters a line
// is a data race, and golden-validate launches its targets in parallel, each registering its
// temporary key while the others print. Set, Log and Ui share one lock around it; register
// secrets through Set, never through packersdk.LogSecretFilter directly.
package secretfilter

import (
	"fmt"
	"io"
	"log"
	"sync"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// Log sends the standard logger's output through the secret filter to w (the plugin's stderr,
// which packer writes to its log with PACKER_LOG=1).
func Log(w io.Writer) {
	mu.Lock()
	defer mu.Unlock()
	packersdk.LogSecretFilter.SetOutput(w)
	log.SetOutput(lockedFilter{})
}

// mu guards packersdk.LogSecretFilter's map of secrets.
var mu sync.RWMutex

// Set registers secrets (empty ones are ignored) so that every later line of the plugin's log
// and Ui has them masked.
func Set(secrets ...string) {
	mu.Lock()
	defer mu.Unlock()
	packersdk.LogSecretFilter.Set(secrets...)
}

// lockedFilter writes through the secret filter while no secret is being registered.
type lockedFilter struct{}

func (lockedFilter) Write(p []byte) (int, error) {
	mu.RLock()
	defer mu.RUnlock()
	return packersdk.LogSecretFilter.Write(p)
}

// Ui returns ui with every line it prints, and every question it asks, filtered.
func Ui(ui packersdk.Ui) packersdk.Ui {
	if f, ok := ui.(filtered); ok {
		return f
	}
	return filtered{ui}
}

type filtered struct{ packersdk.Ui }

func mask(s string) string {
	mu.RLock()
	defer mu.RUnlock()
	return packersdk.LogSecretFilter.FilterString(s)
}

func (f filtered) Ask(q string) (string, error) { return f.Ui.Ask(mask(q)) }
func (f filtered) Askf(format string, args ...any) (string, error) {
	return f.Ask(fmt.Sprintf(format, args...))
}

// print hands a masked line to the wrapped Ui while no secret is being registered: the SDK's
// BasicUi reads the same map of secrets itself.
func (f filtered) print(to func(string), s string) {
	s = mask(s)
	mu.RLock()
	defer mu.RUnlock()
	to(s)
}

func (f filtered) Say(s string)                      { f.print(f.Ui.Say, s) }
func (f filtered) Sayf(format string, args ...any)   { f.Say(fmt.Sprintf(format, args...)) }
func (f filtered) Message(s string)                  { f.print(f.Ui.Message, s) }
func (f filtered) Error(s string)                    { f.print(f.Ui.Error, s) }
func (f filtered) Errorf(format string, args ...any) { f.Error(fmt.Sprintf(format, args...)) }
func (f filtered) Machine(t string, args ...string) {
	masked := make([]string, len(args))
	for i, a := range args {
		masked[i] = mask(a)
	}
	f.Ui.Machine(t, masked...)
}
