package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"netscanner/internal/daemons"
	"netscanner/internal/integrations/metrics"
	"netscanner/internal/integrations/webhook"
	"netscanner/internal/store"
	"netscanner/internal/testnet"
	"netscanner/internal/watch"
	"netscanner/internal/watch/watchtest"
)

// TestWatchBadUsage: every bad flag, URL, address, interval and --db is
// refused with exit 2 and one line, before a socket is opened.
func TestWatchBadUsage(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("not a database\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "h.db")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--interval", "9s"}, "--interval: bad interval 9s: scanning more often than every 10s"},
		{[]string{"--interval", "0s"}, "--interval: bad interval 0s"},
		{[]string{"--interval", "-5m"}, "bad interval -5m0s"},
		{[]string{"--interval", "200h"}, "want 10s to 168h0m0s"},
		{[]string{"--interval", "5"}, "invalid value"},
		{[]string{"--down-after", "0"}, "--down-after: bad down-after count 0: want 1 to 1000"},
		{[]string{"--down-after", "1001"}, "bad down-after count 1001"},
		{[]string{"--down-after", "many"}, "invalid value"},
		{[]string{"--metrics", ""}, "--metrics: bad metrics address: empty"},
		{[]string{"--metrics", "9750"}, "want host:port"},
		{[]string{"--metrics", "http://127.0.0.1:9750/metrics"}, "not a URL"},
		{[]string{"--metrics", "127.0.0.1:0"}, `port "0": want 1 to 65535`},
		{[]string{"--metrics", "bad_host:9750"}, "neither an IP address nor a host name"},
		{[]string{"--mqtt", ""}, "--mqtt: bad MQTT URL: empty"},
		{[]string{"--mqtt", "http://broker"}, `scheme "http", want mqtt://`},
		{[]string{"--mqtt", "mqtt://"}, "no broker host"},
		{[]string{"--mqtt", "mqtt://b:99999"}, `port "99999"`},
		{[]string{"--mqtt", "mqtt://b/a/#"}, "MQTT wildcard"},
		{[]string{"--mqtt", "mqtt://u:secret@b/x?qos=2"}, `unknown parameter "qos"`},
		{[]string{"--webhook", ""}, "--webhook: bad webhook URL: empty"},
		{[]string{"--webhook", "ftp://example.net/"}, `scheme "ftp", want http or https`},
		{[]string{"--webhook", "http:///x"}, "no host"},
		{[]string{"--webhook", "https://example.net/a b"}, "spaces or control characters"},
		{[]string{"--webhook", "http://example.net/#x"}, "fragment"},
		{[]string{"--db", ""}, "--db: empty path"},
		{[]string{"--db", dir}, "it is a folder"},
		{[]string{"--db", text}, "it is not a database"},
		{[]string{"--db", filepath.Join(text, "x.db")}, "is a file, not a folder"},
		{[]string{"--db", db, "--method", "smoke"}, "unknown method"},
		{[]string{"--db", db, "198.18.1.0/24", "--json"}, "flags go before the targets"},
		{[]string{"--db", db, "300.1.1.1"}, "not a valid IPv4 address"},
		{[]string{"--db", db, "fe80::1"}, "as in fe80::1%eth0"},
		{[]string{"--bogus"}, "not defined"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Env{Open: noOpen(t)}.Run(context.Background(), append([]string{"watch"}, tt.args...), &out, &errb)
			wantRefused(t, "watch", code, out.String(), errb.String(), tt.want)
			if strings.Contains(errb.String(), "secret") {
				t.Errorf("the password is shown: %s", errb.String())
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "x.db")); !os.IsNotExist(err) {
		t.Errorf("bad input created a database: %v", err)
	}
}

func TestWatchHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := (Env{Open: noOpen(t)}).Run(context.Background(), []string{"watch", "-h"}, &out, &errb); code != exitOK {
		t.Errorf("exit %d, want 0", code)
	}
	for _, want := range []string{"Usage: netscanner watch", "-interval", "(default 5m0s)", "-down-after", "(default 3)",
		"-json", "-metrics", "-mqtt", "-webhook", "-db", "-method", "SIGTERM"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("watch -h does not mention %q:\n%s", want, errb.String())
		}
	}
	out.Reset()
	Run(context.Background(), []string{"help"}, &out, &errb)
	if !strings.Contains(out.String(), "netscanner watch [flags] [TARGET...]") {
		t.Errorf("help does not list watch:\n%s", out.String())
	}
}

