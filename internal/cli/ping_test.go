package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"netscanner/probe"
	"netscanner/scanner/targets"
)

// TestPingBadUsage checks that bad input is refused with exit 2 and one
// line on stderr, before anything is sent. None of these inputs reaches a
// resolver or a socket: the arguments are all checked first.
func TestPingBadUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string // in the message
	}{
		{[]string{}, "no host"},
		{[]string{"--count", "0", "127.0.0.1"}, "--count 0"},
		{[]string{"--count", "-3", "127.0.0.1"}, "--count -3"},
		{[]string{"--count", "1000001", "127.0.0.1"}, "--count 1000001"},
		{[]string{"--count", "abc", "127.0.0.1"}, "invalid value"},
		{[]string{"--count", "1e6", "127.0.0.1"}, "invalid value"},
		{[]string{"--timeout", "0s", "127.0.0.1"}, "--timeout"},
		{[]string{"--timeout", "-1s", "127.0.0.1"}, "--timeout"},
		{[]string{"--timeout", "5", "127.0.0.1"}, "invalid value"},
		{[]string{"--timeout", "2h", "127.0.0.1"}, "--timeout"},
		{[]string{"--interval", "0s", "127.0.0.1"}, "--interval"},
		{[]string{"--interval", "1ms", "127.0.0.1"}, "--interval"},
		{[]string{"--method", "carrier-pigeon", "127.0.0.1"}, "unknown method"},
		{[]string{"--method", "", "127.0.0.1"}, "unknown method"},
		{[]string{"--method", "RAW", "127.0.0.1"}, "unknown method"},
		{[]string{"--bogus", "127.0.0.1"}, "not defined"},
		{[]string{"--count"}, "needs an argument"},
		{[]string{""}, "empty host"},
		{[]string{"127.0.0.1", "  "}, "empty host"},
		{[]string{"127.0.0.1", "--count", "1"}, "flags go before the hosts"},
		{[]string{"-"}, "not a host"},
		{[]string{"198.18.1.0/24"}, "network"},
		{[]string{"0.0.0.0"}, "unspecified"},
		{[]string{"::"}, "unspecified"},
		{[]string{"224.0.0.1"}, "multicast"},
		{[]string{"255.255.255.255"}, "broadcast"},
		{[]string{"300.1.1.1"}, "not a valid IPv4 address"},
		{[]string{"1.2.3.4.5"}, "not a valid IPv4 address"},
		{[]string{"bad host"}, "which no address or host name has"},
		{[]string{"a..b"}, "not a valid host name: empty label"},
		{[]string{"-leading.example"}, "not defined"},
		{[]string{"trailing-.example"}, "starts or ends with '-'"},
		{[]string{strings.Repeat("a", 64) + ".example"}, "longer than 63 characters"},
		{[]string{"host;rm -rf /"}, "shell metacharacter ';'"},
		{[]string{"[::1]"}, "without brackets"},
		{[]string{"fe80::1%eth0;reboot"}, "shell metacharacter"},
		{[]string{"fe80::1%waytoolongforaname"}, "not an interface name"},
		// Zone-less link-local and broadcast hosts (issue 12).
		{[]string{"fe80::1"}, "as in fe80::1%eth0"},
		{[]string{"224.0.0.251"}, "--allow-broadcast"},
		{[]string{"host.123"}, "all digits"},
		{[]string{"127.0.0.1", "-leading.example"}, "not a host"},
		// One bad host among good ones refuses the whole command.
		{[]string{"127.0.0.1", "::1", "1.2.3.4.5"}, "1.2.3.4.5"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Run(context.Background(), append([]string{"ping"}, tt.args...), &out, &errb)
			wantRefused(t, "ping", code, out.String(), errb.String(), tt.want)
		})
	}
}

func TestDoctorBadUsage(t *testing.T) {
	for _, args := range [][]string{{"--bogus"}, {"127.0.0.1"}, {"--json=maybe"}} {
		var out, errb bytes.Buffer
		code := Run(context.Background(), append([]string{"doctor"}, args...), &out, &errb)
		if code != exitUsage || out.Len() != 0 || strings.Count(errb.String(), "\n") != 1 {
			t.Errorf("doctor %v: exit %d, stdout %q, stderr %q; want exit 2 and one line", args, code, out.String(), errb.String())
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"ping", "-h"}, {"ping", "--help"}, {"doctor", "-h"}} {
		var out, errb bytes.Buffer
		if code := Run(context.Background(), args, &out, &errb); code != exitOK {
			t.Errorf("%v: exit %d, want 0", args, code)
		}
		if !strings.Contains(errb.String(), "Usage: netscanner "+args[0]) {
			t.Errorf("%v: no usage on stderr:\n%s", args, errb.String())
		}
	}
	var out, errb bytes.Buffer
	Run(context.Background(), []string{"ping", "-h"}, &out, &errb)
	for _, flag := range []string{"-method", "-count", "-timeout", "-interval", "-json"} {
		if !strings.Contains(errb.String(), flag) {
			t.Errorf("ping -h does not list %s", flag)
		}
	}
}

