package metrics_test

import (
	"context"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"netscanner/internal/daemons"
	"netscanner/internal/integrations/metrics"
	"netscanner/internal/testnet"
	"netscanner/internal/watch"
	"netscanner/internal/watch/watchtest"
)

// TestPrometheus runs a watcher on a bridged LAN, serves its metrics on
// the scanner's LAN address, and has a real prometheus server on another
// host of the LAN scrape it: the server's query API must return the
// hosts up, their round trips, the count present, and, once a host's
// link goes down and it misses --down-after scans, that host down.
func TestPrometheus(t *testing.T) {
	testnet.Require(t)
	lan := testnet.NewBridged(t,
		testnet.BridgedSpec{Label: "pi", MAC: "b8:27:eb:00:00:0a", Addr4: "198.18.100.10"},
		testnet.BridgedSpec{Label: "printer", MAC: "9c:7b:ef:00:00:0c", Addr4: "198.18.100.12"},
		testnet.BridgedSpec{Label: "prom", MAC: "00:16:3e:00:00:20", Addr4: "198.18.100.20"},
	)
	exp := metrics.New(metrics.Options{})
	listen := net.JoinHostPort(testnet.BridgedScanner4.String(), "9750")
	var srv *metrics.Server
	var err error
	lan.Scanner.Do(func() { srv, err = metrics.Listen(listen, exp) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(context.Background()) })

	w, err := watch.New(watch.Config{
		Scan:        watchtest.Scan(t, lan.Scanner, testnet.BridgedPrefix4.String()),
		Store:       watchtest.Store(t),
		Interval:    time.Second,
		MinInterval: time.Second,
		DownAfter:   2,
		Sinks:       []watch.Sink{exp},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})

	prom := daemons.StartPrometheus(t, lan.Host("prom").NS, daemons.PrometheusSpec{
		Listen:  "198.18.100.20:9090",
		Targets: []string{listen},
		Labels:  map[string]string{"network": "lab"},
	})

	// query polls expr until ok holds for its result.
	query := func(expr string, ok func([]daemons.PromSample) bool) []daemons.PromSample {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			got, err := prom.Query(context.Background(), expr)
			if err == nil && ok(got) {
				return got
			}
			if time.Now().After(deadline) {
				tg, _ := prom.Targets(context.Background())
				t.Fatalf("prometheus: %s: %v, %v (targets: %v)", expr, got, err, tg)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	devices := func(s []daemons.PromSample) []string {
		var out []string
		for _, x := range s {
			out = append(out, x.Metric["device"])
		}
		slices.Sort(out)
		return out
	}
	want := []string{"00:16:3e:00:00:20", "9c:7b:ef:00:00:0c", "b8:27:eb:00:00:0a"}
	up := query(`netscanner_device_up{job="netscanner",network="lab"} == 1`, func(s []daemons.PromSample) bool {
		d := devices(s)
		return len(d) >= 3 && !slices.ContainsFunc(want, func(m string) bool { return !slices.Contains(d, m) })
	})
	t.Logf("up: %v", devices(up))
	for _, s := range up {
		if s.Metric["kind"] == "" && s.Metric["name"] == "" && s.Metric["device"] == "" {
			t.Errorf("series without labels: %v", s)
		}
	}
	query(`netscanner_device_rtt_seconds{device="b8:27:eb:00:00:0a"} > 0`, func(s []daemons.PromSample) bool { return len(s) == 1 })
	query(`netscanner_device_info{device="9c:7b:ef:00:00:0c",ip="198.18.100.12",vendor="Hewlett Packard"}`, func(s []daemons.PromSample) bool { return len(s) == 1 })
	query(`netscanner_devices_present`, func(s []daemons.PromSample) bool {
		n, _ := strconv.Atoi(firstValue(s))
		return n >= 3 // and the scanner itself
	})
	query(`netscanner_scans_total > 1`, func(s []daemons.PromSample) bool { return len(s) == 1 })
	query(`netscanner_scan_duration_seconds_count > 1`, func(s []daemons.PromSample) bool { return len(s) == 1 })
	query(`netscanner_scan_errors_total`, func(s []daemons.PromSample) bool { return firstValue(s) == "0" })

	printer := lan.Host("printer")
	printer.NS.Run("ip", "link", "set", printer.If, "down")
	query(`netscanner_device_up{device="9c:7b:ef:00:00:0c"} == 0`, func(s []daemons.PromSample) bool { return len(s) == 1 })
	query(`netscanner_events_total{event="left"}`, func(s []daemons.PromSample) bool { return firstValue(s) == "1" })
	query(`netscanner_device_rtt_seconds{device="9c:7b:ef:00:00:0c"}`, func(s []daemons.PromSample) bool { return len(s) == 0 })
	tg, err := prom.Targets(context.Background())
	if err != nil || tg["http://"+listen+"/metrics"][0] != "up" {
		t.Errorf("prometheus targets: %v, %v", tg, err)
	}
}

func firstValue(s []daemons.PromSample) string {
	if len(s) == 0 {
		return ""
	}
	return s[0].Value
}
