package probe

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// PingKind says what one line of ping output reports.
type PingKind int

// The kinds of line ParsePingOutput understands.
const (
	// PingEcho is an echo reply: the host is up.
	PingEcho PingKind = iota + 1
	// PingUnreachable is an ICMP destination unreachable error, from a
	// router or from the local kernel when neighbour discovery failed.
	PingUnreachable
	// PingTimeExceeded is an ICMP time exceeded error: the TTL or hop
	// limit ran out on the way.
	PingTimeExceeded
	// PingNoRoute is the local kernel refusing to send at all, such as
	// "ping: connect: Network is unreachable".
	PingNoRoute
	// PingLost is BSD's "Request timeout for icmp_seq N": a request that
	// got no answer in time.
	PingLost
)

// String names the kind as tests and logs show it.
func (k PingKind) String() string {
	switch k {
	case PingEcho:
		return "echo"
	case PingUnreachable:
		return "unreachable"
	case PingTimeExceeded:
		return "time-exceeded"
	case PingNoRoute:
		return "no-route"
	case PingLost:
		return "lost"
	}
	return "PingKind(" + strconv.Itoa(int(k)) + ")"
}

// PingLine is one line of ping output that ParsePingOutput understood.
type PingLine struct {
	Kind PingKind
	From netip.Addr    // who answered; invalid for PingNoRoute and PingLost
	Seq  int           // icmp_seq as printed; -1 when the line has none
	TTL  int           // TTL or hop limit of the answer; 0 when not printed
	RTT  time.Duration // round-trip time; 0 when not printed
	// RTTBound reports that the line gave only an upper bound, as in
	// "time<1ms"; RTT is then that bound.
	RTTBound bool
	Dup      bool // marked "(DUP!)": a second answer to the same request

	// For PingUnreachable and PingTimeExceeded: the ICMP type and code,
	// numbered for From's address family (IPv4: 3 and 11; IPv6: 1 and 3).
	// Code is -1 on every other kind of line.
	Type, Code int
	// Text is the error as ping printed it, e.g. "Destination Host
	// Unreachable"; empty for echo replies.
	Text string
}

// ErrPingDenied matches, with errors.Is, the error ParsePingOutput returns
// when ping says it may not open its ICMP socket: it needs setuid root or
// the cap_net_raw file capability, and has neither.
var ErrPingDenied = errors.New("ping may not open an ICMP socket")

// Bounds past which a number in ping output is garbage, not a measurement.
const (
	maxPingRTT = time.Hour
	maxPingTTL = 255
	maxPingSeq = 65535
)

// ParsePingOutput reads what a ping program printed (stdout and stderr,
// in any order) and returns the lines it understood, in order. It knows the
// output of Linux iputils (IPv4 and IPv6), busybox, BSD and macOS ping, and
// the "time<1ms" form of others; every other line is skipped, so banners,
// statistics and header dumps do no harm. Numbers out of range (negative,
// not finite, an RTT over an hour, a TTL over 255) make a line be skipped.
//
// The error is non-nil, and matches ErrPingDenied, only when ping reported
// that it lacked the privilege to open its socket; the lines are returned
// even then.
func ParsePingOutput(out []byte) ([]PingLine, error) {
	var lines []PingLine
	var denied, deniedHint string
	for len(out) > 0 {
		raw, rest, _ := bytes.Cut(out, []byte{'\n'})
		out = rest
		s := strings.TrimSpace(string(raw))
		if l, ok := parsePingLine(s); ok {
			lines = append(lines, l)
			continue
		}
		switch pingDenial(s) {
		case denialCause:
			if denied == "" {
				denied = s
			}
		case denialHint:
			if deniedHint == "" {
				deniedHint = s
			}
		}
	}
	if denied == "" {
		denied = deniedHint
	}
	if denied != "" {
		return lines, fmt.Errorf("%w: %s", ErrPingDenied, denied)
	}
	return lines, nil
}