// TestPingLoopback pings this machine's loopback in-process, by whatever
// method this machine allows, and checks both output forms.
func TestPingLoopback(t *testing.T) {
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"ping", "--count", "2", "--interval", "50ms", "127.0.0.1"}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got:\n%s", out.String())
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, fmt.Sprintf("127.0.0.1  seq=%d  rtt=", i+1)) || !strings.Contains(l, " ms") || !strings.Contains(l, "method=") {
			t.Errorf("line %q does not look like a reply", l)
		}
	}
	if !strings.Contains(errb.String(), "netscanner ping: method ") {
		t.Errorf("stderr does not name the method:\n%s", errb.String())
	}

	out.Reset()
	errb.Reset()
	code = Run(context.Background(), []string{"ping", "--json", "--count", "1", "--method", "tcp", "127.0.0.1"}, &out, &errb)
	if code != exitOK {
		t.Fatalf("--json tcp: exit %d; stderr:\n%s", code, errb.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out.String())
	}
	for _, k := range []string{"ip", "seq", "rtt_ms", "ttl", "method", "error"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON lacks key %q: %s", k, out.String())
		}
	}
	if got["ip"] != "127.0.0.1" || got["seq"] != 1.0 || got["method"] != "tcp" || got["error"] != nil {
		t.Errorf("JSON = %s", out.String())
	}
	if rtt, ok := got["rtt_ms"].(float64); !ok || rtt < 0 {
		t.Errorf("rtt_ms = %v, want a number", got["rtt_ms"])
	}
}

// TestPingForcedMethodFails checks that a forced method this process
// cannot use is a runtime failure (exit 1) that explains itself.
func TestPingForcedMethodFails(t *testing.T) {
	r := probe.Diagnose(context.Background(), probe.Options{})
	var m probe.Method
	for _, st := range r.Methods {
		if !st.OK {
			m = st.Method
			break
		}
	}
	if m == "" {
		t.Skip("every method works here")
	}
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"ping", "--method", string(m), "--count", "1", "127.0.0.1"}, &out, &errb)
	if code != exitFail || out.Len() != 0 {
		t.Errorf("forced %s: exit %d, stdout %q; want exit 1 and no output", m, code, out.String())
	}
	if !strings.Contains(errb.String(), string(m)+": ") {
		t.Errorf("forced %s: stderr does not explain:\n%s", m, errb.String())
	}
}

func TestDoctor(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Run(context.Background(), []string{"doctor"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errb.String())
	}
	for _, m := range probe.Methods() {
		if !strings.Contains(out.String(), "  "+string(m)+" ") {
			t.Errorf("doctor output lacks %s:\n%s", m, out.String())
		}
	}
	for _, w := range []string{"using: ", "net.ipv4.ping_group_range", "CAP_NET_RAW"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("doctor output lacks %q:\n%s", w, out.String())
		}
	}

	out.Reset()
	if code := Run(context.Background(), []string{"doctor", "--json"}, &out, &errb); code != exitOK {
		t.Fatalf("--json: exit %d; stderr:\n%s", code, errb.String())
	}
	var d doctorJSON
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, out.String())
	}
	if d.Chosen == "" || len(d.Methods) != len(probe.Methods()) {
		t.Errorf("doctor --json = %+v", d)
	}
	for _, m := range d.Methods {
		if m.Reason == "" || (m.OK && m.Fix != "") {
			t.Errorf("method verdict %+v", m)
		}
	}
}

func TestPingLine(t *testing.T) {
	dst := netip.MustParseAddr("198.18.1.1")
	reply := probe.Reply{Addr: dst, RTT: 52 * time.Microsecond, TTL: 64, Method: probe.Raw}
	if got, want := newPingLine(dst, 1, reply, probe.Raw, nil).text(), "198.18.1.1  seq=1  rtt=0.052 ms  ttl=64  method=raw"; got != want {
		t.Errorf("reply line = %q, want %q", got, want)
	}
	tcp := probe.Reply{Addr: dst, RTT: 12500 * time.Microsecond, Method: probe.TCP}
	if got, want := newPingLine(dst, 2, tcp, probe.TCP, nil).text(), "198.18.1.1  seq=2  rtt=12.5 ms  method=tcp"; got != want {
		t.Errorf("tcp line = %q, want %q", got, want)
	}

	unreach := &probe.ICMPError{From: netip.MustParseAddr("198.18.0.2"), Type: 3, Code: 1, Text: "host unreachable"}
	tests := []struct {
		err  error
		want string
	}{
		{probe.ErrTimeout, "timeout"},
		{unreach, "host unreachable (from 198.18.0.2)"},
		{&probe.SendError{Addr: dst, Err: syscall.EHOSTUNREACH}, "unreachable: send to 198.18.1.1: no route to host"},
		{&probe.ICMPError{From: dst, Type: 11, Text: "ttl expired"}, "time exceeded: ttl expired (from 198.18.1.1)"},
		{errors.New("socket closed"), "socket closed"},
	}
	for _, tt := range tests {
		l := newPingLine(dst, 3, probe.Reply{Addr: dst, Err: tt.err}, probe.Raw, nil)
		if l.Error == nil || *l.Error != tt.want || l.RTTms != nil || l.TTL != nil {
			t.Errorf("%v: line %+v, want error %q and no rtt or ttl", tt.err, l, tt.want)
		}
		if got := l.text(); got != "198.18.1.1  seq=3  "+tt.want+"  method=raw" {
			t.Errorf("%v: text %q", tt.err, got)
		}
	}
	// A send failure reported by Ping itself.
	l := newPingLine(dst, 4, probe.Reply{}, probe.Dgram, errors.New("pinger closed"))
	b, _ := json.Marshal(l)
	if want := `{"ip":"198.18.1.1","seq":4,"rtt_ms":null,"ttl":null,"method":"dgram","error":"pinger closed"}`; string(b) != want {
		t.Errorf("JSON = %s\nwant %s", b, want)
	}
}

func FuzzCheckHost(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "::1", "example.com", "-x", "", "1.2.3.4.5", "a/b", "fe80::1%eth0", "fe80::1%a;b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		err := checkHost(h, targets.Options{}) // must not panic
		if err == nil && (strings.HasPrefix(h, "-") || strings.ContainsAny(h, " /;\n") || h == "") {
			t.Errorf("checkHost(%q) accepted it", h)
		}
	})
}
