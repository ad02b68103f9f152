package targets

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CheckZone accepts an IPv6 zone that can name a network interface on
// Linux: 1 to 15 bytes (IFNAMSIZ less its NUL) of letters, digits, '_',
// '.' and '-'. It is the one zone rule: a zone reaches socket calls and,
// through the exec method, a ping command line, so nothing else may pass.
func CheckZone(zone string) error {
	if len(zone) == 0 || len(zone) > maxZoneLen {
		return fmt.Errorf("zone %q is not an interface name (1-15 of A-Z a-z 0-9 _ . -)", zone)
	}
	for i := 0; i < len(zone); i++ {
		c := zone[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return fmt.Errorf("zone %q is not an interface name (1-15 of A-Z a-z 0-9 _ . -)", zone)
		}
	}
	return nil
}

// shellMeta are characters a shell would act on. None of them can be part
// of an address or a host name, and a target list may be pasted from or
// into a shell, so each is refused by name.
const shellMeta = "`~!#$^&*()=[]{}\\|;'\"<>?"

// checkChars refuses what no address or host name can hold, before any
// parsing: NUL bytes, a leading '-' (a flag in disguise), overlong input,
// shell metacharacters, control and non-ASCII characters.
func checkChars(tok string) error {
	fail := func(format string, args ...any) error {
		return &Error{Input: tok, Reason: fmt.Sprintf(format, args...)}
	}
	if strings.IndexByte(tok, 0) >= 0 {
		return fail("contains a NUL byte")
	}
	if tok[0] == '-' {
		return fail("starts with '-', so it could be taken for a flag")
	}
	if len(tok) > maxNameLen+1 { // +1: a fully qualified name's final dot
		return fail("is %d characters long; no address or host name is longer than %d", len(tok), maxNameLen)
	}
	if len(tok) > 1 && tok[0] == '[' && tok[len(tok)-1] == ']' {
		return fail("write IPv6 addresses without brackets")
	}
	for _, r := range tok {
		switch {
		case r == utf8.RuneError:
			return fail("is not valid UTF-8")
		case strings.ContainsRune(shellMeta, r):
			return fail("contains the shell metacharacter %q", r)
		case r < ' ' || r == 0x7f:
			return fail("contains the control character %q", r)
		case r > unicode.MaxASCII:
			return fail("contains %q; write international host names in their xn-- (punycode) form", r)
		case !isTargetChar(r):
			return fail("contains %q, which no address or host name has", r)
		}
	}
	return nil
}

// isTargetChar reports whether r may appear in an address, prefix, range or
// host name.
func isTargetChar(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
		strings.ContainsRune(".:/%_-", r)
}

// CheckHostname accepts a DNS host name, as typed, and explains anything
// else with a *Error naming it: the one host name rule, for scan targets
// and ping hosts alike (see checkName).
func CheckHostname(tok string) error {
	if tok == "" {
		return &Error{Reason: "empty host name"}
	}
	if err := checkChars(tok); err != nil {
		return err
	}
	return checkName(tok)
}

// checkName accepts a host name whose characters checkChars has passed. Host
// names follow RFC 1123, with '_' allowed as many resolvers allow it.
// Digits and dots alone are a mistyped address, so "198.18.0.256" gets a
// message about addresses rather than a failed lookup; and no name may end
// in an all-digit label, as no top-level domain is numeric.
func checkName(tok string) error {
	fail := func(format string, args ...any) error {
		return &Error{Input: tok, Reason: fmt.Sprintf(format, args...)}
	}
	if strings.Contains(tok, ":") {
		_, err := netip.ParseAddr(tok)
		return fail("not a valid IPv6 address: %s", netipReason(err))
	}
	if strings.Trim(tok, "0123456789.") == "" {
		_, err := netip.ParseAddr(tok)
		return fail("not a valid IPv4 address: %s", netipReason(err))
	}
	if i := strings.IndexByte(tok, '-'); i > 0 && strings.Trim(tok, "0123456789.-") == "" {
		_, err := netip.ParseAddr(tok[:i])
		return fail("not a valid range: %s", netipReason(err))
	}
	name := strings.TrimSuffix(tok, ".")
	if len(name) > maxNameLen {
		return fail("is %d characters long; no host name is longer than %d", len(name), maxNameLen)
	}
	labels := strings.Split(name, ".")
	if last := labels[len(labels)-1]; last != "" && strings.Trim(last, "0123456789") == "" {
		return fail("not a valid host name: its last label %q is all digits", last)
	}
	for _, l := range labels {
		switch {
		case l == "":
			return fail("not a valid host name: empty label")
		case len(l) > 63:
			return fail("not a valid host name: label %.20q... is longer than 63 characters", l)
		case l[0] == '-' || l[len(l)-1] == '-':
			return fail("not a valid host name: label %q starts or ends with '-'", l)
		}
	}
	return nil
}
