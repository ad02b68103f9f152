package app

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
	for i, want := range map[int]string{0: "198.18.0.1", 1: "'=HYPERLINK(\"x\")", 3: "aa:bb:cc:dd:ee:01", 4: "Acme, \"Inc\"", 5: "router", 6: "1.500", 7: "64", 10: "80/http 22", 12: "true"} {
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
	if len(hosts) != 2 {
		t.Fatalf("hosts %+v", hosts)
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

func TestDemoSampleLoads(t *testing.T) {
	b, err := NewDemoBackend("1")
	if err != nil {
		t.Fatal(err)
	}
	nets, _ := b.Networks()
	if len(nets) != 1 || !nets[0].Gateway.IsValid() || !nets[0].Scan.Contains(nets[0].Addr) {
		t.Errorf("demo network %+v", nets)
	}
	if r := b.Method(t.Context(), "auto"); r.Chosen == "" || len(r.Methods) != 4 {
		t.Errorf("demo report %+v", r)
	}
}
