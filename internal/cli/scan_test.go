package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"netscanner/internal/devices"
	"netscanner/internal/testnet"
	"netscanner/probe"
)

// noOpen is an Env.Open that fails the test: bad input must be refused
// before any Conn exists, so before any packet.
func noOpen(t *testing.T) func(context.Context, probe.Options) (probe.Conn, *probe.Report, error) {
	return func(context.Context, probe.Options) (probe.Conn, *probe.Report, error) {
		t.Error("a Conn was opened for bad input")
		return nil, nil, context.Canceled
	}
}

// TestScanBadUsage checks that bad flags and bad targets are refused with
// exit 2 and one line on stderr, before a Conn is opened. None of the
// targets is a host name, so nothing reaches a resolver either.
func TestScanBadUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string // in the message
	}{
		{[]string{"--timeout", "0s", "198.18.1.1"}, "--timeout 0s"},
		{[]string{"--timeout", "-1s", "198.18.1.1"}, "--timeout -1s"},
		{[]string{"--timeout", "61s", "198.18.1.1"}, "at most 1m0s"},
		{[]string{"--timeout", "5", "198.18.1.1"}, "invalid value"},
		{[]string{"--retries", "-1", "198.18.1.1"}, "--retries -1: want 0 to 10"},
		{[]string{"--retries", "11", "198.18.1.1"}, "--retries 11"},
		{[]string{"--retries", "1.5", "198.18.1.1"}, "invalid value"},
		{[]string{"--retry-interval", "0s", "198.18.1.1"}, "--retry-interval 0s"},
		{[]string{"--retry-interval", "2m", "198.18.1.1"}, "--retry-interval 2m0s"},
		{[]string{"--rate", "0", "198.18.1.1"}, "--rate 0"},
		{[]string{"--rate", "-5", "198.18.1.1"}, "--rate -5"},
		{[]string{"--rate", "NaN", "198.18.1.1"}, "--rate NaN"},
		{[]string{"--rate", "+Inf", "198.18.1.1"}, "--rate +Inf"},
		{[]string{"--rate", "fast", "198.18.1.1"}, "invalid value"},
		{[]string{"--rate", "200000", "198.18.1.1"}, "--i-know-rate"},
		{[]string{"--rate", "2000000", "--i-know-rate", "198.18.1.1"}, "at most 1000000"},
		{[]string{"--method", "carrier-pigeon", "198.18.1.1"}, "unknown method"},
		{[]string{"--method", "", "198.18.1.1"}, "unknown method"},
		{[]string{"--max-hosts", "0", "198.18.1.1"}, "--max-hosts 0"},
		{[]string{"--max-hosts", "20000000", "198.18.1.1"}, "--max-hosts 20000000"},
		{[]string{"--bogus", "198.18.1.1"}, "not defined"},
		{[]string{"--json=maybe", "198.18.1.1"}, "invalid boolean"},
		{[]string{"--timeout"}, "needs an argument"},
		{[]string{"198.18.1.0/24", "--json"}, "flags go before the targets"},
		{[]string{"300.1.1.1"}, "not a valid IPv4 address"},
		{[]string{"198.18.1.50-10"}, "backwards"},
		{[]string{"198.18.1.1;reboot"}, "metacharacter"},
		{[]string{"2001:db8::/64"}, "too wide"},
		{[]string{"198.18.0.0/8"}, "max-hosts"},
		{[]string{"--max-hosts", "100", "198.18.1.0/24"}, "more than --max-hosts 100"},
		{[]string{""}, "no targets"},
		{[]string{"198.18.1.1", "fe80::1%eth0;x"}, "metacharacter"},
		{[]string{"--ports", "0", "198.18.1.1"}, "--ports: \"0\": port out of range"},
		{[]string{"--ports", "65536", "198.18.1.1"}, "port out of range"},
		{[]string{"--ports", "1-2000", "198.18.1.1"}, "more than 1024 ports"},
		{[]string{"--ports", "90-80", "198.18.1.1"}, "range runs backwards"},
		{[]string{"--ports", "80,,81", "198.18.1.1"}, "empty item"},
		{[]string{"--ports", "", "198.18.1.1"}, "empty list"},
		{[]string{"--ports", "http", "198.18.1.1"}, "want a port number"},
		{[]string{"--no-names=perhaps", "198.18.1.1"}, "invalid boolean"},
		{[]string{"--format", "xml", "198.18.1.1"}, "--format \"xml\": want table, json or csv"},
		{[]string{"--json", "--format", "csv", "198.18.1.1"}, "pick one"},
		// Zone-less link-local and broadcast targets (issue 12).
		{[]string{"fe80::1"}, "as in fe80::1%eth0"},
		{[]string{"fe80::/112"}, "as in fe80::1%eth0"},
		{[]string{"224.0.0.251"}, "--allow-broadcast"},
		{[]string{"255.255.255.255"}, "--allow-broadcast"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Env{Open: noOpen(t)}.Run(context.Background(), append([]string{"scan"}, tt.args...), &out, &errb)
			wantRefused(t, "scan", code, out.String(), errb.String(), tt.want)
		})
	}
}

