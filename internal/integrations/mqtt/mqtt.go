// Package mqtt publishes a watcher's events and each device's presence
// to an MQTT broker, with Home Assistant MQTT discovery so that every
// device appears there as a device_tracker.
//
// Topics, under the base topic BASE (the URL's path, "netscanner" by
// default) and the discovery prefix PREFIX ("homeassistant"):
//
//	BASE/status                      online / offline (retained; the will says offline)
//	BASE/event                       each event, as `netscanner watch --json` prints it
//	BASE/device/ID/state             home / not_home (retained)
//	BASE/device/ID/attributes        ip, mac, host_name, vendor, kind, rtt_ms, last_seen (retained)
//	PREFIX/device_tracker/NODE/ID/config   the discovery message (retained)
//
// ID is the watcher's stable id for the device (it survives a new
// private MAC linked by continuity), NODE is BASE with "/" turned into
// "_": two watchers with different base topics share one broker without
// colliding.
//
// Publishing runs on a goroutine of its own from a bounded queue, so a
// slow broker never holds up a scan; after a lost connection the client
// reconnects and publishes the retained state again.
package mqtt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"netscanner/internal/watch"
)

// Defaults.
const (
	DefaultBaseTopic       = "netscanner"
	DefaultDiscoveryPrefix = "homeassistant"
	DefaultMaxDevices      = 1024 // devices published; the rest are counted, not published
	maxTopicLen            = 200
	connectTimeout         = 10 * time.Second
	publishTimeout         = 10 * time.Second
	queueLen               = 64
)

// ErrBadURL is wrapped by ParseURL's errors.
var ErrBadURL = errors.New("bad MQTT URL")

// Config is a parsed --mqtt URL.
type Config struct {
	Broker   string // for paho: tcp://host:port or ssl://host:port
	Username string
	Password string
	// BaseTopic prefixes every topic but discovery's.
	BaseTopic string
	// DiscoveryPrefix is Home Assistant's discovery prefix; "" turns
	// discovery off.
	DiscoveryPrefix string
	ClientID        string
	// Node names this watcher in discovery topics and unique ids.
	Node string
}

// ParseURL checks a --mqtt URL:
//
//	mqtt://[USER[:PASSWORD]@]HOST[:PORT][/BASE/TOPIC][?discovery=PREFIX|off&client_id=ID]
//
// mqtt:// (or tcp://) is plain MQTT, port 1883 by default; mqtts:// (or
// ssl://, tls://) is MQTT over TLS, port 8883.
func ParseURL(s string) (Config, error) {
	var c Config
	if s == "" {
		return c, fmt.Errorf("%w: empty (want mqtt://HOST[:PORT][/BASE/TOPIC])", ErrBadURL)
	}
	if len(s) > 2048 || strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return c, fmt.Errorf("%w %q: too long, or holds spaces or control characters", ErrBadURL, s)
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return c, fmt.Errorf("%w %q: %v", ErrBadURL, s, err)
	}
	shown := s
	if u.User != nil {
		shown = u.Redacted()
	}
	var scheme, port string
	switch u.Scheme {
	case "mqtt", "tcp":
		scheme, port = "tcp", "1883"
	case "mqtts", "ssl", "tls":
		scheme, port = "ssl", "8883"
	default:
		return c, fmt.Errorf("%w %q: scheme %q, want mqtt:// or mqtts://", ErrBadURL, shown, u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return c, fmt.Errorf("%w %q: no broker host", ErrBadURL, shown)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return c, fmt.Errorf("%w %q: port %q: want 1 to 65535", ErrBadURL, shown, p)
		}
		port = p
	} else if strings.HasSuffix(u.Host, ":") {
		return c, fmt.Errorf("%w %q: empty port", ErrBadURL, shown)
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return c, fmt.Errorf("%w %q: '#' is an MQTT wildcard and no part of a topic to publish to", ErrBadURL, shown)
	}
	c.Broker = scheme + "://" + net.JoinHostPort(host, port)
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	c.BaseTopic = strings.Trim(u.Path, "/")
	if c.BaseTopic == "" {
		c.BaseTopic = DefaultBaseTopic
	}
	if err := checkTopic(c.BaseTopic); err != nil {
		return c, fmt.Errorf("%w %q: base topic %q: %v", ErrBadURL, shown, c.BaseTopic, err)
	}
	c.DiscoveryPrefix = DefaultDiscoveryPrefix
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return c, fmt.Errorf("%w %q: query: %v", ErrBadURL, shown, err)
	}
	for k, vs := range q {
		if len(vs) != 1 {
			return c, fmt.Errorf("%w %q: %s given %d times", ErrBadURL, shown, k, len(vs))
		}
		v := vs[0]
		switch k {
		case "discovery":
			if v == "off" {
				c.DiscoveryPrefix = ""
				break
			}
			if err := checkTopic(v); err != nil {
				return c, fmt.Errorf("%w %q: discovery prefix %q: %v", ErrBadURL, shown, v, err)
			}
			c.DiscoveryPrefix = v
		case "client_id":
			if v == "" || len(v) > 128 {
				return c, fmt.Errorf("%w %q: client_id: want 1 to 128 characters", ErrBadURL, shown)
			}
			c.ClientID = v
		default:
			return c, fmt.Errorf("%w %q: unknown parameter %q (want discovery or client_id)", ErrBadURL, shown, k)
		}
	}
	c.Node = topicID(c.BaseTopic)
	if c.ClientID == "" {
		h, _ := os.Hostname()
		c.ClientID = Node("netscanner-"+h+"-"+c.Node, 128)
	}
	return c, nil
}

