package testnet

import (
	"os/exec"
	"testing"
)

// TestRouted checks the topology with the system's own ping: live hosts
// answer, dead ones stay silent, unreachable ones are refused.
func TestRouted(t *testing.T) {
	n := NewRouted(t)
	ping := func(addr string) error {
		return n.Scanner.Command(Root, "ping", "-n", "-c", "1", "-W", "1", addr).Run()
	}
	for _, a := range append(n.Live, n.LiveV6...) {
		if err := ping(a.String()); err != nil {
			t.Errorf("live %s: %v", a, err)
		}
	}
	for _, a := range append(n.Dead[:2], n.DeadV6[0], n.Unreachable[0]) {
		if err := ping(a.String()); err == nil {
			t.Errorf("%s answered, want silence or an error", a)
		}
	}
	out, _ := n.Scanner.Command(Root, "ping", "-n", "-c", "1", "-W", "1", n.Unreachable[0].String()).CombinedOutput()
	if !containsAny(string(out), "Unreachable", "unreachable") {
		t.Errorf("unreachable host: want an unreachable message, got:\n%s", out)
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Fatal("setpriv missing: install util-linux")
	}
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if len(s) >= len(x) {
			for i := 0; i+len(x) <= len(s); i++ {
				if s[i:i+len(x)] == x {
					return true
				}
			}
		}
	}
	return false
}
