package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"netscanner/internal/backend"
	"netscanner/internal/settings"
	"netscanner/scanner"
	"netscanner/scanner/targets"
)

// TestSameMessageAsApp feeds the same bad input to the command line and to
// the checks the app runs on what is typed into it (the target field, the
// settings form's ports, timeout and rate), and requires the app's
// message, word for word, in the command line's one line: both have their
// rules, and their words, from package targets.
func TestSameMessageAsApp(t *testing.T) {
	nets, _ := scanner.LocalNetworks()
	type field func(string) error
	var (
		targetField field = func(s string) error { return backend.CheckTargets(s, nets).Err }
		portsField  field = func(s string) error { _, err := targets.ParsePorts(s); return err }
		timeoutMS   field = func(s string) error { _, err := settings.ParseTimeoutMillis(s); return err }
		rateField   field = func(s string) error { _, err := settings.ParseRate(s); return err }
	)
	for _, tt := range []struct {
		app   field
		input string   // as typed into the app
		args  []string // the same, on the command line
	}{
		{targetField, "198.18.0.1;reboot", []string{"198.18.0.1;reboot"}},
		{targetField, "300.1.1.1", []string{"300.1.1.1"}},
		{targetField, "198.18.1.50-10", []string{"198.18.1.50-10"}},
		{targetField, "2001:db8::/64", []string{"2001:db8::/64"}},
		{targetField, "198.18.0.0/8", []string{"198.18.0.0/8"}},
		{targetField, "0.0.0.0/0", []string{"0.0.0.0/0"}},
		{targetField, "fe80::1", []string{"fe80::1"}},
		{targetField, "fe80::/112", []string{"fe80::/112"}},
		{targetField, "fe80::1%waytoolongforaname", []string{"fe80::1%waytoolongforaname"}},
		{targetField, "2001:db8::1%eth0", []string{"2001:db8::1%eth0"}},
		{targetField, "224.0.0.251", []string{"224.0.0.251"}},
		{targetField, "255.255.255.255", []string{"255.255.255.255"}},
		{targetField, "224.0.0.0/30", []string{"224.0.0.0/30"}},
		{targetField, "host.123", []string{"host.123"}},
		{targetField, "bücher.test", []string{"bücher.test"}},
		{targetField, "[2001:db8::1]", []string{"[2001:db8::1]"}},
		{portsField, "22 80,,81", []string{"--ports", "22 80,,81", "198.18.0.1"}},
		{portsField, "0", []string{"--ports", "0", "198.18.0.1"}},
		{portsField, "1-2000", []string{"--ports", "1-2000", "198.18.0.1"}},
		{portsField, "90-80", []string{"--ports", "90-80", "198.18.0.1"}},
		{portsField, "http", []string{"--ports", "http", "198.18.0.1"}},
		{portsField, "", []string{"--ports", "", "198.18.0.1"}},
		{timeoutMS, "0", []string{"--timeout", "0s", "198.18.0.1"}},
		{timeoutMS, "60001", []string{"--timeout", "1m0.001s", "198.18.0.1"}},
		{rateField, "0", []string{"--rate", "0", "198.18.0.1"}},
		{rateField, "NaN", []string{"--rate", "NaN", "198.18.0.1"}},
		{rateField, "200000", []string{"--rate", "200000", "198.18.0.1"}},
		{rateField, "2000000", []string{"--rate", "2000000", "198.18.0.1"}},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			appErr := tt.app(tt.input)
			if appErr == nil {
				t.Fatalf("the app accepts %q", tt.input)
			}
			var out, errb bytes.Buffer
			code := Env{Open: noOpen(t)}.Run(context.Background(), append([]string{"scan"}, tt.args...), &out, &errb)
			line := errb.String()
			if code != exitUsage || strings.Count(line, "\n") != 1 {
				t.Fatalf("command line: exit %d, stderr %q; want exit 2 and one line", code, line)
			}
			if want := clip(appErr.Error()); !strings.Contains(line, want) {
				t.Errorf("different words for %q:\n app: %s\n cli: %s", tt.input, want, line)
			}
		})
	}
}
