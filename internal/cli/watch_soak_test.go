package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"netscanner/internal/daemons"
	"netscanner/internal/testnet"
	"netscanner/internal/watch/watchtest"
)

// TestWatchSoak runs the static headless watcher unattended for
// NETSCANNER_WATCH_SOAK (such as 2h) on a bridged LAN, as the systemd
// user unit does: as nobody, by ICMP datagram sockets, into a real
// prometheus server and a real mosquitto broker. A schedule cuts one
// host off the LAN at a time and plugs it back, and plugs in a new host
// once; at the end the watcher must still run, and its stdout, the
// broker and prometheus must all tell exactly that story: one left and
// one back per absence, no alarm for anyone else, no failed scrape, no
// failed scan, and memory that did not grow. It is too long for CI:
//
//	CI=true NETSCANNER_WATCH_SOAK=2h go test -tags migrated_fynedo -count=1 -run TestWatchSoak -v -timeout 3h ./internal/cli/
//
// NETSCANNER_WATCH_SOAK_INTERVAL sets --interval (default 30s); an
// absence lasts 8 intervals and one starts every 24.
func TestWatchSoak(t *testing.T) {
	span, err := time.ParseDuration(os.Getenv("NETSCANNER_WATCH_SOAK"))
	if err != nil || span <= 0 {
		t.Skip("set NETSCANNER_WATCH_SOAK to a duration (such as 2h) to soak a watcher")
	}
	interval := 30 * time.Second
	if v := os.Getenv("NETSCANNER_WATCH_SOAK_INTERVAL"); v != "" {
		if interval, err = time.ParseDuration(v); err != nil {
			t.Fatal(err)
		}
	}
	testnet.Require(t)
	bin := buildWatchBinary(t)

	const hosts = 8
	var specs []testnet.BridgedSpec
	for i := range hosts {
		specs = append(specs, testnet.BridgedSpec{Label: fmt.Sprintf("h%d", i),
			MAC: fmt.Sprintf("b8:27:eb:00:02:%02x", i), Addr4: fmt.Sprintf("198.18.100.%d", 10+i)})
	}
	specs = append(specs,
		testnet.BridgedSpec{Label: "infra", MAC: "00:16:3e:00:02:30", Addr4: "198.18.100.30"},
		testnet.BridgedSpec{Label: "late", MAC: "f0:b4:79:00:02:40", Addr4: "198.18.100.40"})
	lan := testnet.NewBridged(t, specs...)
	lan.Scanner.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	late := lan.Host("late")
	late.NS.Run("ip", "link", "set", late.If, "down")

	infra := lan.Host("infra").NS
	const metricsAddr = "198.18.100.1:9753"
	broker := daemons.StartMosquitto(t, infra, daemons.MosquittoSpec{Listen: "198.18.100.30:1883"})
	sub := broker.Subscribe(t, infra, []string{"soak/#", "homeassistant/#"})
	scrape := 15 * time.Second
	prom := daemons.StartPrometheus(t, infra, daemons.PrometheusSpec{Listen: "198.18.100.30:9090",
		Targets: []string{metricsAddr}, Interval: scrape})

	dir, err := os.MkdirTemp("", "netscanner-soak-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil { // nobody writes the history
		t.Fatal(err)
	}
	db := filepath.Join(dir, "history.db")
	cmd := lan.Scanner.Command(testnet.Nobody, bin, "watch", "--json", "--interval", interval.String(), "--method", "dgram",
		"--db", db, "--metrics", metricsAddr, "--mqtt", "mqtt://198.18.100.30/soak", testnet.BridgedPrefix4.String())
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
	})
	pid := cmd.Process.Pid // ip netns exec and setpriv exec the program

	// The schedule: absence k cuts host k%hosts off at warm+k*period for
	// absent; the late host is plugged in once, between absences.
	type absence struct {
		host       string // MAC
		from, to   time.Time
		left, back int // events seen for it in its window
	}
	start := time.Now()
	warm := 4 * interval
	period, absent := 24*interval, 8*interval
	var absences []*absence
	lateAt := start.Add(warm + 18*interval)
	lateDone := false
	var rss []int64 // KiB, once a minute
	nextSample := start
	for time.Since(start) < span {
		now := time.Now()
		if exitedEarly(exited) {
			t.Fatalf("the watcher exited after %v\nstderr:\n%s", now.Sub(start), stderr.String())
		}
		k := int(now.Sub(start.Add(warm)) / period)
		if now.After(start.Add(warm)) && k >= len(absences) && now.Add(absent+4*interval).Before(start.Add(span)) {
			h := lan.Host(fmt.Sprintf("h%d", k%hosts))
			watchtest.Unplug(t, lan, h, true)
			absences = append(absences, &absence{host: specs[k%hosts].MAC, from: time.Now()})
			t.Logf("%v: unplugged %s", time.Since(start).Round(time.Second), h.Label)
		}
		if n := len(absences); n > 0 && absences[n-1].to.IsZero() && now.After(absences[n-1].from.Add(absent)) {
			a := absences[n-1]
			watchtest.Unplug(t, lan, lan.Host(fmt.Sprintf("h%d", (n-1)%hosts)), false)
			a.to = time.Now()
			t.Logf("%v: plugged h%d back", time.Since(start).Round(time.Second), (n-1)%hosts)
		}
		if !lateDone && now.After(lateAt) {
			late.NS.Run("ip", "link", "set", late.If, "up")
			lateDone = true
			t.Logf("%v: plugged in the late host", time.Since(start).Round(time.Second))
		}
		if now.After(nextSample) {
			rss = append(rss, rssKiB(pid))
			nextSample = nextSample.Add(time.Minute)
		}
		time.Sleep(time.Second)
	}
	if n := len(absences); n > 0 && absences[n-1].to.IsZero() {
		t.Fatal("the schedule left a host unplugged") // the loop's guard prevents it
	}
	// One more scan after the last change, so that every event is out.
	time.Sleep(2 * interval)
	elapsed := time.Since(start)
	cpu, _ := cpuTicks(pid)

	// stdout: exactly the story the schedule tells.
	evs := parseEvents(t, stdout.String())
	// during reports whether a scan that started at t may have missed
	// a's host: times are scan starts, so a scan under way at the cut
	// (up to an interval before it) may miss it too, and every scan
	// that starts before the host's return does.
	during := func(a *absence, t time.Time) bool {
		return !t.Before(a.from.Add(-interval)) && t.Before(a.to)
	}
	counts := map[string]int{}
	for _, e := range evs {
		counts[e.Event]++
		at, err := time.Parse(time.RFC3339, e.Time)
		if err != nil {
			t.Errorf("event time %q: %v", e.Time, err)
			continue
		}
		mac, _ := e.Host["mac"].(string)
		switch e.Event {
		case "joined":
			if mac == "f0:b4:79:00:02:40" && at.Before(lateAt.Truncate(time.Second)) {
				t.Errorf("the late host joined at %v, before it was plugged in", at)
			}
		case "left", "back":
			var hit *absence
			for _, a := range absences {
				// left: during the absence; back: around its return,
				// within two scans (a scan under way at the return may
				// be the first to see it).
				if a.host == mac && (e.Event == "left" && during(a, at) ||
					e.Event == "back" && !at.Before(a.to.Add(-interval)) && at.Before(a.to.Add(2*interval+10*time.Second))) {
					hit = a
				}
			}
			if hit == nil {
				t.Errorf("%s event for %s at %v matches no absence: a false alarm", e.Event, mac, at)
			} else if e.Event == "left" {
				hit.left++
			} else {
				hit.back++
			}
		default:
			t.Errorf("unexpected %s event: %+v", e.Event, e)
		}
	}
	for _, a := range absences {
		if a.left != 1 || a.back != 1 {
			t.Errorf("absence of %s from %v to %v: %d left and %d back events, want 1 and 1", a.host,
				a.from.Sub(start).Round(time.Second), a.to.Sub(start).Round(time.Second), a.left, a.back)
		}
	}
	if want := hosts + 3; counts["joined"] != want { // the hosts, infra, late and the scanner itself
		t.Errorf("%d joined events, want %d", counts["joined"], want)
	}

	// The broker: the same events, in the same order, and a discovery
	// message and a home state for every device.
	var mqttEvents []watchEvent
	configs, homes := map[string]bool{}, map[string]string{}
	for _, m := range sub.Messages() {
		switch {
		case m.Topic == "soak/event":
			var e watchEvent
			if err := json.Unmarshal([]byte(m.Payload), &e); err != nil {
				t.Errorf("soak/event payload %q: %v", m.Payload, err)
			}
			mqttEvents = append(mqttEvents, e)
		case strings.HasPrefix(m.Topic, "homeassistant/device_tracker/") && strings.HasSuffix(m.Topic, "/config"):
			configs[m.Topic] = true
		case strings.HasPrefix(m.Topic, "soak/device/") && strings.HasSuffix(m.Topic, "/state"):
			homes[m.Topic] = m.Payload
		}
	}
	if len(mqttEvents) != len(evs) {
		t.Errorf("the broker got %d events, stdout has %d", len(mqttEvents), len(evs))
	}
	for i := range min(len(mqttEvents), len(evs)) {
		if mqttEvents[i].Event != evs[i].Event || mqttEvents[i].Device.ID != evs[i].Device.ID || mqttEvents[i].Time != evs[i].Time {
			t.Errorf("broker event %d: %s %s %s, stdout: %s %s %s", i, mqttEvents[i].Event, mqttEvents[i].Device.ID,
				mqttEvents[i].Time, evs[i].Event, evs[i].Device.ID, evs[i].Time)
		}
	}
	notHome := 0
	for _, s := range homes {
		if s != "home" {
			notHome++
		}
	}
	if len(configs) != hosts+3 || len(homes) != hosts+3 || notHome != 0 {
		t.Errorf("broker: %d discovery configs, %d device states (%d not home), want %d, %d, 0", len(configs), len(homes), notHome, hosts+3, hosts+3)
	}

	// Prometheus: every scrape succeeded, every scan too, and each
	// absent host's up series went to 0 while no other's did.
	ctx := context.Background()
	win := fmt.Sprintf("%ds", int(elapsed.Seconds())-int(scrape.Seconds()))
	one := func(expr string) float64 {
		t.Helper()
		s, err := prom.Query(ctx, expr)
		if err != nil || len(s) != 1 {
			t.Errorf("prometheus %s: %v, %v", expr, s, err)
			return -1
		}
		f, _ := strconv.ParseFloat(s[0].Value, 64)
		return f
	}
	scrapes := one(`count_over_time(up{job="netscanner"}[` + win + `])`)
	if v := one(`min_over_time(up{job="netscanner"}[` + win + `])`); v != 1 {
		t.Errorf("a scrape of the watcher failed (min up %v)", v)
	}
	if want := elapsed.Seconds() / scrape.Seconds(); scrapes < 0.9*want-2 {
		t.Errorf("%v scrapes in %v, want about %.0f", scrapes, elapsed.Round(time.Second), want)
	}
	scans := one(`max_over_time(netscanner_scans_total[` + win + `])`)
	if v := one(`max_over_time(netscanner_scan_errors_total[` + win + `])`); v != 0 {
		t.Errorf("%v failed scans", v)
	}
	if want := elapsed.Seconds() / interval.Seconds(); scans < 0.9*want-2 {
		t.Errorf("%v scans in %v at %v, want about %.0f", scans, elapsed.Round(time.Second), interval, want)
	}
	wasAway := map[string]bool{}
	for _, a := range absences {
		wasAway[a.host] = true
	}
	for i := range hosts {
		mac := specs[i].MAC
		v := one(`min_over_time(netscanner_device_up{device="` + mac + `"}[` + win + `])`)
		if want := map[bool]float64{true: 0, false: 1}[wasAway[mac]]; v != want {
			t.Errorf("%s: lowest up %v over the run, want %v (away: %v)", mac, v, want, wasAway[mac])
		}
	}
	if v := one(`netscanner_events_total{event="left"}`); int(v) != len(absences) {
		t.Errorf("netscanner_events_total{event=left} %v, want %d", v, len(absences))
	}

	// The history, read by `netscanner history`: the first host to have
	// been away has one absent period for each of its absences (a run of
	// more than hosts*period has cut it off more than once), each inside
	// its absence's window.
	if len(absences) > 0 {
		host := absences[0].host
		var windows []*absence
		for _, a := range absences {
			if a.host == host {
				windows = append(windows, a)
			}
		}
		out, err := exec.Command(bin, "history", "--json", "--db", db, host).Output()
		if err != nil {
			t.Errorf("history: %v", err)
		}
		var h struct {
			Periods []periodJSON `json:"periods"`
		}
		if err := json.Unmarshal(out, &h); err != nil {
			t.Errorf("history --json: %v", err)
		}
		var gone []periodJSON
		for _, p := range h.Periods {
			if !p.Present {
				gone = append(gone, p)
			}
		}
		if len(gone) != len(windows) {
			t.Errorf("history of %s: %d absent periods, want %d:\n%s", host, len(gone), len(windows), out)
		}
		for i := range min(len(gone), len(windows)) {
			from, err1 := time.Parse(time.RFC3339, gone[i].Start)
			to, err2 := time.Parse(time.RFC3339, gone[i].End)
			w := windows[i]
			if err1 != nil || err2 != nil || !during(w, from) || !during(w, to) {
				t.Errorf("history of %s: absent period %d is %s to %s, want inside %s to %s",
					host, i+1, gone[i].Start, gone[i].End, w.from.Format(time.RFC3339), w.to.Format(time.RFC3339))
			}
		}
	}

	// Memory: no growth from the first hour's second half to the end.
	var early, lateRSS, peak int64
	for _, v := range rss {
		peak = max(peak, v)
	}
	if n := len(rss); n >= 8 {
		for _, v := range rss[n/4 : n/2] {
			early = max(early, v)
		}
		for _, v := range rss[3*n/4:] {
			lateRSS = max(lateRSS, v)
		}
		if lateRSS > early+4*1024 {
			t.Errorf("RSS grew from %.1f MiB to %.1f MiB", float64(early)/1024, float64(lateRSS)/1024)
		}
	}

	if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	stopped = true
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("SIGTERM: %v, want exit 0", err)
		}
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		t.Fatal("still running 30s after SIGTERM")
	}
	growth := fmt.Sprintf("%.1f MiB mid-run, %.1f MiB at the end", float64(early)/1024, float64(lateRSS)/1024)
	if len(rss) < 8 {
		growth = fmt.Sprintf("growth not judged from %d samples", len(rss))
	}
	line := fmt.Sprintf("watch soak: %v unattended as nobody (dgram), interval %v, %d hosts: %.0f scans, %.0f scrapes, %d absences, events %v, %d MQTT events; CPU %.1f s (%.3f%% of a core); RSS peak %.1f MiB, %s",
		elapsed.Round(time.Second), interval, len(specs)+1, scans, scrapes, len(absences), counts, len(mqttEvents),
		float64(cpu)/100, 100*float64(cpu)/100/elapsed.Seconds(), float64(peak)/1024, growth)
	t.Log(line)
	fmt.Println(line)
}

// exitedEarly reports whether the watcher's process is gone.
func exitedEarly(exited chan error) bool {
	select {
	case err := <-exited:
		exited <- err
		return true
	default:
		return false
	}
}
