package names

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	long := strings.Repeat("a", MaxNameLen-1) + "ö" // the cut falls inside the ö
	cases := map[string]string{
		"printer.local.":             "printer.local",
		"  host.lan..  ":             "host.lan",
		"a. .":                       "a",
		".":                          "",
		"DESKTOP-42":                 "DESKTOP-42",
		"tab\there\r\nnew":           "tabherenew",
		"\x1b[31mred\x1b[0m":         "[31mred[0m",
		"evil\u202egnp.exe":          "evilgnp.exe", // right-to-left override
		"zero\u200bwidth\ufeff":      "zerowidth",
		"line\u2028sep\u2029para":    "lineseppara",
		"c1\u0085\u009bcontrol":      "c1control",
		"bad\xffutf8":                "bad\uFFFDutf8",
		"Jörgs-iPhone":               "Jörgs-iPhone",
		long:                         strings.Repeat("a", MaxNameLen-1),
		strings.Repeat("b", 300):     strings.Repeat("b", MaxNameLen),
		strings.Repeat("x.", 200):    strings.Repeat("x.", 127)[:MaxNameLen],
		"\x00\x00\x00":               "",
		"space inside is kept . ok.": "space inside is kept . ok",
	}
	for in, want := range cases {
		got := clean(in)
		if got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
		if len(got) > MaxNameLen || clean(got) != got {
			t.Errorf("clean(%q) = %q: too long or not stable", in, got)
		}
	}
}

func TestTimeoutError(t *testing.T) {
	var err error = &TimeoutError{Source: SourceMDNS, Rejected: 2, LastReject: errWrongID}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Error("not a context.DeadlineExceeded")
	}
	var te interface{ Timeout() bool }
	if !errors.As(err, &te) || !te.Timeout() {
		t.Error("Timeout() is not true")
	}
	if msg := err.Error(); !strings.Contains(msg, "2 replies rejected") || !strings.Contains(msg, errWrongID.Error()) {
		t.Errorf("message %q lacks the rejections", msg)
	}
}