// parsePingLine recognises one trimmed line.
func parsePingLine(s string) (PingLine, bool) {
	switch {
	case hasPrefixFold(s, "Request timeout for icmp_seq"):
		// macOS: "Request timeout for icmp_seq 0" (or "icmp_seq=0").
		rest := strings.TrimLeft(s[len("Request timeout for icmp_seq"):], " =")
		seq, ok := parseSeq(rest)
		if !ok {
			return PingLine{}, false
		}
		return PingLine{Kind: PingLost, Seq: seq, Code: -1}, true
	case strings.HasPrefix(s, "From "):
		return parseFromLine(s[len("From "):])
	case strings.HasPrefix(s, "Reply from "):
		// Windows style: "Reply from 198.18.1.1: bytes=32 time<1ms TTL=128".
		return parseBytesFrom(s[len("Reply from "):])
	}
	if i := strings.Index(s, " bytes from "); i > 0 && allDigits(s[:i]) {
		// "64 bytes from ADDR: icmp_seq=1 ttl=64 time=0.045 ms"
		return parseBytesFrom(s[i+len(" bytes from "):])
	}
	return parseNoRoute(s)
}

// parseBytesFrom reads what follows "N bytes from": an address, then
// either key=value fields of an echo reply or (BSD) an ICMP error text.
func parseBytesFrom(s string) (PingLine, bool) {
	from, rest, ok := parseFromAddr(s)
	if !ok {
		return PingLine{}, false
	}
	l := PingLine{Kind: PingEcho, From: from, Seq: -1, Code: -1}
	if typ, code, kind, ok := lookupICMPText(from, rest); ok {
		// BSD prints errors as "92 bytes from 198.18.0.2: Destination
		// Host Unreachable".
		l.Kind, l.Type, l.Code, l.Text = kind, typ, code, trimText(rest)
		return l, true
	}
	l.Dup = strings.Contains(rest, "(DUP!)")
	seen := false
	fields := strings.Fields(strings.ReplaceAll(rest, "(DUP!)", " "))
	for i, f := range fields {
		key, val, op := cutField(f)
		switch strings.ToLower(key) {
		case "icmp_seq", "seq":
			if l.Seq, ok = parseSeq(val); !ok {
				return PingLine{}, false
			}
		case "ttl", "hlim":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 || n > maxPingTTL {
				return PingLine{}, false
			}
			l.TTL = n
		case "time":
			unit := ""
			if i+1 < len(fields) {
				unit = fields[i+1]
			}
			if l.RTT, ok = parseRTT(val, unit); !ok {
				return PingLine{}, false
			}
			l.RTTBound = op == '<'
		default:
			continue
		}
		seen = true
	}
	return l, seen
}

// parseFromLine reads an iputils error line after its "From ":
// "198.18.0.2 icmp_seq=1 Destination Host Unreachable".
func parseFromLine(s string) (PingLine, bool) {
	from, rest, ok := parseFromAddr(s)
	if !ok {
		return PingLine{}, false
	}
	l := PingLine{From: from, Seq: -1, Code: -1}
	if f, after, _ := strings.Cut(rest, " "); strings.HasPrefix(f, "icmp_seq=") {
		if l.Seq, ok = parseSeq(f[len("icmp_seq="):]); !ok {
			return PingLine{}, false
		}
		rest = after
	}
	typ, code, kind, ok := lookupICMPText(from, rest)
	if !ok {
		return PingLine{}, false
	}
	l.Kind, l.Type, l.Code, l.Text = kind, typ, code, trimText(rest)
	return l, true
}

