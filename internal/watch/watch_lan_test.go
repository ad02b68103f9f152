package watch_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"netscanner/internal/daemons"
	"netscanner/internal/testnet"
	"netscanner/internal/watch"
	"netscanner/internal/watch/watchtest"
)

// TestWatchLAN runs a real watcher on a bridged LAN of namespaces: a
// host plugged in mid-run joins, one whose link goes down leaves only
// after --down-after missed scans and is back when it returns, and a
// phone that takes a new private MAC (and address) while its
// avahi-daemon keeps its mDNS name is linked to itself, not joined.
func TestWatchLAN(t *testing.T) {
	testnet.Require(t)
	lan := testnet.NewBridged(t,
		testnet.BridgedSpec{Label: "pi", MAC: "b8:27:eb:00:00:0a", Addr4: "198.18.100.10"},
		testnet.BridgedSpec{Label: "printer", MAC: "9c:7b:ef:00:00:0c", Addr4: "198.18.100.12"},
		testnet.BridgedSpec{Label: "phone", MAC: "3a:00:00:00:00:30", Addr4: "198.18.100.30"},
		testnet.BridgedSpec{Label: "late", MAC: "f0:b4:79:00:00:40", Addr4: "198.18.100.40"},
	)
	late, printer, phone := lan.Host("late"), lan.Host("printer"), lan.Host("phone")
	late.NS.Run("ip", "link", "set", late.If, "down") // not plugged in yet
	avahi := daemons.StartAvahi(t, phone.NS, daemons.AvahiSpec{HostName: "pixel-7", NoIPv6: true})

	const down = 2
	rec := watchtest.NewRecorder()
	w, err := watch.New(watch.Config{
		Scan:        watchtest.Scan(t, lan.Scanner, testnet.BridgedPrefix4.String()),
		Store:       watchtest.Store(t),
		Interval:    time.Second,
		MinInterval: time.Second,
		DownAfter:   down,
		Sinks:       []watch.Sink{rec},
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

	const wait = 60 * time.Second
	waitEvent(t, rec, wait, watch.Joined, "9c:7b:ef:00:00:0c")
	waitEvent(t, rec, wait, watch.Joined, "b8:27:eb:00:00:0a")
	joinedPhone := waitEvent(t, rec, wait, watch.Joined, "3a:00:00:00:00:30")
	if joinedPhone.Device.Host.Hostname != "pixel-7.local" {
		t.Errorf("the phone joined as %q, want its mDNS name pixel-7.local", joinedPhone.Device.Host.Hostname)
	}

	t.Log("plugging in a host")
	late.NS.Run("ip", "link", "set", late.If, "up")
	waitEvent(t, rec, wait, watch.Joined, "f0:b4:79:00:00:40")

	t.Log("unplugging the printer")
	unplugged := time.Now()
	printer.NS.Run("ip", "link", "set", printer.If, "down")
	left := waitEvent(t, rec, wait, watch.Left, "9c:7b:ef:00:00:0c")
	// The scans that missed it: those still running or started after
	// its link went down (one already under way may miss it too, if it
	// had not reached the printer yet), up to and including the one that
	// called it gone.
	missed := 0
	for _, r := range rec.Reports() {
		if !r.Time.Add(r.Duration).After(unplugged) || r.Time.After(left.Time) {
			continue
		}
		for _, d := range r.Devices {
			if d.MACOrIP() == "9c:7b:ef:00:00:0c" && d.Missed > 0 {
				missed++
			}
		}
	}
	if missed < down {
		t.Errorf("the printer left after %d scans without it, want at least %d", missed, down)
	}
	if left.Device.Present || left.Device.Missed != down {
		t.Errorf("left device: present %v, missed %d", left.Device.Present, left.Device.Missed)
	}
	printer.NS.Run("ip", "link", "set", printer.If, "up")
	back := waitEvent(t, rec, wait, watch.Back, "9c:7b:ef:00:00:0c")
	if !back.Device.Present || back.Device.ID != left.Device.ID {
		t.Errorf("back: %+v, want the device that left, present", back.Device)
	}

	t.Log("the phone takes a new private MAC and address")
	// Away from the LAN meanwhile (its switch port stops forwarding, its
	// link stays up), as a phone reconnecting to Wi-Fi is not seen
	// before it has its new address; avahi announces that address.
	watchtest.Roam(t, lan, phone, "7e:00:00:00:00:31", "198.18.100.31", func(cut time.Time) bool {
		if !avahi.LogContains("Registering new address record for 198.18.100.31") || !scannedSince(rec, cut) {
			return false
		}
		time.Sleep(time.Second) // past avahi's probing
		return true
	})
	linked := waitAny(t, rec, wait, "7e:00:00:00:00:31")
	if linked.Kind != watch.Changed && linked.Kind != watch.Back {
		t.Fatalf("the phone's new MAC: %s event, want changed (or back), linked: %v\nevents:\n%s", linked.Kind, linked, lines(rec.Events()))
	}
	if linked.Device.ID != joinedPhone.Device.ID || !strings.Contains(linked.Note, "same device as pixel-7.local, new private MAC") {
		t.Errorf("the phone's new MAC is not linked to it: id %s (was %s), note %q", linked.Device.ID, joinedPhone.Device.ID, linked.Note)
	}
	t.Logf("events:\n%s", lines(rec.Events()))
	for _, e := range rec.Events() {
		if e.Kind == watch.Joined && e.Device.MACOrIP() == "7e:00:00:00:00:31" {
			t.Errorf("the phone's new MAC joined as a new device: %v", e)
		}
	}
}

// waitEvent waits for an event of kind about the device with key (MAC
// or IP).
func waitEvent(t *testing.T, rec *watchtest.Recorder, timeout time.Duration, kind watch.Kind, key string) watch.Event {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, e := range rec.Events() {
			if e.Kind == kind && e.Device.MACOrIP() == key {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event for %s after %v; events:\n%s", kind, key, timeout, lines(rec.Events()))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitAny waits for the first event about the device with key.
func waitAny(t *testing.T, rec *watchtest.Recorder, timeout time.Duration, key string) watch.Event {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, e := range rec.Events() {
			if e.Device.MACOrIP() == key {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no event for %s after %v; events:\n%s", key, timeout, lines(rec.Events()))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func lines(events []watch.Event) string {
	var b strings.Builder
	for _, e := range events {
		fmt.Fprintln(&b, e)
	}
	return b.String()
}

// scannedSince is true once a scan that started after t is over.
func scannedSince(rec *watchtest.Recorder, t time.Time) bool {
	reps := rec.Reports()
	return len(reps) > 0 && reps[len(reps)-1].Time.After(t)
}