// TestWatchLocked: a second watcher on one history is refused, clearly.
func TestWatchLocked(t *testing.T) {
	db := filepath.Join(t.TempDir(), "h.db")
	st, err := store.Open(context.Background(), db, store.Options{Mode: store.ModeRecord})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out, errb bytes.Buffer
	code := Env{Open: noOpen(t)}.Run(context.Background(), []string{"watch", "--db", db, "198.18.1.0/24"}, &out, &errb)
	if code != exitFail || out.Len() != 0 || strings.Count(errb.String(), "\n") != 1 ||
		!strings.Contains(errb.String(), "only one watcher may write to a history database") {
		t.Errorf("second watcher: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// watchEvent is one line of `watch --json`.
type watchEvent struct {
	Event   string             `json:"event"`
	Time    string             `json:"time"`
	Host    map[string]any     `json:"host"`
	Device  watch.DeviceJSON   `json:"device"`
	Changes []watch.ChangeJSON `json:"changes"`
	Note    string             `json:"note"`
}

func parseEvents(t *testing.T, out string) []watchEvent {
	t.Helper()
	var evs []watchEvent
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var e watchEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("stdout line is not an event: %q: %v", sc.Text(), err)
		}
		evs = append(evs, e)
	}
	return evs
}

func findEvent(evs []watchEvent, kind, mac string) *watchEvent {
	for i := range evs {
		if evs[i].Event == kind && evs[i].Host["mac"] == mac {
			return &evs[i]
		}
	}
	return nil
}

// TestWatchLAN runs `netscanner watch --json` on a bridged LAN, in
// process, with metrics and a webhook: a host plugged in mid-run is
// joined, a host whose link goes down is left only after --down-after
// missed scans and back when it returns, and a phone taking a new
// private MAC with the same mDNS name (avahi-daemon) is linked, not
// joined. The webhook receives each event once.
func TestWatchLAN(t *testing.T) {
	testnet.Require(t)
	lan := testnet.NewBridged(t,
		testnet.BridgedSpec{Label: "pi", MAC: "b8:27:eb:00:00:0a", Addr4: "198.18.100.10"},
		testnet.BridgedSpec{Label: "printer", MAC: "9c:7b:ef:00:00:0c", Addr4: "198.18.100.12"},
		testnet.BridgedSpec{Label: "phone", MAC: "3a:00:00:00:00:30", Addr4: "198.18.100.30"},
		testnet.BridgedSpec{Label: "late", MAC: "f0:b4:79:00:00:40", Addr4: "198.18.100.40"},
	)
	late, printer, phone := lan.Host("late"), lan.Host("printer"), lan.Host("phone")
	late.NS.Run("ip", "link", "set", late.If, "down")
	avahi := daemons.StartAvahi(t, phone.NS, daemons.AvahiSpec{HostName: "pixel-7", NoIPv6: true})

	// The webhook's receiver, on the scanner's side of the LAN.
	var (
		hookMu   sync.Mutex
		hookGot  []watchEvent
		hookSeen = map[string]int{}
	)
	var ln net.Listener
	var err error
	lan.Scanner.Do(func() { ln, err = net.Listen("tcp", "198.18.100.1:0") })
	if err != nil {
		t.Fatal(err)
	}
	hookSrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var e watchEvent
		if json.Unmarshal(b, &e) != nil {
			t.Errorf("webhook body %q", b)
		}
		hookMu.Lock()
		hookGot = append(hookGot, e)
		hookSeen[r.Header.Get("X-Netscanner-Delivery")]++
		hookMu.Unlock()
	})}
	go func() { _ = hookSrv.Serve(ln) }()
	t.Cleanup(func() { hookSrv.Close() })

	db := filepath.Join(t.TempDir(), "history.db")
	const down = 2
	metricsAddr := "198.18.100.1:9751"
	args := []string{"watch", "--json", "--interval", "1s", "--down-after", strconv.Itoa(down), "--db", db,
		"--metrics", metricsAddr, "--webhook", "http://" + ln.Addr().String() + "/hook", "--method", "raw",
		testnet.BridgedPrefix4.String()}
	e := Env{InNet: func(fn func()) error { return testnet.Do(lan.Scanner.Name, fn) }, watchMinInterval: time.Second}
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() {
		c := exitFail
		if err := testnet.Do(lan.Scanner.Name, func() { c = e.Run(ctx, args, &stdout, &stderr) }); err != nil {
			t.Error(err)
		}
		code <- c
	}()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			cancel()
			<-code
		}
		if t.Failed() || testing.Verbose() {
			t.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
	})
	waitFor := func(what string, ok func([]watchEvent) bool) []watchEvent {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			evs := parseEvents(t, stdout.String())
			if ok(evs) {
				return evs
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s after 60s", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	has := func(kind, mac string) func([]watchEvent) bool {
		return func(evs []watchEvent) bool { return findEvent(evs, kind, mac) != nil }
	}
	client := &http.Client{Transport: &http.Transport{DialContext: daemons.DialIn(lan.Scanner.Name)}, Timeout: 5 * time.Second}
	lastScan := func() time.Time {
		resp, err := client.Get("http://" + metricsAddr + "/metrics")
		if err != nil {
			return time.Time{}
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "netscanner_last_scan_timestamp_seconds "); ok {
				f, _ := strconv.ParseFloat(v, 64)
				return time.UnixMilli(int64(f * 1000))
			}
		}
		return time.Time{}
	}

	evs := waitFor("joins", func(evs []watchEvent) bool {
		return has("joined", "b8:27:eb:00:00:0a")(evs) && has("joined", "9c:7b:ef:00:00:0c")(evs) && has("joined", "3a:00:00:00:00:30")(evs)
	})
	j := findEvent(evs, "joined", "3a:00:00:00:00:30")
	if j.Host["ip"] != "198.18.100.30" || j.Host["hostname"] != "pixel-7.local" || j.Host["alive"] != true ||
		j.Device.ID != "mac:3a:00:00:00:00:30" || !j.Device.Present || j.Time == "" {
		t.Errorf("the phone's joined event: %+v", j)
	}
	if _, err := time.Parse(time.RFC3339, j.Time); err != nil {
		t.Errorf("time %q: %v", j.Time, err)
	}

	late.NS.Run("ip", "link", "set", late.If, "up")
	waitFor("a join of the host plugged in", has("joined", "f0:b4:79:00:00:40"))

	unplugged := time.Now()
	printer.NS.Run("ip", "link", "set", printer.If, "down")
	evs = waitFor("the printer leaving", has("left", "9c:7b:ef:00:00:0c"))
	left := findEvent(evs, "left", "9c:7b:ef:00:00:0c")
	leftAt, _ := time.Parse(time.RFC3339, left.Time)
	if left.Device.Missed != down || left.Device.Present || left.Host["alive"] != false {
		t.Errorf("left event %+v", left)
	}
	// down-after scans missed it, the last of them the one that said
	// left (Missed, above); the first may have been under way when the
	// link went down, so the last started at least down-2 intervals
	// after that. Event times are whole seconds.
	if leftAt.Add(time.Second).Before(unplugged.Add(time.Duration(down-2) * time.Second)) {
		t.Errorf("left %v after the link went down, sooner than %d scans a second apart allow", leftAt.Sub(unplugged), down)
	}
	printer.NS.Run("ip", "link", "set", printer.If, "up")
	waitFor("the printer back", has("back", "9c:7b:ef:00:00:0c"))

	watchtest.Roam(t, lan, phone, "7e:00:00:00:00:31", "198.18.100.31", func(cut time.Time) bool {
		if !avahi.LogContains("Registering new address record for 198.18.100.31") || !lastScan().After(cut) {
			return false
		}
		time.Sleep(time.Second)
		return true
	})
	evs = waitFor("an event for the phone's new MAC", func(evs []watchEvent) bool {
		return slices.ContainsFunc(evs, func(e watchEvent) bool { return e.Host["mac"] == "7e:00:00:00:00:31" })
	})
	for _, e := range evs {
		if e.Host["mac"] != "7e:00:00:00:00:31" {
			continue
		}
		if (e.Event != "changed" && e.Event != "back") || e.Device.ID != "mac:3a:00:00:00:00:30" ||
			!strings.Contains(e.Note, "same device as pixel-7.local, new private MAC") {
			t.Errorf("the phone's new MAC: %+v, want it linked to the phone", e)
		}
	}

	// SIGTERM's effect in process: the context ends, watch exits 0.
	cancel()
	stopped = true
	select {
	case c := <-code:
		if c != exitOK {
			t.Errorf("exit %d after the context ended, want 0", c)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("watch did not stop after its context ended")
	}
	if !strings.HasSuffix(stderr.String(), "netscanner watch: stopped\n") {
		t.Errorf("stderr does not end with the stop line:\n%s", stderr.String())
	}

	evs = parseEvents(t, stdout.String())
	hookMu.Lock()
	defer hookMu.Unlock()
	if len(hookGot) != len(evs) {
		t.Errorf("the webhook got %d events, stdout has %d", len(hookGot), len(evs))
	}
	for i := range min(len(hookGot), len(evs)) {
		if hookGot[i].Event != evs[i].Event || hookGot[i].Device.ID != evs[i].Device.ID || hookGot[i].Time != evs[i].Time {
			t.Errorf("webhook event %d: %s %s, stdout: %s %s", i, hookGot[i].Event, hookGot[i].Device.ID, evs[i].Event, evs[i].Device.ID)
		}
	}
	for id, n := range hookSeen {
		if n != 1 {
			t.Errorf("delivery %s arrived %d times", id, n)
		}
	}
	// The history holds every scan, readable by another process's reader.
	st, err := store.Open(context.Background(), db, store.Options{Mode: store.ModeRead})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	devs, err := st.Devices(context.Background())
	if err != nil || len(devs) < 5 {
		t.Errorf("history devices: %d, %v", len(devs), err)
	}
}

