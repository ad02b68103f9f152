package cli

import (
	"testing"

	"netscanner/scanner/identify"
)

// The MODEL/NAME cell says each of the two once.
func TestModelName(t *testing.T) {
	for _, tc := range []struct{ fn, model, want string }{
		{"Living Room TV", "Chromecast Ultra", "Living Room TV — Chromecast Ultra"},
		{"Brother HL-L2350DW series", "Brother HL-L2350DW", "Brother HL-L2350DW series"},
		{"DiskStation", "Synology DiskStation", "Synology DiskStation"},
		{"", "Raspberry Pi", "Raspberry Pi"},
		{"Den", "", "Den"},
		{"", "", ""},
	} {
		if got := modelName(identify.Identity{FriendlyName: tc.fn, Model: tc.model}); got != tc.want {
			t.Errorf("%q, %q: %q, want %q", tc.fn, tc.model, got, tc.want)
		}
	}
}