// checkTopic refuses what cannot be a topic to publish to.
func checkTopic(t string) error {
	switch {
	case len(t) > maxTopicLen:
		return fmt.Errorf("longer than %d bytes", maxTopicLen)
	case strings.ContainsAny(t, "+#"):
		return errors.New("'+' and '#' are wildcards, not topic characters")
	case strings.HasPrefix(t, "$"):
		return errors.New("topics starting with '$' are the broker's")
	case strings.Contains(t, "//"), strings.HasPrefix(t, "/"), strings.HasSuffix(t, "/"):
		return errors.New("empty topic level")
	case strings.ContainsRune(t, 0), strings.ContainsRune(t, '\uFFFD'):
		return errors.New("holds NUL or invalid UTF-8")
	}
	return nil
}

// topicID makes s a topic level and discovery id: [a-z0-9_-] only.
func topicID(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Node is topicID cut to n bytes.
func Node(s string, n int) string {
	s = topicID(s)
	if len(s) > n {
		s = s[:n]
	}
	return s
}

// Options configures a Publisher beyond its URL.
type Options struct {
	// Logf prints a line when a publish fails or the connection drops.
	Logf func(format string, args ...any)
	// MaxDevices caps the devices published; 0 is DefaultMaxDevices.
	MaxDevices int
	// Dialer opens the connection; nil is a net.Dialer. Tests pass one
	// that dials inside a network namespace.
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Publisher is a watch.Sink that publishes to a broker.
type Publisher struct {
	cfg    Config
	opts   Options
	client paho.Client
	work   chan func()
	done   chan struct{}

	mu       sync.Mutex
	closed   bool
	connects atomic.Int64           // connections made, the first included
	devices  map[string]deviceState // by topic id
	stats    Stats
}

// Stats counts what a Publisher did.
type Stats struct {
	Published int // messages the broker acknowledged (QoS 1)
	Failed    int // messages that failed or timed out
	Dropped   int // batches dropped because the queue was full
}

// deviceState is what was last published for a device.
type deviceState struct {
	device    watch.Device
	discovery string // the config payload sent
	state     string
}

// Connect parses nothing (see ParseURL), connects to cfg's broker and
// returns once connected, or with a clear error when it cannot be
// reached or refuses us; later drops are reconnected.
func Connect(ctx context.Context, cfg Config, opts Options) (*Publisher, error) {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.MaxDevices <= 0 {
		opts.MaxDevices = DefaultMaxDevices
	}
	p := &Publisher{
		cfg: cfg, opts: opts,
		work:    make(chan func(), queueLen),
		done:    make(chan struct{}),
		devices: map[string]deviceState{},
	}
	o := paho.NewClientOptions().
		AddBroker(cfg.Broker).
		SetClientID(cfg.ClientID).
		SetUsername(cfg.Username).
		SetPassword(cfg.Password).
		SetCleanSession(true).
		SetOrderMatters(false).
		SetKeepAlive(30*time.Second).
		SetPingTimeout(10*time.Second).
		SetConnectTimeout(connectTimeout).
		SetWriteTimeout(publishTimeout).
		SetAutoReconnect(true).
		SetMaxReconnectInterval(time.Minute).
		SetWill(p.topic("status"), "offline", 1, true).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			opts.Logf("mqtt: lost connection to %s: %v; reconnecting", cfg.Broker, err)
		}).
		SetOnConnectHandler(func(paho.Client) {
			// paho runs this on a goroutine of its own, perhaps after
			// Connect has returned and events were queued: the first
			// connection's "online" goes out from Connect instead, ahead
			// of them. After a reconnection, say it all again: retained
			// state survives in the broker, unless it restarted without
			// persistence.
			if p.connects.Add(1) > 1 {
				p.enqueue(p.republish)
			}
		})
	if opts.Dialer != nil {
		dial := opts.Dialer
		o.SetCustomOpenConnectionFn(func(uri *url.URL, o paho.ClientOptions) (net.Conn, error) {
			if uri.Scheme != "tcp" && uri.Scheme != "mqtt" {
				return nil, fmt.Errorf("custom dialer: plain MQTT only, not %s", uri.Scheme)
			}
			ctx, cancel := context.WithTimeout(context.Background(), o.ConnectTimeout)
			defer cancel()
			return dial(ctx, "tcp", uri.Host)
		})
	}
	p.client = paho.NewClient(o)
	go p.run()
	tok := p.client.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		p.shutdown()
		return nil, ctx.Err()
	}
	if err := tok.Error(); err != nil {
		p.shutdown()
		return nil, fmt.Errorf("mqtt: cannot connect to %s: %w", cfg.Broker, err)
	}
	p.enqueue(p.republish)
	return p, nil
}