// parseFromAddr reads the answering address at the start of s, in any of
// the forms "ADDR: rest", "ADDR, rest", "ADDR rest" or, when ping resolved
// names, "NAME (ADDR): rest". It returns the address and the rest.
func parseFromAddr(s string) (netip.Addr, string, bool) {
	word, rest, _ := strings.Cut(s, " ")
	if strings.HasPrefix(rest, "(") {
		// "host.example (198.18.1.1): ..." — the number is in brackets.
		inner, after, ok := strings.Cut(rest[1:], ")")
		if !ok {
			return netip.Addr{}, "", false
		}
		word, rest = inner, strings.TrimPrefix(strings.TrimPrefix(after, ":"), ",")
	}
	// The address may be followed by ":" (iputils, busybox, BSD IPv4) or
	// "," (BSD ping6). Drop that first: otherwise "fe80::1%eth0:" would
	// parse with a zone of "eth0:". An IPv6 address ending in "::" loses
	// a colon and fails, and is then taken as it stands.
	trimmed := word
	if strings.HasSuffix(word, ":") || strings.HasSuffix(word, ",") {
		trimmed = word[:len(word)-1]
	}
	a, err := netip.ParseAddr(trimmed)
	if err != nil {
		a, err = netip.ParseAddr(word)
	}
	if err != nil {
		return netip.Addr{}, "", false
	}
	return a.Unmap(), strings.TrimSpace(rest), true
}

// parseNoRoute recognises a local refusal to send, as printed on stderr:
// "ping: connect: Network is unreachable", "ping6: sendto: Network is
// unreachable", "/bin/ping: sendto: No route to host" (iputils names
// itself as it was called), or old iputils' bare "connect: ...".
func parseNoRoute(s string) (PingLine, bool) {
	prog, _, ok := strings.Cut(s, ": ")
	if !ok {
		return PingLine{}, false
	}
	prog = strings.ToLower(prog[strings.LastIndexByte(prog, '/')+1:])
	switch {
	case strings.HasPrefix(prog, "ping"), prog == "connect", prog == "sendto", prog == "sendmsg":
	default:
		return PingLine{}, false
	}
	low := strings.ToLower(s)
	for _, m := range []string{"network is unreachable", "no route to host"} {
		if strings.HasSuffix(low, m) {
			return PingLine{Kind: PingNoRoute, Seq: -1, Code: -1, Text: s}, true
		}
	}
	return PingLine{}, false
}

// cutField splits "key=value" or "key<value" and reports which it was.
func cutField(f string) (key, val string, op byte) {
	i := strings.IndexAny(f, "=<")
	if i <= 0 {
		return "", "", 0
	}
	return f[:i], f[i+1:], f[i]
}

func parseSeq(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > maxPingSeq {
		return 0, false
	}
	return n, true
}

