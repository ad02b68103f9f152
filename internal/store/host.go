package store

import (
	"slices"

	"netscanner/scanner"
	"netscanner/scanner/identify"
)

// FromHost copies what the store keeps of a scanned host: its address,
// MAC, round trip, names and maker, and what identification made of it.
// An unknown kind is stored as none, so that a device identified later is
// news, not a change.
func FromHost(h *scanner.Host) Observation {
	o := Observation{
		Addr:         h.Addr,
		MAC:          slices.Clone(h.MAC),
		RTT:          h.RTT,
		Hostname:     h.Hostname,
		Names:        slices.Clone(h.Names),
		Vendor:       h.Vendor,
		Model:        h.Identity.Model,
		FriendlyName: h.Identity.FriendlyName,
	}
	if h.Identity.Kind != identify.KindUnknown {
		o.Kind = h.Identity.Kind.String()
	}
	for _, s := range h.Services {
		switch {
		case s.Instance != "" && s.Type != "":
			o.Services = append(o.Services, s.Instance+"."+s.Type)
		case s.Type != "":
			o.Services = append(o.Services, s.Type)
		}
	}
	return o
}
