package cli

import (
	"strings"
	"testing"
)

// wantRefused checks a refused command line of command cmd: exit 2,
// nothing on stdout, and one line on stderr, "netscanner CMD: ...", that
// names want.
func wantRefused(t *testing.T, cmd string, code int, stdout, stderr, want string) {
	t.Helper()
	if code != exitUsage {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout should be empty, got:\n%s", stdout)
	}
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("want exactly one line on stderr, got:\n%s", stderr)
	}
	if !strings.HasPrefix(stderr, "netscanner "+cmd+": ") || !strings.Contains(stderr, want) {
		t.Errorf("stderr = %q, want it to name %q", stderr, want)
	}
}