// parseRTT reads "0.045" with its unit either attached ("1ms", "0.5ms")
// or in the next field ("ms"). When the next field is no unit it assumes
// milliseconds, which is what every ping prints.
func parseRTT(val, next string) (time.Duration, bool) {
	num := strings.TrimRightFunc(val, func(r rune) bool { return r < '0' || r > '9' })
	unit, attached := val[len(num):], true
	if unit == "" {
		unit, attached = next, false
	}
	scale := time.Millisecond
	switch strings.ToLower(unit) {
	case "ms", "msec", "msecs":
	case "s", "sec", "secs":
		scale = time.Second
	case "us", "µs", "usec", "usecs":
		scale = time.Microsecond
	default:
		if attached {
			return 0, false // "time=5parsecs"
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || v < 0 {
		return 0, false
	}
	// Compare before converting: v*scale could overflow a Duration.
	if v > float64(maxPingRTT)/float64(scale) {
		return 0, false
	}
	return time.Duration(math.Round(v * float64(scale))), true
}

// The kinds of line that tell that ping lacked privilege. The hint
// (iputils' "socktype: SOCK_RAW") only names what ping tried; the cause
// line after it says why it failed, so it is preferred in the error.
const (
	denialNone = iota
	denialHint
	denialCause
)

func pingDenial(s string) int {
	low := strings.ToLower(s)
	switch {
	case strings.Contains(low, "are you root"), // busybox
		strings.Contains(low, "cap_net_raw"), // iputils' advice line
		strings.Contains(low, "socket") &&
			(strings.Contains(low, "operation not permitted") || strings.Contains(low, "permission denied")):
		return denialCause
	case strings.Contains(low, "socktype:"):
		return denialHint
	}
	return denialNone
}

// icmpPhrase maps an ICMP error as some ping prints it to its type and
// code. A negative code means the code follows the text as a number, as in
// "Dest Unreachable, Bad Code: 17".
type icmpPhrase struct {
	text      string // lower case
	typ, code int
}

// The phrases of iputils (pr_icmph, print_icmp) and of BSD ping and ping6,
// per address family of the sender. Longer phrases come before their
// prefixes, since the lookup takes the first prefix that matches.
var (
	icmpPhrases4 = []icmpPhrase{
		{"destination net unreachable for type of service", 3, 11},
		{"destination host unreachable for type of service", 3, 12},
		{"destination net unreachable", 3, 0},
		{"destination host unreachable", 3, 1},
		{"destination protocol unreachable", 3, 2},
		{"destination port unreachable", 3, 3},
		{"frag needed and df set", 3, 4},
		{"source route failed", 3, 5},
		{"destination net unknown", 3, 6},
		{"destination host unknown", 3, 7},
		{"source host isolated", 3, 8},
		{"destination net prohibited", 3, 9},
		{"destination host prohibited", 3, 10},
		{"packet filtered", 3, 13},
		{"communication prohibited by filter", 3, 13},
		{"precedence violation", 3, 14},
		{"precedence cutoff", 3, 15},
		{"dest unreachable, bad code:", 3, -1},
		{"destination unreachable, bad code:", 3, -1},
		{"time to live exceeded", 11, 0},
		{"frag reassembly time exceeded", 11, 1},
		{"fragment reassembly time exceeded", 11, 1},
		{"time exceeded, bad code:", 11, -1},
	}
	icmpPhrases6 = []icmpPhrase{
		// iputils
		{"destination unreachable: no route", 1, 0},
		{"destination unreachable: administratively prohibited", 1, 1},
		{"destination unreachable: beyond scope of source address", 1, 2},
		{"destination unreachable: address unreachable", 1, 3},
		{"destination unreachable: port unreachable", 1, 4},
		{"destination unreachable: source address failed ingress/egress policy", 1, 5},
		{"destination unreachable: reject route to destination", 1, 6},
		{"destination unreachable: unknown code", 1, -1},
		{"time exceeded: hop limit", 3, 0},
		{"time exceeded: defragmentation failure", 3, 1},
		{"time exceeded: code", 3, -1},
		// BSD ping6
		{"no route to destination", 1, 0},
		{"destination administratively unreachable", 1, 1},
		{"destination unreachable beyond scope", 1, 2},
		{"destination host unreachable", 1, 3},
		{"destination port unreachable", 1, 4},
		{"destination unreachable, bad code:", 1, -1},
		{"time to live exceeded", 3, 0},
		{"frag reassembly time exceeded", 3, 1},
		{"time exceeded, bad code:", 3, -1},
	}
)

// lookupICMPText finds the ICMP unreachable or time exceeded error that
// text names, reading it in the numbering of from's address family.
func lookupICMPText(from netip.Addr, text string) (typ, code int, kind PingKind, ok bool) {
	low := strings.ToLower(trimText(text))
	phrases, unreach, exceeded := icmpPhrases4, 3, 11
	if from.Is6() {
		phrases, unreach, exceeded = icmpPhrases6, 1, 3
	}
	for _, p := range phrases {
		if !strings.HasPrefix(low, p.text) {
			continue
		}
		code = p.code
		if code < 0 {
			n, err := strconv.Atoi(strings.TrimSpace(low[len(p.text):]))
			if err != nil || n < 0 || n > 255 {
				return 0, 0, 0, false
			}
			code = n
		}
		switch p.typ {
		case unreach:
			kind = PingUnreachable
		case exceeded:
			kind = PingTimeExceeded
		}
		return p.typ, code, kind, true
	}
	return 0, 0, 0, false
}

// trimText drops the spaces and the final period (Windows) around an
// error text. Details such as iputils' " (mtu = 1400)" stay: the phrase
// lookup matches prefixes.
func trimText(s string) string {
	return strings.TrimSuffix(strings.TrimSpace(s), ".")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