// shutdown ends the goroutine and the client, for a failed Connect.
func (p *Publisher) shutdown() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.work)
	}
	p.mu.Unlock()
	<-p.done
	p.client.Disconnect(0)
}

func (p *Publisher) topic(parts ...string) string {
	return p.cfg.BaseTopic + "/" + strings.Join(parts, "/")
}

// enqueue hands f to the publishing goroutine without blocking.
func (p *Publisher) enqueue(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	select {
	case p.work <- f:
	default:
		p.stats.Dropped++
		p.opts.Logf("mqtt: %s is not keeping up; dropped a batch of messages", p.cfg.Broker)
	}
}

func (p *Publisher) run() {
	defer close(p.done)
	for f := range p.work {
		f()
	}
}

// publish sends one message and waits for the broker's acknowledgement.
func (p *Publisher) publish(topic string, retained bool, payload []byte) {
	tok := p.client.Publish(topic, 1, retained, payload)
	ok := tok.WaitTimeout(publishTimeout)
	var err error
	switch {
	case !ok:
		err = fmt.Errorf("no acknowledgement within %v", publishTimeout)
	case tok.Error() != nil:
		err = tok.Error()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.stats.Failed++
		p.opts.Logf("mqtt: publish to %s: %v", topic, err)
		return
	}
	p.stats.Published++
}

// Event publishes the event to BASE/event.
func (p *Publisher) Event(e watch.Event) {
	body, err := json.Marshal(e)
	if err != nil {
		return
	}
	p.enqueue(func() { p.publish(p.topic("event"), false, body) })
}

// Scanned publishes each device's discovery (when new or changed), state
// and attributes.
func (p *Publisher) Scanned(r watch.Report) {
	if r.Err != nil {
		return
	}
	devs := r.Devices
	if len(devs) > p.opts.MaxDevices {
		devs = slices.Clone(devs)
		slices.SortStableFunc(devs, func(a, b watch.Device) int { return b.LastSeen.Compare(a.LastSeen) })
		devs = devs[:p.opts.MaxDevices]
	}
	devs = slices.Clone(devs)
	p.enqueue(func() {
		for _, d := range devs {
			p.publishDevice(d, false)
		}
	})
}

// republish sends status and everything retained again, after a
// (re)connection.
func (p *Publisher) republish() {
	p.publish(p.topic("status"), true, []byte("online"))
	p.mu.Lock()
	devs := make([]watch.Device, 0, len(p.devices))
	for _, st := range p.devices {
		devs = append(devs, st.device)
	}
	p.mu.Unlock()
	for _, d := range devs {
		p.publishDevice(d, true)
	}
}

// publishDevice publishes d's discovery if it changed (or always, when
// again), its state if it changed, and its attributes.
func (p *Publisher) publishDevice(d watch.Device, again bool) {
	id := deviceID(d)
	p.mu.Lock()
	old, had := p.devices[id]
	p.mu.Unlock()
	if p.cfg.DiscoveryPrefix != "" {
		disc := p.discovery(id, d)
		if again || !had || disc != old.discovery {
			p.publish(p.cfg.DiscoveryPrefix+"/device_tracker/"+p.cfg.Node+"/"+id+"/config", true, []byte(disc))
		}
		old.discovery = disc
	}
	state := "not_home"
	if d.Present {
		state = "home"
	}
	if again || !had || state != old.state {
		p.publish(p.topic("device", id, "state"), true, []byte(state))
	}
	attrs, _ := json.Marshal(attributes(d))
	p.publish(p.topic("device", id, "attributes"), true, attrs)
	p.mu.Lock()
	p.devices[id] = deviceState{device: d, discovery: old.discovery, state: state}
	p.mu.Unlock()
}

