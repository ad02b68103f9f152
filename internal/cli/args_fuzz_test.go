package cli

import (
	"io"
	"strings"
	"testing"

	"netscanner/scanner/targets"
)

// FuzzParseArgs feeds arbitrary command lines to the ping and scan flag
// parsers, which read nothing but their arguments: whatever comes in, they
// must not panic, and what they accept must lie inside the documented
// limits.
func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{
		"--count\x001\x00198.18.1.1",
		"--rate\x001e9\x00--i-know-rate\x00198.18.0.0/24",
		"--timeout\x00-1s\x00a;reboot",
		"--method\x00raw\x00--\x00-c1",
		"--max-hosts\x0099999999999\x00::/0",
		"--retry-interval\x001ns\x00fe80::1%eth0;x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Split(line, "\x00")
		if c, err := parsePingArgs(args, io.Discard, nil); err == nil {
			if c.count < 1 || c.count > maxPingCount || c.timeout <= 0 || c.interval < minInterval || len(c.hosts) == 0 {
				t.Errorf("ping %q accepted out of bounds: %+v", args, c)
			}
			for _, h := range c.hosts {
				if strings.HasPrefix(h, "-") {
					t.Errorf("ping %q accepted the flag-like host %q", args, h)
				}
			}
		}
		if c, err := parseScanArgs(args, io.Discard); err == nil {
			e := c.engine
			if !(e.Rate > 0) || e.Rate > targets.MaxRate || e.Timeout <= 0 || e.Timeout > targets.MaxTimeout ||
				e.MaxHosts < 1 || e.MaxHosts > targets.MaxMaxHosts || e.Retries < 0 {
				t.Errorf("scan %q accepted out of bounds: %+v", args, c)
			}
			for _, a := range c.targets {
				if len(a) > 1 && a[0] == '-' {
					t.Errorf("scan %q accepted the flag-like target %q", args, a)
				}
			}
		}
	})
}
