//go:build linux

package probe

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakePing writes a program that prints a recorded ping output and exits
// with code, whatever its arguments, and returns its path.
func fakePing(t *testing.T, file string, code int) string {
	t.Helper()
	data, err := filepath.Abs(filepath.Join("testdata", "ping", file))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "ping")
	script := fmt.Sprintf("#!/bin/sh\ncat '%s'\nexit %d\n", data, code)
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestProbeVerdicts checks the exec probe's verdict on what real pings
// print for 127.0.0.1, with their real exit codes. Only an answer from
// 127.0.0.1 or a definite no-route line makes exec work: a usage error
// (toybox's missing -n, busybox ping6 refusing an IPv4 address) exits 1
// with no answer, as a lost reply does, and must not.
func TestProbeVerdicts(t *testing.T) {
	for _, tt := range []struct {
		file  string
		code  int
		want  error  // nil: works
		quote string // what the reason must say
	}{
		{"iputils-v4-loopback.txt", 0, nil, ""},
		{"busybox-v4-loopback.txt", 0, nil, ""},
		{"toybox-v4-loopback.txt", 0, nil, ""},
		{"inetutils-v4-loopback.txt", 0, nil, ""},
		{"iputils-v4-noroute.txt", 2, nil, ""},
		{"toybox-usage.txt", 1, ErrPingRejected, "rejected `-n -c 1 -W 1 127.0.0.1`: ping: Unknown option 'n'"},
		{"busybox6-rejects-v4.txt", 1, ErrPingRejected, "ping6: bad address '127.0.0.1'"},
		{"iputils-v4-timeout.txt", 1, ErrPingRejected, "127.0.0.1 never answered"},
		{"iputils-denied.txt", 2, ErrPingDenied, "Operation not permitted"},
		{"toybox-denied.txt", 1, ErrPingDenied, "SOCK_DGRAM"},
		// An answer from someone else proves nothing about loopback.
		{"busybox-v4-broadcast.txt", 0, ErrPingRejected, "127.0.0.1 never answered"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			_, err := probePing(nil, fakePing(t, tt.file, tt.code))
			var me *MethodError
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want == nil:
			case !errors.Is(err, tt.want) || !errors.As(err, &me) || me.Method != Exec:
				t.Fatalf("err = %v, want a MethodError matching %v", err, tt.want)
			case !strings.Contains(me.Reason, tt.quote):
				t.Errorf("reason %q does not say %q", me.Reason, tt.quote)
			}
		})
	}

	// A ping that answers 127.0.0.1 but not ::1 works for IPv4 only.
	v4only := fakePing(t, "inetutils-v6-unsupported.txt", 1)
	if err := probePing6(nil, v4only, styleNumeric); !errors.Is(err, ErrNoIPv6) || !strings.Contains(err.Error(), "unknown host") {
		t.Errorf("probePing6 = %v, want ErrNoIPv6 quoting \"unknown host\"", err)
	}
}
