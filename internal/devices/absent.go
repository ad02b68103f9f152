package devices

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Away returns the remembered devices that are not in the list rows: no
// row is the device (by its key, or any older MAC's) and no row has its
// last address. Those are the devices the list shows greyed, "last seen
// 3 h ago", when asked to show absent devices. They come most recently
// seen first, and only those matching every word of filter (as
// Model.SetFilter) in their label, name, address, MAC or maker.
func (s *Store) Away(rows []*Row, filter string) []Device {
	here := make(map[string]bool, len(rows))
	addrs := make(map[string]bool, 2*len(rows))
	for _, r := range rows {
		if r.Key != "" {
			here[s.hist.resolve(r.Key)] = true
		}
		addrs[r.Host.Addr.WithZone("").String()] = true
		for _, a := range r.Other {
			addrs[a.WithZone("").String()] = true
		}
	}
	terms := strings.Fields(strings.ToLower(filter))
	var out []Device
	for _, d := range s.Devices() {
		if here[d.Key] || addrs[zoneless(d.Addr)] {
			continue
		}
		if !matchAll(terms, d.Label, d.Name, d.Addr, d.MAC, d.Vendor, "away") {
			continue
		}
		out = append(out, d)
	}
	return out
}

// zoneless drops an address's zone ("fe80::1%eth0"), which rows and
// memory may write differently.
func zoneless(addr string) string {
	if a, err := netip.ParseAddr(addr); err == nil {
		return a.WithZone("").String()
	}
	return addr
}

// matchAll reports whether every term is in one of fields, ignoring case.
func matchAll(terms []string, fields ...string) bool {
	text := strings.ToLower(strings.Join(fields, "\n"))
	for _, t := range terms {
		if !strings.Contains(text, t) {
			return false
		}
	}
	return true
}

// Ago says how long ago something was, as a list says it: "just now",
// "12 min ago", "3 h ago", "2 days ago". A time in the future (a clock
// set back) is "just now"; the zero time is "never".
func Ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}
