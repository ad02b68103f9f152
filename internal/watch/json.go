package watch

import (
	"encoding/json"
	"time"

	"netscanner/scanner"
	"netscanner/scanner/identify"
)

// EventJSON is the JSON shape of an event, shared by `netscanner watch
// --json`, the webhook and MQTT: {"event":"joined","time":"…","host":{…}}
// with the device's identity and presence beside the host.
type EventJSON struct {
	Event   Kind         `json:"event"`
	Time    string       `json:"time"` // RFC 3339, UTC
	Host    HostJSON     `json:"host"`
	Device  DeviceJSON   `json:"device"`
	Changes []ChangeJSON `json:"changes,omitempty"`
	Note    string       `json:"note,omitempty"`
}

// HostJSON is a host as `netscanner scan --json` prints it, and as the
// host of a watch event: one shape for both. Alive is false for a device
// that did not answer the scan (a left event's), whose host is what the
// store kept.
type HostJSON struct {
	IP        string     `json:"ip"`
	Alive     bool       `json:"alive"`
	RTTms     float64    `json:"rtt_ms"`
	TTL       *int       `json:"ttl"` // null when unknown
	Method    string     `json:"method"`
	Reason    string     `json:"reason"`
	Reasons   []string   `json:"reasons"`
	Hostname  string     `json:"hostname"`
	Names     []string   `json:"names"`
	MAC       string     `json:"mac"`
	MACSource string     `json:"mac_source"`
	Vendor    string     `json:"vendor"`
	Ports     []PortJSON `json:"ports"`
	Self      bool       `json:"self"`
	Gateway   bool       `json:"gateway"`
	Note      string     `json:"note"`
	// What the host is (package identify).
	Kind         string              `json:"kind"`
	Model        string              `json:"model"`
	FriendlyName string              `json:"friendly_name"`
	Services     []identify.Service  `json:"services"`
	Evidence     []identify.Evidence `json:"evidence"`
	Confidence   float64             `json:"confidence"`
}

// PortJSON is an open port in HostJSON.
type PortJSON struct {
	Port    uint16 `json:"port"`
	Service string `json:"service"`
}

// DeviceJSON is what the watcher knows about the device beyond the host.
type DeviceJSON struct {
	ID           string   `json:"id"`        // stable across new private MACs
	MACOrIP      string   `json:"mac_or_ip"` // the MAC, else the IP address
	MACs         []string `json:"macs"`      // every MAC it has used, current first
	Name         string   `json:"name"`      // label, friendly name or host name
	Label        string   `json:"label"`
	Kind         string   `json:"kind"`
	Model        string   `json:"model"`
	FriendlyName string   `json:"friendly_name"`
	Present      bool     `json:"present"`
	Missed       int      `json:"missed"`
	FirstSeen    string   `json:"first_seen,omitempty"`
	LastSeen     string   `json:"last_seen,omitempty"`
}

// ChangeJSON is one Change.
type ChangeJSON struct {
	Field Field  `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// JSON returns the event in its JSON shape.
func (e Event) JSON() EventJSON {
	out := EventJSON{
		Event:  e.Kind,
		Time:   stamp(e.Time),
		Host:   NewHostJSON(e.Device.Host, e.Device.Answered()),
		Device: e.Device.JSON(),
		Note:   e.Note,
	}
	for _, c := range e.Changes {
		out.Changes = append(out.Changes, ChangeJSON(c))
	}
	return out
}

// MarshalJSON encodes the event as EventJSON.
func (e Event) MarshalJSON() ([]byte, error) { return json.Marshal(e.JSON()) }

// JSON returns the device's presence and identity in JSON shape.
func (d Device) JSON() DeviceJSON {
	return DeviceJSON{
		ID:           d.ID,
		MACOrIP:      d.MACOrIP(),
		MACs:         append([]string{}, d.MACs...),
		Name:         d.Name(),
		Label:        d.Label,
		Kind:         d.Kind,
		Model:        d.Model,
		FriendlyName: d.FriendlyName,
		Present:      d.Present,
		Missed:       d.Missed,
		FirstSeen:    stamp(d.FirstSeen),
		LastSeen:     stamp(d.LastSeen),
	}
}

// NewHostJSON converts a host, with [] rather than null for empty lists.
func NewHostJSON(h scanner.Host, alive bool) HostJSON {
	j := HostJSON{
		IP:        addrString(h.Addr),
		Alive:     alive,
		RTTms:     float64(h.RTT.Microseconds()) / 1000,
		Method:    string(h.Method),
		Reason:    string(h.Reason),
		Reasons:   []string{},
		Hostname:  h.Hostname,
		Names:     append([]string{}, h.Names...),
		MACSource: string(h.MACSource),
		Vendor:    h.Vendor,
		Ports:     []PortJSON{},
		Self:      h.Self,
		Gateway:   h.Gateway,
		Note:      h.Note,

		Kind:         h.Identity.Kind.String(),
		Model:        h.Identity.Model,
		FriendlyName: h.Identity.FriendlyName,
		Services:     append([]identify.Service{}, h.Identity.Services...),
		Evidence:     append([]identify.Evidence{}, h.Identity.Evidence...),
		Confidence:   h.Identity.Confidence,
	}
	if len(h.Reasons) == 0 && h.Reason != "" {
		j.Reasons = []string{string(h.Reason)}
	}
	for _, r := range h.Reasons {
		j.Reasons = append(j.Reasons, string(r))
	}
	if h.TTL > 0 {
		ttl := h.TTL
		j.TTL = &ttl
	}
	if len(h.MAC) > 0 {
		j.MAC = h.MAC.String()
	}
	for _, p := range h.Ports {
		j.Ports = append(j.Ports, PortJSON{Port: p.Number, Service: p.Service})
	}
	return j
}

// stamp is t in RFC 3339 UTC with milliseconds, or "" for the zero time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}
