package mqtt_test

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"netscanner/internal/daemons"
	"netscanner/internal/integrations/mqtt"
	"netscanner/internal/testnet"
	"netscanner/internal/watch"
	"netscanner/internal/watch/watchtest"
	"netscanner/scanner"
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

// TestMosquittoTLS checks mqtts:// against a real mosquitto with a TLS
// listener on 8883 whose self-signed certificate names its address, the
// way docs/integrations.md tells a user with a private CA to run it:
// SSL_CERT_FILE naming the certificate. The client is this test binary
// again (TestMosquittoTLSClient), run inside the scanner's namespace with
// SSL_CERT_FILE set: crypto/x509 reads the system roots once per process,
// and Options.Dialer is for plain MQTT only, so paho must dial itself as
// `netscanner watch` does. Trusted, what it publishes reaches a
// mosquitto_sub that verifies the certificate too; not trusted, or
// trusted but naming another address, Connect fails at once with the
// certificate problem in its error, and nothing is published.
func TestMosquittoTLS(t *testing.T) {
	testnet.Require(t)
	lan := testnet.NewBridged(t,
		testnet.BridgedSpec{Label: "broker", MAC: "00:16:3e:00:00:30", Addr4: "198.18.100.30"},
	)
	brokerNS := lan.Host("broker").NS
	brokerIP := netip.MustParseAddr("198.18.100.30")
	certPEM, keyPEM, err := daemons.SelfSignedCert(pkix.Name{CommonName: "broker.lan"}, nil, []netip.Addr{brokerIP})
	if err != nil {
		t.Fatal(err)
	}
	broker := daemons.StartMosquitto(t, brokerNS, daemons.MosquittoSpec{
		Listen: "198.18.100.30:8883", CertPEM: certPEM, KeyPEM: keyPEM,
	})
	// The same address, another port, a certificate for another address:
	// trusted, but not this broker's name.
	otherPEM, otherKey, err := daemons.SelfSignedCert(pkix.Name{CommonName: "elsewhere.lan"}, nil, []netip.Addr{netip.MustParseAddr("198.18.100.31")})
	if err != nil {
		t.Fatal(err)
	}
	misnamed := daemons.StartMosquitto(t, brokerNS, daemons.MosquittoSpec{
		Listen: "198.18.100.30:8884", CertPEM: otherPEM, KeyPEM: otherKey,
	})
	live := broker.Subscribe(t, brokerNS, []string{"netscanner/#", "homeassistant/#"})
	// This watcher of the misnamed broker must skip the very name check
	// the client under test is to fail.
	liveMisnamed := misnamed.Subscribe(t, brokerNS, []string{"netscanner/#"}, "--insecure")

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// client runs TestMosquittoTLSClient in the scanner's namespace and
	// returns its output and how long it took.
	client := func(t *testing.T, url, certFile string) (string, time.Duration) {
		t.Helper()
		cmd := lan.Scanner.Command(testnet.Root, self, "-test.run=^TestMosquittoTLSClient$", "-test.count=1")
		for _, kv := range os.Environ() {
			if k, _, _ := strings.Cut(kv, "="); k != "SSL_CERT_FILE" && k != "SSL_CERT_DIR" && k != "MQTT_TLS_CLIENT_URL" {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, "SSL_CERT_FILE="+certFile, "MQTT_TLS_CLIENT_URL="+url)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Far beyond the client's own timeouts: a hang fails here, not
		// at the test binary's deadline.
		timer := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
		err := cmd.Wait()
		timer.Stop()
		took := time.Since(start)
		if err != nil {
			t.Fatalf("client for %s: %v after %v\n%s", url, err, took, out.String())
		}
		return out.String(), took
	}
	dumpTopic := func(s *daemons.Subscriber, prefix string) []string {
		var got []string
		for _, m := range s.Messages() {
			if strings.HasPrefix(m.Topic, prefix) {
				got = append(got, m.Topic+" "+m.Payload)
			}
		}
		return got
	}

	t.Run("trusted", func(t *testing.T) {
		out, took := client(t, "mqtts://198.18.100.30/netscanner/tls", broker.CAFile)
		if !strings.Contains(out, "client: published {Published:6 Failed:0 Dropped:0}") {
			t.Fatalf("client output after %v:\n%s", took, out)
		}
		const id = "mac_b8_27_eb_00_00_0a"
		want := map[string]string{
			"netscanner/tls/device/" + id + "/state":                        "home",
			"homeassistant/device_tracker/netscanner_tls/" + id + "/config": "",
			"netscanner/tls/device/" + id + "/attributes":                   "",
		}
		msgs, ok := live.WaitFor(20*time.Second, func(m []daemons.MQTTMessage) bool {
			var joined, online, offline bool
			seen := map[string]bool{}
			for _, x := range m {
				switch {
				case x.Topic == "netscanner/tls/event":
					var e watch.EventJSON
					joined = joined || json.Unmarshal([]byte(x.Payload), &e) == nil && e.Event == "joined" && e.Host.MAC == "b8:27:eb:00:00:0a"
				case x.Topic == "netscanner/tls/status":
					online = online || x.Payload == "online"
					offline = offline || x.Payload == "offline" && online
				default:
					if p, ok := want[x.Topic]; ok && (p == "" || p == x.Payload) {
						seen[x.Topic] = true
					}
				}
			}
			return joined && online && offline && len(seen) == len(want)
		})
		if !ok {
			t.Fatalf("mosquitto_sub over TLS did not get the event, state and status:\n%s\nclient:\n%s\nbroker:\n%s", dump(msgs), out, broker.Log())
		}
		t.Logf("connected, published and closed over TLS in %v", took)
	})

	t.Run("untrusted", func(t *testing.T) {
		// Another self-signed certificate, for the same address: the
		// client trusts it, the system roots, and not the broker's.
		strangerPEM, _, err := daemons.SelfSignedCert(pkix.Name{CommonName: "stranger.lan"}, nil, []netip.Addr{brokerIP})
		if err != nil {
			t.Fatal(err)
		}
		stranger := filepath.Join(t.TempDir(), "stranger.pem")
		if err := os.WriteFile(stranger, strangerPEM, 0o644); err != nil {
			t.Fatal(err)
		}
		out, took := client(t, "mqtts://198.18.100.30/netscanner/untrusted", stranger)
		if !strings.Contains(out, "client: connect error: mqtt: cannot connect to ssl://198.18.100.30:8883: ") ||
			!strings.Contains(out, "x509: certificate signed by unknown authority") {
			t.Fatalf("client without the broker's CA, after %v:\n%s", took, out)
		}
		if took > 5*time.Second {
			t.Errorf("the certificate error took %v: a timeout, not the verification", took)
		}
		t.Logf("refused in %v: %s", took, strings.TrimSpace(out))
	})

	t.Run("misnamed", func(t *testing.T) {
		out, took := client(t, "mqtts://198.18.100.30:8884/netscanner/misnamed", misnamed.CAFile)
		if !strings.Contains(out, "client: connect error: mqtt: cannot connect to ssl://198.18.100.30:8884: ") ||
			!strings.Contains(out, "x509: certificate is valid for 198.18.100.31, not 198.18.100.30") {
			t.Fatalf("client of a broker whose certificate names another address, after %v:\n%s", took, out)
		}
		if took > 5*time.Second {
			t.Errorf("the certificate error took %v: a timeout, not the verification", took)
		}
		t.Logf("refused in %v: %s", took, strings.TrimSpace(out))
	})

	// A refused client published nothing, not even its will.
	time.Sleep(500 * time.Millisecond)
	if got := dumpTopic(live, "netscanner/untrusted"); len(got) != 0 {
		t.Errorf("an untrusting client's messages reached the broker: %q", got)
	}
	if got := dumpTopic(liveMisnamed, "netscanner/"); len(got) != 0 {
		t.Errorf("a client that refused the broker's name got messages through: %q", got)
	}
}

// TestMosquittoTLSClient is TestMosquittoTLS's client, run by it in a
// namespace with SSL_CERT_FILE set: it connects to MQTT_TLS_CLIENT_URL
// as `netscanner watch --mqtt` does (no Dialer), publishes one joined
// event and one scan, closes and prints the counts, or prints Connect's
// error. Run by hand, it skips.
func TestMosquittoTLSClient(t *testing.T) {
	url := os.Getenv("MQTT_TLS_CLIENT_URL")
	if url == "" {
		t.Skip("TestMosquittoTLS's client: runs only under it")
	}
	cfg, err := mqtt.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub, err := mqtt.Connect(ctx, cfg, mqtt.Options{Logf: func(f string, a ...any) { fmt.Printf("client: log: "+f+"\n", a...) }})
	if err != nil {
		fmt.Printf("client: connect error: %v\n", err)
		return
	}
	mac, _ := net.ParseMAC("b8:27:eb:00:00:0a")
	now := time.Now()
	d := watch.Device{
		ID:        "mac:b8:27:eb:00:00:0a",
		Host:      scanner.Host{Addr: netip.MustParseAddr("198.18.100.10"), MAC: mac, Vendor: "Raspberry Pi Foundation"},
		MACs:      []string{"b8:27:eb:00:00:0a"},
		Present:   true,
		FirstSeen: now,
		LastSeen:  now,
	}
	pub.Event(watch.Event{Kind: watch.Joined, Time: now, Device: d})
	pub.Scanned(watch.Report{Time: now, Devices: []watch.Device{d}, Present: 1, Answered: 1})
	// paho runs the on-connect handler, which queues "online", on a
	// goroutine of its own: wait for its message and the four above
	// before Close, or "online" might come after Close and be dropped.
	for pub.Stats().Published < 5 && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	if err := pub.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	fmt.Printf("client: published %+v\n", pub.Stats())
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
