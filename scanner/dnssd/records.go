package dnssd

import (
	"strings"

	"github.com/miekg/dns"

	"netscanner/scanner/names"
)

// The domain every name here ends in.
const localDomain = "local."

// serviceType checks that name (lower case, fully qualified) is a service
// type in the local domain, "_name._tcp.local." or "_name._udp.local.",
// and returns it without the domain: "_name._tcp".
func serviceType(name string) (string, bool) {
	rest, ok := strings.CutSuffix(name, "."+localDomain)
	if !ok {
		return "", false
	}
	app, proto, ok := strings.Cut(rest, ".")
	if !ok || (proto != "_tcp" && proto != "_udp") || !validAppLabel(app) {
		return "", false
	}
	return rest, true
}

// validAppLabel is RFC 6335's service name, with its underscore: 1 to 15
// letters, digits and hyphens, not all digits (some vendors exceed the
// length, so up to 63 is allowed).
func validAppLabel(l string) bool {
	name, ok := strings.CutPrefix(l, "_")
	if !ok || name == "" || len(name) > 63 {
		return false
	}
	letter := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			letter = true
		case '0' <= c && c <= '9', c == '-':
		default:
			return false
		}
	}
	return letter
}

// splitInstance splits a service instance name in miekg/dns presentation
// form, such as `Living\ Room\.TV._googlecast._tcp.local.`, into its
// service type ("_googlecast._tcp") and its instance label, unescaped and
// cleaned ("Living Room.TV"). It fails for anything else, subtypes and
// names with more labels included.
func splitInstance(name string) (typ, instance string, ok bool) {
	if _, ok := dns.IsDomainName(name); !ok {
		return "", "", false
	}
	labels := dns.SplitDomainName(name)
	if len(labels) != 4 {
		return "", "", false
	}
	typ, ok = serviceType(strings.ToLower(strings.Join(labels[1:], ".")) + ".")
	if !ok {
		return "", "", false
	}
	instance = names.Clean(names.Unescape(labels[0]))
	if instance == "" {
		return "", "", false
	}
	return typ, instance, true
}

// hostName lower-cases a host name in presentation form and checks that
// it is a name in the local domain.
func hostName(name string) (string, bool) {
	if _, ok := dns.IsDomainName(name); !ok {
		return "", false
	}
	name = strings.ToLower(dns.Fqdn(name))
	if !strings.HasSuffix(name, "."+localDomain) {
		return "", false
	}
	return name, true
}

// txtStrings turns miekg/dns's escaped TXT strings back into their bytes.
func txtStrings(txt []string) []string {
	out := make([]string, len(txt))
	for i, s := range txt {
		out[i] = names.Unescape(s)
	}
	return out
}
