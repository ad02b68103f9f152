package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"netscanner/internal/store"
)

// historyFixture records a small history into a new database and returns
// its path: a Pi present in every scan, a phone that left after four
// scans and came back with a new private MAC, and a host behind a router.
// The scans are the last hour's, five minutes apart, so that --since
// windows see them.
func historyFixture(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "history.db")
	ctx := context.Background()
	s, err := store.Open(ctx, path, store.Options{Mode: store.ModeRecord})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mac := func(s string) net.HardwareAddr {
		m, err := net.ParseMAC(s)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	pi := store.Observation{Addr: netip.MustParseAddr("198.18.100.10"), MAC: mac("b8:27:eb:00:00:0a"), RTT: 700 * time.Microsecond,
		Hostname: "raspberrypi.local", Names: []string{"raspberrypi.local"}, Vendor: "Raspberry Pi Foundation"}
	phone := store.Observation{Addr: netip.MustParseAddr("198.18.100.23"), MAC: mac("da:a1:19:00:00:17"), RTT: 12 * time.Millisecond,
		Hostname: "Pixel-7.local", Names: []string{"Pixel-7.local"}}
	remote := store.Observation{Addr: netip.MustParseAddr("198.19.5.5"), RTT: 9 * time.Millisecond}
	start := time.Now().Add(-time.Hour).Truncate(time.Minute)
	for i := range 10 {
		o := []store.Observation{pi, remote}
		switch {
		case i < 4:
			o = append(o, phone)
		case i >= 7:
			p := phone
			p.MAC, p.Addr = mac("6e:11:22:33:44:55"), netip.MustParseAddr("198.18.100.42")
			o = append(o, p)
		}
		at := start.Add(time.Duration(i) * 5 * time.Minute)
		if _, err := s.RecordScan(ctx, store.Scan{Started: at, Finished: at.Add(time.Second)}, o, nil); err != nil {
			t.Fatal(err)
		}
	}
	d, err := s.Find(ctx, "raspberrypi.local")
	if err == nil {
		s.Close()
		e, oerr := store.Open(ctx, path, store.Options{Mode: store.ModeEdit})
		if oerr != nil {
			t.Fatal(oerr)
		}
		err = e.SetLabel(ctx, d.ID, "Kitchen Pi")
		e.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestDevicesCommand(t *testing.T) {
	db := historyFixture(t)
	code, out, errs := runCLI("devices", "--db", db)
	if code != exitOK || errs != "" {
		t.Fatalf("devices: exit %d, stderr %q", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "LABEL") {
		t.Fatalf("devices printed:\n%s", out)
	}
	for _, want := range []string{"Kitchen Pi", "raspberrypi.local", "b8:27:eb:00:00:0a", "198.18.100.10", "6e:11:22:33:44:55", "198.19.5.5", "here"} {
		if !strings.Contains(out, want) {
			t.Errorf("devices output lacks %q:\n%s", want, out)
		}
	}

	code, out, errs = runCLI("devices", "--json", "--db", db)
	if code != exitOK || errs != "" {
		t.Fatalf("devices --json: exit %d, stderr %q", code, errs)
	}
	var devs []deviceJSON
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var d deviceJSON
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("devices --json: %v in\n%s", err, out)
		}
		devs = append(devs, d)
	}
	if len(devs) != 3 {
		t.Fatalf("devices --json: %d devices", len(devs))
	}
	var phone *deviceJSON
	for i := range devs {
		if devs[i].Key == "mac:da:a1:19:00:00:17" {
			phone = &devs[i]
		}
	}
	if phone == nil || phone.MAC != "6e:11:22:33:44:55" || len(phone.MACs) != 2 || phone.FirstSeen == "" || !phone.Present {
		t.Errorf("the phone, linked to its new private MAC: %+v", phone)
	}
	if _, err := time.Parse(time.RFC3339, phone.LastSeen); err != nil {
		t.Errorf("last_seen %q: %v", phone.LastSeen, err)
	}
}

func TestHistoryCommand(t *testing.T) {
	db := historyFixture(t)
	code, out, errs := runCLI("history", "--db", db, "Pixel-7.local")
	if code != exitOK || errs != "" {
		t.Fatalf("history: exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{
		"Pixel-7.local (6e:11:22:33:44:55, 198.18.100.42, also seen as da:a1:19:00:00:17)",
		"4 scans", "3 scans",
		"round trip: here in 7 of 10 scans (70%); median 12.0 ms",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("history output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "here  ") + strings.Count(out, "away  "); n != 3 {
		t.Errorf("%d periods, want 3 (here, away, here):\n%s", n, out)
	}

	code, out, _ = runCLI("history", "--json", "--db", db, "b8-27-eb-00-00-0a")
	var h historyJSON
	if code != exitOK || json.Unmarshal([]byte(out), &h) != nil {
		t.Fatalf("history --json: exit %d:\n%s", code, out)
	}
	if h.Device.Label != "Kitchen Pi" || h.Periods == nil || len(*h.Periods) != 1 || !(*h.Periods)[0].Present ||
		(*h.Periods)[0].Scans != 10 || h.RTT.MedianMS == nil || *h.RTT.MedianMS != 0.7 {
		t.Errorf("history --json of the Pi: %s", out)
	}

	// Without a device: one line per device.
	code, out, _ = runCLI("history", "--db", db)
	if code != exitOK || strings.Count(out, "\n") != 4 || !strings.Contains(out, "Kitchen Pi") || !strings.Contains(out, "70%") {
		t.Errorf("history of every device: exit %d:\n%s", code, out)
	}
	code, out, _ = runCLI("history", "--json", "--db", db)
	if code != exitOK || strings.Count(out, "\n") != 3 || strings.Contains(out, `"periods"`) {
		t.Errorf("history --json of every device: exit %d:\n%s", code, out)
	}

	// A window before any scan.
	code, out, _ = runCLI("history", "--since", "1m", "--db", db, "Kitchen Pi")
	if code != exitOK || !strings.Contains(out, "no scan covered it") {
		t.Errorf("history --since 1m: exit %d:\n%s", code, out)
	}
}

// TestHistoryBadInput: every mistake gets one line on stderr naming it,
// exit 2 for bad input and 1 for a history that is not there, and
// nothing on stdout.
func TestHistoryBadInput(t *testing.T) {
	db := historyFixture(t)
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("not a database\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"history", "--db", dir}, exitUsage, "it is a folder"},
		{[]string{"devices", "--db", dir}, exitUsage, "it is a folder"},
		{[]string{"history", "--db", text}, exitUsage, "it is not a database"},
		{[]string{"devices", "--db", text}, exitUsage, "it is not a database"},
		{[]string{"devices", "--db", filepath.Join(text, "x.db")}, exitUsage, "is a file, not a folder"},
		{[]string{"history", "--db", filepath.Join(dir, "none.db")}, exitFail, "no history yet"},
		{[]string{"devices", "--db", filepath.Join(dir, "none.db")}, exitFail, "no history yet"},
		{[]string{"history", "--db", db, "nobody"}, exitUsage, `no known device is "nobody"`},
		{[]string{"history", "--db", db, "a", "b"}, exitUsage, "one device at a time"},
		{[]string{"devices", "--db", db, "extra"}, exitUsage, "unexpected argument"},
		{[]string{"history", "--since", "yesterday", "--db", db}, exitUsage, "--since \"yesterday\""},
		{[]string{"history", "--since", "0s", "--db", db}, exitUsage, "at least 1m"},
		{[]string{"history", "--since", "99999d", "--db", db}, exitUsage, "at most 3650d"},
		{[]string{"history", "--since", "-5d", "--db", db}, exitUsage, "--since"},
		{[]string{"devices", "--nope"}, exitUsage, "flag provided but not defined"},
		{[]string{"history", "--db", db, "\x1b[2J"}, exitUsage, `\x1b[2J`},
	} {
		code, out, errs := runCLI(tc.args...)
		if code != tc.code || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.says) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d saying %q", tc.args, code, out, errs, tc.code, tc.says)
		}
	}
	// A database the reader did not find must not be created by it.
	if _, err := os.Stat(filepath.Join(dir, "none.db")); !os.IsNotExist(err) {
		t.Errorf("a reader created the database it did not find: %v", err)
	}
}

func TestHistoryEmpty(t *testing.T) {
	db := filepath.Join(t.TempDir(), "history.db")
	s, err := store.Open(context.Background(), db, store.Options{Mode: store.ModeRecord})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, cmd := range []string{"history", "devices"} {
		code, out, errs := runCLI(cmd, "--db", db)
		if code != exitOK || out != "" || !strings.Contains(errs, "no devices in "+db+" yet") {
			t.Errorf("%s on an empty history: exit %d, stdout %q, stderr %q", cmd, code, out, errs)
		}
		if code, out, _ := runCLI(cmd, "--json", "--db", db); code != exitOK || out != "" {
			t.Errorf("%s --json on an empty history: exit %d, stdout %q", cmd, code, out)
		}
	}
}

func TestHistoryDefaultPath(t *testing.T) {
	data := t.TempDir()
	t.Setenv("XDG_DATA_HOME", data)
	t.Setenv("APP_ID", "")
	code, _, errs := runCLI("devices")
	want := filepath.Join(data, "netscanner", "history.db")
	if code != exitFail || !strings.Contains(errs, want) {
		t.Errorf("devices without --db: exit %d, %q; want it to look in %s", code, errs, want)
	}
}

// FuzzParseSince: whatever --since gets, it is refused with a usage error
// or gives a window inside the documented bounds.
func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"7d", "36h", "1m", "0s", "-5d", "99999999999999999999d", "1e9h", "d", "3650d", "3651d", "\x00d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseSince(s)
		if err != nil {
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Fatalf("parseSince(%q): %v is not a usage error", s, err)
			}
			return
		}
		if d < time.Minute || d > maxSince {
			t.Fatalf("parseSince(%q) = %v, outside [1m, %v]", s, d, maxSince)
		}
	})
}
