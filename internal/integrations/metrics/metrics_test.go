package metrics

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"

	"netscanner/internal/watch"
	"netscanner/scanner"
)

func TestParseAddr(t *testing.T) {
	cases := []struct {
		in, want, err string
	}{
		{in: "127.0.0.1:9750", want: "127.0.0.1:9750"},
		{in: ":9750", want: ":9750"},
		{in: "[::1]:9750", want: "[::1]:9750"},
		{in: "localhost:9750", want: "localhost:9750"},
		{in: "198.18.100.1:09750", want: "198.18.100.1:9750"},
		{in: "", err: "bad metrics address: empty"},
		{in: "9750", err: `bad metrics address "9750": want host:port`},
		{in: "http://localhost:9750/metrics", err: "not a URL"},
		{in: "localhost:", err: `port "": want 1 to 65535`},
		{in: "localhost:0", err: `port "0": want 1 to 65535`},
		{in: "localhost:65536", err: `port "65536"`},
		{in: "localhost:+80", err: `port "+80"`},
		{in: "localhost:http", err: `port "http"`},
		{in: "::1:9750", err: "want host:port"},
		{in: "bad_host!:9750", err: `host "bad_host!" is neither an IP address nor a host name`},
		{in: "-x:9750", err: "neither an IP address"},
		{in: "a..b:9750", err: "neither an IP address"},
	}
	for _, c := range cases {
		got, err := ParseAddr(c.in)
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("ParseAddr(%q) = %q, %v; want %q", c.in, got, err, c.want)
		case c.err != "" && (err == nil || !errors.Is(err, ErrBadAddr) || !strings.Contains(err.Error(), c.err)):
			t.Errorf("ParseAddr(%q) error %v, want one with %q", c.in, err, c.err)
		}
	}
}

func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{":9750", "127.0.0.1:9750", "[fe80::1%eth0]:80", "x:", "http://a:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseAddr(s)
		if err != nil {
			if !errors.Is(err, ErrBadAddr) {
				t.Fatalf("error %v does not wrap ErrBadAddr", err)
			}
			return
		}
		if again, err := ParseAddr(got); err != nil || again != got {
			t.Fatalf("ParseAddr(%q) = %q, which parses as %q, %v", s, got, again, err)
		}
	})
}

func TestLabel(t *testing.T) {
	long := strings.Repeat("é", 40) // 80 bytes
	cases := map[string]string{
		"raspberrypi.local": "raspberrypi.local",
		"evil\nname\x00":    "evilname",
		"bad\xffutf8":       "bad\uFFFDutf8",
		long:                strings.Repeat("é", 32),
	}
	for in, want := range cases {
		if got := Label(in); got != want || !utf8.ValidString(got) || len(got) > MaxLabelLen {
			t.Errorf("Label(%q) = %q, want %q", in, got, want)
		}
	}
}

func device(ip, mac, name string, present bool, missed int, rtt time.Duration, seen time.Time) watch.Device {
	h := scanner.Host{Addr: netip.MustParseAddr(ip), RTT: rtt, Hostname: name, Vendor: "Raspberry Pi Foundation"}
	if mac != "" {
		h.MAC, _ = net.ParseMAC(mac)
	}
	return watch.Device{ID: "mac:" + mac, Host: h, Present: present, Missed: missed, Kind: "computer", LastSeen: seen}
}

// series gathers the exporter and returns each sample of name as
// "label=value,... value".
func series(t *testing.T, e *Exporter, name string) []string {
	t.Helper()
	fams, err := e.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			out = append(out, strings.Join(ls, ",")+" "+value(m))
		}
	}
	return out
}

func value(m *dto.Metric) string {
	switch {
	case m.Gauge != nil:
		return fmtFloat(m.Gauge.GetValue())
	case m.Counter != nil:
		return fmtFloat(m.Counter.GetValue())
	case m.Histogram != nil:
		return fmtFloat(float64(m.Histogram.GetSampleCount()))
	}
	return "?"
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func TestExporter(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	e := New(Options{MaxDevices: 2, NoRuntime: true})
	devs := []watch.Device{
		device("198.18.0.10", "b8:27:eb:00:00:0a", "raspberrypi.local", true, 0, 250*time.Microsecond, now),
		device("198.18.0.12", "9c:7b:ef:00:00:0c", "", true, 1, 0, now.Add(-5*time.Minute)),    // dozing
		device("198.18.0.13", "9c:7b:ef:00:00:0d", "gone\n", false, 5, 0, now.Add(-time.Hour)), // left, and over the cap
	}
	e.Event(watch.Event{Kind: watch.Joined})
	e.Scanned(watch.Report{Time: now, Duration: 1500 * time.Millisecond, Devices: devs, Present: 2, Answered: 1})
	e.Scanned(watch.Report{Time: now.Add(time.Minute), Err: errors.New("socket gone")})

	check := func(name string, want ...string) {
		t.Helper()
		got := series(t, e, name)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	check("netscanner_device_up",
		"device=9c:7b:ef:00:00:0c,kind=computer,name= 1",
		"device=b8:27:eb:00:00:0a,kind=computer,name=raspberrypi.local 1")
	check("netscanner_device_rtt_seconds", "device=b8:27:eb:00:00:0a,kind=computer,name=raspberrypi.local 0.00025")
	check("netscanner_device_info",
		"device=9c:7b:ef:00:00:0c,ip=198.18.0.12,kind=computer,name=,vendor=Raspberry Pi Foundation 1",
		"device=b8:27:eb:00:00:0a,ip=198.18.0.10,kind=computer,name=raspberrypi.local,vendor=Raspberry Pi Foundation 1")
	check("netscanner_devices_present", " 2")
	check("netscanner_devices_known", " 3")
	check("netscanner_devices_unexported", " 1")
	check("netscanner_scans_total", " 2")
	check("netscanner_scan_errors_total", " 1")
	check("netscanner_scan_duration_seconds", " 2")
	check("netscanner_events_total", "event=back 0", "event=changed 0", "event=joined 1", "event=left 0")
	check("netscanner_last_scan_timestamp_seconds", " "+fmtFloat(float64(now.Add(time.Minute).Unix())))
}

// TestServe serves the exporter over HTTP, as Prometheus scrapes it.
func TestServe(t *testing.T) {
	e := New(Options{})
	s, err := Listen("127.0.0.1:0", e)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(t.Context())
	resp, err := http.Get("http://" + s.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"netscanner_devices_present 0", "netscanner_scans_total 0", "process_resident_memory_bytes", "go_goroutines"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q:\n%.2000s", want, body)
		}
	}
	if _, err := Listen(s.Addr().String(), e); err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("a second Listen on %s: %v, want address already in use", s.Addr(), err)
	}
}
