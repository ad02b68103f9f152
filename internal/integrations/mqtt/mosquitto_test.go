package mqtt_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"netscanner/internal/daemons"
	"netscanner/internal/integrations/mqtt"
	"netscanner/internal/testnet"
	"netscanner/internal/watch"
	"netscanner/internal/watch/watchtest"
)

// TestMosquitto runs a watcher on a bridged LAN that publishes to a real
// mosquitto broker on another host of the LAN, with a password. A
// mosquitto_sub started before the watcher sees every event and each
// device's Home Assistant discovery message and state; one started
// afterwards gets discovery and state as retained messages; a host that
// leaves turns not_home; closing the publisher says offline.
func TestMosquitto(t *testing.T) {
	testnet.Require(t)
	lan := testnet.NewBridged(t,
		testnet.BridgedSpec{Label: "pi", MAC: "b8:27:eb:00:00:0a", Addr4: "198.18.100.10"},
		testnet.BridgedSpec{Label: "printer", MAC: "9c:7b:ef:00:00:0c", Addr4: "198.18.100.12"},
		testnet.BridgedSpec{Label: "broker", MAC: "00:16:3e:00:00:30", Addr4: "198.18.100.30"},
	)
	brokerNS := lan.Host("broker").NS
	broker := daemons.StartMosquitto(t, brokerNS, daemons.MosquittoSpec{
		Listen: "198.18.100.30:1883",
		Users:  map[string]string{"watcher": "s3cret", "ha": "hapass"},
	})
	auth := []string{"-u", "ha", "-P", "hapass"}
	live := broker.Subscribe(t, brokerNS, []string{"netscanner/lab/#", "homeassistant/#"}, auth...)

	dial := daemons.DialIn(lan.Scanner.Name)
	t.Run("bad password", func(t *testing.T) {
		cfg, err := mqtt.ParseURL("mqtt://watcher:wrong@198.18.100.30/netscanner/lab")
		if err != nil {
			t.Fatal(err)
		}
		_, err = mqtt.Connect(context.Background(), cfg, mqtt.Options{Dialer: dial})
		if err == nil || !strings.Contains(err.Error(), "mqtt: cannot connect to tcp://198.18.100.30:1883") {
			t.Fatalf("Connect with a bad password: %v", err)
		}
		t.Log(err)
	})
	t.Run("no broker", func(t *testing.T) {
		cfg, err := mqtt.ParseURL("mqtt://198.18.100.30:1884/netscanner/lab")
		if err != nil {
			t.Fatal(err)
		}
		_, err = mqtt.Connect(context.Background(), cfg, mqtt.Options{Dialer: dial})
		if err == nil || !strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("Connect to a closed port: %v", err)
		}
	})

	cfg, err := mqtt.ParseURL("mqtt://watcher:s3cret@198.18.100.30/netscanner/lab")
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	pub, err := mqtt.Connect(context.Background(), cfg, mqtt.Options{Dialer: dial, Logf: func(f string, a ...any) {
		logged.WriteString(strings.TrimSpace(strings.ReplaceAll(f, "%", "")) + "\n")
	}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := watch.New(watch.Config{
		Scan:        watchtest.Scan(t, lan.Scanner, testnet.BridgedPrefix4.String()),
		Store:       watchtest.Store(t),
		Interval:    time.Second,
		MinInterval: time.Second,
		DownAfter:   2,
		Sinks:       []watch.Sink{pub},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	stop := sync.OnceFunc(func() {
		cancel()
		<-done
	})
	t.Cleanup(stop)

	const piID, printerID = "mac_b8_27_eb_00_00_0a", "mac_9c_7b_ef_00_00_0c"
	discTopic := func(id string) string { return "homeassistant/device_tracker/netscanner_lab/" + id + "/config" }
	find := func(msgs []daemons.MQTTMessage, topic, payload string) *daemons.MQTTMessage {
		for i := range msgs {
			if msgs[i].Topic == topic && (payload == "" || msgs[i].Payload == payload) {
				return &msgs[i]
			}
		}
		return nil
	}
	event := func(msgs []daemons.MQTTMessage, kind, mac string) *watch.EventJSON {
		for _, m := range msgs {
			if m.Topic != "netscanner/lab/event" {
				continue
			}
			var e watch.EventJSON
			if err := json.Unmarshal([]byte(m.Payload), &e); err != nil {
				t.Errorf("event payload %q: %v", m.Payload, err)
				continue
			}
			if string(e.Event) == kind && e.Host.MAC == mac {
				return &e
			}
		}
		return nil
	}
	msgs, ok := live.WaitFor(60*time.Second, func(m []daemons.MQTTMessage) bool {
		return event(m, "joined", "b8:27:eb:00:00:0a") != nil && event(m, "joined", "9c:7b:ef:00:00:0c") != nil &&
			find(m, discTopic(piID), "") != nil && find(m, "netscanner/lab/device/"+printerID+"/state", "home") != nil &&
			find(m, "netscanner/lab/device/"+piID+"/attributes", "") != nil && find(m, "netscanner/lab/status", "online") != nil
	})
	if !ok {
		t.Fatalf("mosquitto_sub did not get the joins, discovery and state:\n%s", dump(msgs))
	}
	e := event(msgs, "joined", "b8:27:eb:00:00:0a")
	if e.Host.IP != "198.18.100.10" || e.Host.Vendor != "Raspberry Pi Foundation" || e.Device.ID != "mac:b8:27:eb:00:00:0a" || e.Time == "" {
		t.Errorf("joined event %+v", e)
	}
	var disc struct {
		Name       *string `json:"name"`
		UniqueID   string  `json:"unique_id"`
		StateTopic string  `json:"state_topic"`
		AttrTopic  string  `json:"json_attributes_topic"`
		Home       string  `json:"payload_home"`
		NotHome    string  `json:"payload_not_home"`
		SourceType string  `json:"source_type"`
		Available  string  `json:"availability_topic"`
		Device     struct {
			Identifiers  []string    `json:"identifiers"`
			Connections  [][2]string `json:"connections"`
			Name         string      `json:"name"`
			Manufacturer string      `json:"manufacturer"`
		} `json:"device"`
	}
	if err := json.Unmarshal([]byte(find(msgs, discTopic(piID), "").Payload), &disc); err != nil {
		t.Fatal(err)
	}
	if disc.Name != nil || disc.UniqueID != "netscanner_lab_"+piID || disc.StateTopic != "netscanner/lab/device/"+piID+"/state" ||
		disc.AttrTopic != "netscanner/lab/device/"+piID+"/attributes" || disc.Home != "home" || disc.NotHome != "not_home" ||
		disc.SourceType != "router" || disc.Available != "netscanner/lab/status" ||
		len(disc.Device.Connections) != 1 || disc.Device.Connections[0] != [2]string{"mac", "b8:27:eb:00:00:0a"} ||
		disc.Device.Manufacturer != "Raspberry Pi Foundation" || disc.Device.Name == "" || len(disc.Device.Identifiers) != 1 {
		t.Errorf("discovery for the pi: %+v", disc)
	}
	var attrs map[string]any
	if err := json.Unmarshal([]byte(find(msgs, "netscanner/lab/device/"+piID+"/attributes", "").Payload), &attrs); err != nil ||
		attrs["ip"] != "198.18.100.10" || attrs["mac"] != "b8:27:eb:00:00:0a" {
		t.Errorf("attributes for the pi: %v, %v", attrs, err)
	}

	// Retained: a subscriber arriving now, as Home Assistant after a
	// restart, gets discovery and state at once.
	late := broker.Subscribe(t, brokerNS, []string{"homeassistant/#", "netscanner/lab/device/+/state"}, auth...)
	if msgs, ok := late.WaitFor(20*time.Second, func(m []daemons.MQTTMessage) bool {
		d, s := find(m, discTopic(printerID), ""), find(m, "netscanner/lab/device/"+printerID+"/state", "home")
		return d != nil && d.Retained && s != nil && s.Retained
	}); !ok {
		t.Errorf("a late subscriber got no retained discovery and state:\n%s", dump(msgs))
	}

	printer := lan.Host("printer")
	printer.NS.Run("ip", "link", "set", printer.If, "down")
	if msgs, ok := live.WaitFor(60*time.Second, func(m []daemons.MQTTMessage) bool {
		return event(m, "left", "9c:7b:ef:00:00:0c") != nil && find(m, "netscanner/lab/device/"+printerID+"/state", "not_home") != nil
	}); !ok {
		t.Fatalf("no left event and not_home for the printer:\n%s", dump(msgs))
	}

	stop()
	cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer ccancel()
	if err := pub.Close(cctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if msgs, ok := live.WaitFor(10*time.Second, func(m []daemons.MQTTMessage) bool {
		return find(m, "netscanner/lab/status", "offline") != nil
	}); !ok {
		t.Errorf("no offline status after Close:\n%s", dump(msgs))
	}
	if s := pub.Stats(); s.Failed != 0 || s.Dropped != 0 || s.Published < 10 {
		t.Errorf("publisher stats %+v; log:\n%s", s, logged.String())
	}
}

func dump(msgs []daemons.MQTTMessage) string {
	var b strings.Builder
	for _, m := range msgs {
		r := " "
		if m.Retained {
			r = "R"
		}
		b.WriteString(r + " " + m.Topic + " " + m.Payload + "\n")
	}
	return b.String()
}