// buildWatchBinary builds the static headless binary, as `make cli` does.
func buildWatchBinary(t *testing.T) string {
	t.Helper()
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	dir, err := os.MkdirTemp("", "netscanner-watch-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "netscanner-cli")
	cmd := exec.Command("go", "build", "-tags", "nogui", "-o", bin, ".")
	cmd.Dir = strings.TrimSpace(string(root))
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestWatchSignals runs the static headless binary as a real process on
// a bridged LAN, as root (raw sockets) and as nobody (ICMP datagram
// sockets), publishing to a mosquitto broker on the LAN: it reports the
// hosts joined, and SIGTERM or SIGINT stop it with exit 0, a readable
// history and "offline" on the broker.
func TestWatchSignals(t *testing.T) {
	testnet.Require(t)
	bin := buildWatchBinary(t)
	lan := testnet.NewBridged(t,
		testnet.BridgedSpec{Label: "pi", MAC: "b8:27:eb:00:00:0a", Addr4: "198.18.100.10"},
		testnet.BridgedSpec{Label: "printer", MAC: "9c:7b:ef:00:00:0c", Addr4: "198.18.100.12"},
		testnet.BridgedSpec{Label: "broker", MAC: "00:16:3e:00:00:30", Addr4: "198.18.100.30"},
	)
	lan.Scanner.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	brokerNS := lan.Host("broker").NS
	broker := daemons.StartMosquitto(t, brokerNS, daemons.MosquittoSpec{Listen: "198.18.100.30:1883"})
	for _, tc := range []struct {
		user   testnet.User
		sig    syscall.Signal
		method string
	}{
		{testnet.Root, syscall.SIGTERM, "raw"},
		{testnet.Nobody, syscall.SIGINT, "dgram"},
	} {
		t.Run(tc.user.String(), func(t *testing.T) {
			// Somewhere nobody may write: t.TempDir's parents are root's.
			dir, err := os.MkdirTemp("", "netscanner-watch-db-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			if err := os.Chmod(dir, 0o777); err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(dir, "history.db")
			base := "netscanner/" + tc.user.String()
			sub := broker.Subscribe(t, brokerNS, []string{base + "/#"})
			cmd := lan.Scanner.Command(tc.user, bin, "watch", "--interval", "10s", "--method", tc.method, "--db", db,
				"--mqtt", "mqtt://198.18.100.30/"+base, testnet.BridgedPrefix4.String())
			cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir)
			var stdout, stderr syncBuffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			deadline := time.Now().Add(30 * time.Second)
			for !strings.Contains(stdout.String(), "joined  198.18.100.10 b8:27:eb:00:00:0a") ||
				!strings.Contains(stdout.String(), "joined  198.18.100.12 9c:7b:ef:00:00:0c") {
				if time.Now().After(deadline) {
					syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
					t.Fatalf("no joins after 30s\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
				}
				time.Sleep(100 * time.Millisecond)
			}
			// The signal goes to the whole group: `ip netns exec` and
			// setpriv exec the program, so it is the program.
			if err := syscall.Kill(-cmd.Process.Pid, tc.sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("%v: %v, want exit 0\nstderr:\n%s", tc.sig, err, stderr.String())
				}
			case <-time.After(20 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				t.Fatalf("still running 20s after %v", tc.sig)
			}
			if !strings.Contains(stderr.String(), "netscanner watch: method "+tc.method) || !strings.HasSuffix(stderr.String(), "netscanner watch: stopped\n") {
				t.Errorf("stderr:\n%s", stderr.String())
			}
			for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
				if !strings.Contains(l, " joined  ") {
					t.Errorf("unexpected line %q", l)
				}
			}
			// The broker got the joins, and the watcher's last word.
			msgs, ok := sub.WaitFor(10*time.Second, func(m []daemons.MQTTMessage) bool {
				joined, offline := 0, false
				for _, x := range m {
					joined += strings.Count(x.Payload, `"event":"joined"`)
					offline = offline || x.Topic == base+"/status" && x.Payload == "offline"
				}
				return joined >= 3 && offline
			})
			if !ok {
				t.Errorf("mosquitto_sub did not get the joins and the offline status after %v:\n%v", tc.sig, msgs)
			}
			st, err := store.Open(context.Background(), db, store.Options{Mode: store.ModeRead})
			if err != nil {
				t.Fatalf("history after %v: %v", tc.sig, err)
			}
			defer st.Close()
			if devs, err := st.Devices(context.Background()); err != nil || len(devs) < 3 {
				t.Errorf("history after %v: %d devices, %v", tc.sig, len(devs), err)
			}
		})
	}
}

// FuzzParseWatchArgs feeds arbitrary command lines to watch's flag
// parser: it must not panic, and what it accepts must lie inside the
// limits and be parsed by the integrations' own checks.
func FuzzParseWatchArgs(f *testing.F) {
	for _, s := range []string{
		"--interval\x0010s\x00--down-after\x001\x00198.18.1.0/24",
		"--metrics\x00:9750\x00--mqtt\x00mqtt://u:p@b/x?discovery=off",
		"--webhook\x00http://198.18.1.1/h#x",
		"--interval\x00-1h\x00--db\x00",
		"--mqtt\x00mqtts://[::1]:0/a/+",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Split(line, "\x00")
		c, err := parseWatchArgs(args, 0, io.Discard)
		if err != nil {
			return
		}
		if watch.CheckInterval(c.interval) != nil || watch.CheckDownAfter(c.downAfter) != nil {
			t.Errorf("%q accepted interval %v, down-after %d", args, c.interval, c.downAfter)
		}
		if c.metrics != "" {
			if _, err := metrics.ParseAddr(c.metrics); err != nil {
				t.Errorf("%q accepted metrics address %q: %v", args, c.metrics, err)
			}
		}
		if c.webhook != "" {
			if _, err := webhook.ParseURL(c.webhook); err != nil {
				t.Errorf("%q accepted webhook %q: %v", args, c.webhook, err)
			}
		}
		for _, a := range c.scan.targets {
			if len(a) > 1 && a[0] == '-' {
				t.Errorf("%q accepted the flag-like target %q", args, a)
			}
		}
	})
}
