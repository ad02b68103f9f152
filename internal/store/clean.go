package store

import (
	"net"
	"net/netip"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds on what is stored. Names and identity come from the network, so
// every one is cut to size before it reaches the database.
const (
	maxText     = 255 // bytes of one name or field
	maxNames    = 32  // names per device
	maxServices = 64  // services per device
)

// MaxLabel is the most characters a user's label keeps.
const MaxLabel = 64

// CleanLabel makes a user's label safe to store and show: valid UTF-8, no
// control characters, no surrounding space, at most 64 characters.
func CleanLabel(s string) string {
	s = CleanText(s, 4*MaxLabel)
	if utf8.RuneCountInString(s) > MaxLabel {
		s = string([]rune(s)[:MaxLabel])
	}
	return s
}

// CleanText makes s valid UTF-8 without control characters, trims it, and
// cuts it to at most n bytes on a character boundary: the rule for any
// text from the network or a file before it is kept or shown.
func CleanText(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// cleanList cleans each string, drops empty ones and repeats, and keeps
// at most n, in order.
func cleanList(in []string, n int) []string {
	out := make([]string, 0, min(len(in), n))
	for _, s := range in {
		if len(out) == n {
			break
		}
		if s = CleanText(s, maxText); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// usableMAC reports whether mac names one device: six or more bytes, not
// all zeros, not broadcast or multicast.
func usableMAC(mac net.HardwareAddr) bool {
	if len(mac) < 6 || mac[0]&1 == 1 {
		return false
	}
	for _, b := range mac {
		if b != 0 {
			return true
		}
	}
	return false
}

// macKey and addrKey are the two forms of a device key, the same as the
// app has always used.
func macKey(mac string) string { return "mac:" + mac }

func addrKey(a netip.Addr) string { return "ip:" + a.String() }