// TestScanDispatch checks that `netscanner scan` reaches the scan command.
func TestScanDispatch(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Run(context.Background(), []string{"scan", "--rate", "0", "198.18.1.1"}, &out, &errb); code != exitUsage {
		t.Errorf("exit %d, want %d; stderr: %s", code, exitUsage, errb.String())
	}
	if !strings.HasPrefix(errb.String(), "netscanner scan: --rate 0") {
		t.Errorf("stderr = %q", errb.String())
	}
}

func TestScanHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := (Env{Open: noOpen(t)}).Run(context.Background(), []string{"scan", "-h"}, &out, &errb); code != exitOK {
		t.Errorf("exit %d, want 0", code)
	}
	help := errb.String()
	for _, want := range []string{"Usage: netscanner scan", "-json", "-timeout", "-retries", "-retry-interval",
		"-rate", "1000 suits", "-i-know-rate", "-method", "-max-hosts",
		"-no-names", "-no-link-local", "-no-identify", "-ports", "22,53,80,139,443,445,554,631,8080,8009,9100,62078,3389", "-format", "-allow-broadcast"} {
		if !strings.Contains(help, want) {
			t.Errorf("scan -h does not mention %q:\n%s", want, help)
		}
	}
}

// scanIn runs `netscanner scan args...` inside ns, where the sockets it
// opens stay. Tests force a socket method: exec and tcp would start
// processes and connects from threads outside the namespace.
func scanIn(t *testing.T, ns *testnet.NS, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	// The Conn opens on this thread, inside ns; InNet takes enrichment's
	// sockets and table reads there too.
	e := Env{InNet: func(fn func()) error { return testnet.Do(ns.Name, fn) }}
	ns.Do(func() {
		code = e.Run(context.Background(), append([]string{"scan"}, args...), &out, &errb)
	})
	return code, out.String(), errb.String()
}

// TestScanCommandJSON sweeps a routed test network and checks the JSON
// lines: exactly the live hosts, each with every field.
func TestScanCommandJSON(t *testing.T) {
	n := testnet.NewRouted(t)
	code, out, errOut := scanIn(t, n.Scanner, "--json", "--method", "raw", "--timeout", "500ms",
		"198.18.1.0/27", "2001:db8:1::1-2001:db8:1::6", n.Unreachable[0].String())
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	want := append(append([]netip.Addr{}, n.Live...), n.LiveV6...)
	var got []netip.Addr
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("stdout is not JSON lines: %v\n%s", err, out)
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if wantKeys := []string{"alive", "confidence", "evidence", "friendly_name", "gateway", "hostname", "ip", "kind", "mac", "mac_source",
			"method", "model", "names", "note", "ports", "reason", "reasons", "rtt_ms", "self", "services", "ttl", "vendor"}; !slices.Equal(keys, wantKeys) {
			t.Errorf("keys %v, want %v", keys, wantKeys)
		}
		if m["alive"] != true || m["method"] != "raw" || m["reason"] != "echo-reply" {
			t.Errorf("host %v", m)
		}
		if ports, ok := m["ports"].([]any); !ok || len(ports) != 0 {
			t.Errorf("ports = %#v, want []", m["ports"])
		}
		if rtt, ok := m["rtt_ms"].(float64); !ok || rtt <= 0 || rtt > 500 {
			t.Errorf("rtt_ms = %v", m["rtt_ms"])
		}
		a, err := netip.ParseAddr(m["ip"].(string))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, a)
	}
	slices.SortFunc(got, netip.Addr.Compare)
	slices.SortFunc(want, netip.Addr.Compare)
	if !slices.Equal(got, want) {
		t.Errorf("found %v, want %v", got, want)
	}
	if !strings.Contains(errOut, "found 7 of 37 in ") || !strings.Contains(errOut, " by raw") {
		t.Errorf("stderr has no summary line:\n%s", errOut)
	}
}

