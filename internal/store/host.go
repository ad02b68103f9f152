package store

import (
	"slices"

	"netscanner/scanner"
)

// FromHost copies what the store keeps of a scanned host.
func FromHost(h *scanner.Host) Observation {
	return Observation{
		Addr:     h.Addr,
		MAC:      slices.Clone(h.MAC),
		RTT:      h.RTT,
		Hostname: h.Hostname,
		Names:    slices.Clone(h.Names),
		Vendor:   h.Vendor,
	}
}
