package settings

import (
	"errors"
	"testing"

	"netscanner/scanner/targets"
)

// FuzzParseWatchInterval: whatever is typed into "Watch every", the
// interval is refused with a message or lies within the watcher's limits.
func FuzzParseWatchInterval(f *testing.F) {
	for _, s := range []string{"5", "1.5", "30s", "2h", "0", "-5", "1e300", "NaN", "9s", "168h", "169h", " 10 ", "5m0.5s", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		d, err := ParseWatchInterval(text)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty message")
			}
			return
		}
		if e := targets.CheckWatchInterval(d); e != nil || errors.Is(err, targets.ErrWatchInterval) {
			t.Fatalf("%q -> %v accepted: %v", text, d, e)
		}
	})
}