// TestScanCommandTable checks the default output, and exit 1 when nothing
// answers.
func TestScanCommandTable(t *testing.T) {
	n := testnet.NewRouted(t)
	// Host bits set, as copied from `ip addr`: scanned as its network,
	// with a note.
	code, out, errOut := scanIn(t, n.Scanner, "--method", "raw", "--timeout", "500ms", "198.18.1.3/29")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	t.Logf("stdout:\n%s\nstderr:\n%s", out, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "IP ") || !strings.Contains(lines[0], "RTT") {
		t.Fatalf("want a header and 2 hosts (198.18.1.1, .4), got:\n%s", out)
	}
	if !strings.Contains(errOut, "netscanner scan: note: 198.18.1.3/29 has host bits set") {
		t.Errorf("no note about host bits on stderr:\n%s", errOut)
	}
	rows := lines[1:]
	slices.Sort(rows) // rows come as each host's enrichment ends
	for i, ip := range []string{"198.18.1.1 ", "198.18.1.4 "} {
		if l := rows[i]; !strings.HasPrefix(l, ip) || !strings.Contains(l, " ms") || !strings.Contains(l, " echo-reply ") ||
			!strings.HasSuffix(l, "[behind router 198.18.0.2: no MAC address from here]") {
			t.Errorf("row %q does not report %s", l, ip)
		}
	}

	code, out, errOut = scanIn(t, n.Scanner, "--method", "raw", "--timeout", "200ms", "--retries", "0", "198.18.1.2-3")
	if code != exitFail || out != "" || !strings.Contains(errOut, "found 0 of 2") {
		t.Errorf("dead hosts: exit %d, stdout %q, stderr:\n%s", code, out, errOut)
	}
}

// TestScanCommandDefaultTargets scans without targets: the scanner
// namespace's only network is the /30 it shares with the router.
func TestScanCommandDefaultTargets(t *testing.T) {
	n := testnet.NewRouted(t)
	code, out, errOut := scanIn(t, n.Scanner, "--json", "--method", "raw", "--timeout", "500ms")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	for _, ip := range []string{`"ip":"198.18.0.1"`, `"ip":"198.18.0.2"`} {
		if !strings.Contains(out, ip) {
			t.Errorf("stdout lacks %s:\n%s", ip, out)
		}
	}
	if !strings.Contains(errOut, "scanning 198.18.0.0/30") || !strings.Contains(errOut, "found 2 of 2") {
		t.Errorf("stderr:\n%s", errOut)
	}
}

// TestScanCommandCSV checks --format csv: the app's export, written once
// the scan is over, one row per live host.
func TestScanCommandCSV(t *testing.T) {
	n := testnet.NewRouted(t)
	code, out, errOut := scanIn(t, n.Scanner, "--format", "csv", "--method", "raw", "--timeout", "500ms", "198.18.1.0/27")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("stdout is not CSV: %v\n%s", err, out)
	}
	var want bytes.Buffer
	if err := devices.WriteCSV(&want, nil); err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",")+"\n" != want.String() {
		t.Fatalf("header %v, want the app's export header %q", recs, want.String())
	}
	var got []string
	for _, r := range recs[1:] {
		got = append(got, r[0])
		if r[9] != "raw" || r[10] != "echo-reply" || r[6] == "" {
			t.Errorf("row %v: want method raw, reason echo-reply and a kind", r)
		}
	}
	var live []string
	for _, a := range n.Live {
		if netip.MustParsePrefix("198.18.1.0/27").Contains(a) {
			live = append(live, a.String())
		}
	}
	slices.Sort(got)
	slices.Sort(live)
	if !slices.Equal(got, live) {
		t.Errorf("CSV rows for %v, want %v", got, live)
	}
}
