package dnssd

import (
	"slices"
	"strings"

	"netscanner/scanner/names"
)

// ParseTXT reads the strings of a TXT record, as bytes on the wire (not in
// miekg/dns's escaped form), and returns the identity-bearing keys they
// hold (IdentityKeys, in lower case) with their cleaned values, or nil if
// none.
//
// As RFC 6763 section 6.4 says, a key is what precedes the first '=', is
// compared case-insensitively, and only its first occurrence counts; a
// string without '=' is a boolean attribute, which carries no identity and
// is skipped (and hides later strings with its key), as are empty and
// non-printable keys. A value is cleaned as
// names.Clean cleans names and cut to MaxValueLen bytes at a character
// boundary; one that cleans to nothing is dropped.
func ParseTXT(strs []string) map[string]string {
	var out map[string]string
	seen := make(map[string]bool, len(strs))
	for _, s := range strs {
		key, value, hasValue := strings.Cut(s, "=")
		if !printableKey(key) {
			continue
		}
		key = strings.ToLower(key)
		if seen[key] {
			continue
		}
		seen[key] = true
		if !hasValue || !slices.Contains(IdentityKeys, key) {
			continue
		}
		v := cutValue(names.Clean(value))
		if v == "" {
			continue
		}
		if out == nil {
			out = make(map[string]string, 4)
		}
		out[key] = v
	}
	return out
}

// printableKey is RFC 6763's key syntax: printable US-ASCII, no '='.
func printableKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 0x20 || c > 0x7e || c == '=' {
			return false
		}
	}
	return k != ""
}

// cutValue cuts v to MaxValueLen bytes at a character boundary.
func cutValue(v string) string {
	if len(v) <= MaxValueLen {
		return v
	}
	cut := MaxValueLen
	for cut > 0 && v[cut]&0xc0 == 0x80 {
		cut--
	}
	return strings.TrimSpace(v[:cut])
}