// deviceID is the device's topic level.
func deviceID(d watch.Device) string {
	if d.ID != "" {
		return Node(d.ID, 64)
	}
	return Node(d.MACOrIP(), 64)
}

// discovery is d's Home Assistant device_tracker config.
func (p *Publisher) discovery(id string, d watch.Device) string {
	type dev struct {
		Identifiers  []string    `json:"identifiers"`
		Connections  [][2]string `json:"connections,omitempty"`
		Name         string      `json:"name"`
		Manufacturer string      `json:"manufacturer,omitempty"`
		Model        string      `json:"model,omitempty"`
	}
	name := d.Name()
	if name == "" {
		name = d.MACOrIP()
	}
	cfg := struct {
		Name                *string           `json:"name"` // null: the entity is named after the device
		UniqueID            string            `json:"unique_id"`
		StateTopic          string            `json:"state_topic"`
		JSONAttributesTopic string            `json:"json_attributes_topic"`
		PayloadHome         string            `json:"payload_home"`
		PayloadNotHome      string            `json:"payload_not_home"`
		SourceType          string            `json:"source_type"`
		AvailabilityTopic   string            `json:"availability_topic"`
		PayloadAvailable    string            `json:"payload_available"`
		PayloadNotAvailable string            `json:"payload_not_available"`
		Device              dev               `json:"device"`
		Origin              map[string]string `json:"origin"`
	}{
		UniqueID:            p.cfg.Node + "_" + id,
		StateTopic:          p.topic("device", id, "state"),
		JSONAttributesTopic: p.topic("device", id, "attributes"),
		PayloadHome:         "home",
		PayloadNotHome:      "not_home",
		SourceType:          "router",
		AvailabilityTopic:   p.topic("status"),
		PayloadAvailable:    "online",
		PayloadNotAvailable: "offline",
		Device: dev{
			Identifiers:  []string{p.cfg.Node + "_" + id},
			Name:         name,
			Manufacturer: d.Host.Vendor,
			Model:        model(d),
		},
		Origin: map[string]string{"name": "Netscanner"},
	}
	if len(d.Host.MAC) > 0 {
		cfg.Device.Connections = [][2]string{{"mac", d.Host.MAC.String()}}
	}
	b, _ := json.Marshal(cfg)
	return string(b)
}

// model is what discovery calls the device's model: its model when
// identification found one, else its kind.
func model(d watch.Device) string {
	if d.Model != "" {
		return d.Model
	}
	return d.Kind
}

// attributes is what BASE/device/ID/attributes holds.
func attributes(d watch.Device) map[string]any {
	a := map[string]any{
		"host_name": d.Host.Hostname,
		"name":      d.Name(),
		"vendor":    d.Host.Vendor,
		"kind":      d.Kind,
		"missed":    d.Missed,
	}
	if d.Host.Addr.IsValid() {
		a["ip"] = d.Host.Addr.String()
	}
	if len(d.Host.MAC) > 0 {
		a["mac"] = d.Host.MAC.String()
	}
	if d.Answered() && d.Host.RTT > 0 {
		a["rtt_ms"] = float64(d.Host.RTT.Microseconds()) / 1000
	}
	if !d.LastSeen.IsZero() {
		a["last_seen"] = d.LastSeen.UTC().Format(time.RFC3339)
	}
	if !d.FirstSeen.IsZero() {
		a["first_seen"] = d.FirstSeen.UTC().Format(time.RFC3339)
	}
	return a
}

// Stats returns the counts so far.
func (p *Publisher) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Close publishes what is queued and "offline" to BASE/status, then
// disconnects; it gives up waiting when ctx ends.
func (p *Publisher) Close(ctx context.Context) error {
	p.mu.Lock()
	first := !p.closed
	p.closed = true // enqueue sends nothing more
	p.mu.Unlock()
	if first {
		// Outside the lock: the goroutine takes it after each publish.
		p.work <- func() { p.publish(p.topic("status"), true, []byte("offline")) }
		close(p.work)
	}
	var err error
	select {
	case <-p.done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	p.client.Disconnect(250)
	return err
}
