package devices

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"netscanner/scanner"
)

func exportRows() []*Row {
	mac, _ := net.ParseMAC("aa:bb:cc:dd:ee:01")
	m := NewModel()
	m.Annotate = func(r *Row) { r.Key = DeviceKey(&r.Host) }
	m.Apply([]scanner.Event{
		{Kind: scanner.HostFound, Host: scanner.Host{Addr: netip.MustParseAddr("198.18.0.1"), RTT: 1500 * time.Microsecond, TTL: 64,
			Method: "raw", Reason: "echo-reply", Hostname: "=HYPERLINK(\"x\")", MAC: mac, Vendor: "Acme, \"Inc\"",
			Ports: []scanner.Port{{Number: 80, Service: "http"}, {Number: 22}}, Gateway: true}},
		{Kind: scanner.HostFound, Host: scanner.Host{Addr: netip.MustParseAddr("2001:db8::2")}},
		{Kind: scanner.HostFound, Host: scanner.Host{Addr: netip.MustParseAddr("fe80::1%eth0"), MAC: mac}},
	})
	return m.Hosts()
}

func TestWriteCSV(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCSV(&b, exportRows()); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || strings.Join(recs[0], ",") != strings.Join(csvHeader, ",") {
		t.Fatalf("records %q", recs)
	}
	r := recs[1]
	for i, want := range map[int]string{0: "198.18.0.1", 1: "fe80::1%eth0", 2: "'=HYPERLINK(\"x\")", 4: "aa:bb:cc:dd:ee:01", 5: "Acme, \"Inc\"", 6: "router", 7: "1.500", 8: "64", 11: "80/http 22", 13: "true"} {
		if r[i] != want {
			t.Errorf("column %s = %q, want %q", csvHeader[i], r[i], want)
		}
	}
}

func TestWriteJSONReadHosts(t *testing.T) {
	var b bytes.Buffer
	rows := exportRows()
	if err := WriteJSON(&b, rows, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b.Bytes()) {
		t.Fatal("invalid JSON")
	}
	hosts, err := ReadHosts(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 3 {
		t.Fatalf("hosts %+v, want 2 and the other address of the first", hosts)
	}
	// Replayed into a model, the other address folds into its device again.
	m := NewModel()
	for _, h := range hosts {
		m.Apply([]scanner.Event{{Kind: scanner.HostFound, Host: h}})
	}
	if m.Total() != 2 || len(m.At(0).Other) != 1 || m.At(0).Other[0] != rows[0].Other[0] {
		t.Errorf("replayed model: %d devices, first row other %v", m.Total(), m.At(0).Other)
	}
	h := hosts[0]
	want := rows[0].Host
	if h.Addr != want.Addr || h.RTT != want.RTT || h.MAC.String() != want.MAC.String() || h.Vendor != want.Vendor ||
		len(h.Ports) != 2 || !h.Gateway || h.Hostname != want.Hostname {
		t.Errorf("read back %+v, want %+v", h, want)
	}
}

func TestReadHostsBadInput(t *testing.T) {
	for _, in := range []string{"", "{", `{"hosts":null}`, `[1,2]`} {
		if _, err := ReadHosts(strings.NewReader(in)); err == nil {
			t.Errorf("ReadHosts(%q) accepted", in)
		}
	}
	hosts, err := ReadHosts(strings.NewReader(`{"hosts":[{"address":"x"},{"address":"198.18.0.1","rtt_ms":-4,"ttl":9999},{"address":"198.18.0.1"}]}`))
	if err != nil || len(hosts) != 1 || hosts[0].RTT != 0 || hosts[0].TTL != 255 {
		t.Errorf("lenient read: %v %+v", err, hosts)
	}
}
