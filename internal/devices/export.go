package devices

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"netscanner/internal/store"
	"strconv"
	"strings"
	"time"

	"netscanner/probe"
	"netscanner/scanner"
	"netscanner/scanner/targets"
)

// exportHost is one host as the JSON export writes it.
type exportHost struct {
	Address string       `json:"address"`
	Other   []string     `json:"other_addresses,omitempty"`
	Name    string       `json:"name,omitempty"`
	Label   string       `json:"label,omitempty"`
	MAC     string       `json:"mac,omitempty"`
	Maker   string       `json:"maker,omitempty"`
	Kind    string       `json:"kind"`
	RTTms   float64      `json:"rtt_ms"`
	TTL     int          `json:"ttl,omitempty"`
	Method  string       `json:"method,omitempty"`
	Reason  string       `json:"reason,omitempty"`
	Ports   []exportPort `json:"ports,omitempty"`
	Self    bool         `json:"self,omitempty"`
	Gateway bool         `json:"gateway,omitempty"`
	New     bool         `json:"new,omitempty"`

	// Model and FriendlyName are what the device is (package identify).
	Model        string `json:"model,omitempty"`
	FriendlyName string `json:"friendly_name,omitempty"`
}

type exportPort struct {
	Port    uint16 `json:"port"`
	Service string `json:"service,omitempty"`
}

// exportFile is the JSON export, also read back by ReadHosts.
type exportFile struct {
	Generator  string       `json:"generator"`
	ExportedAt time.Time    `json:"exported_at"`
	Hosts      []exportHost `json:"hosts"`
}

func toExport(r *Row) exportHost {
	h := &r.Host
	e := exportHost{
		Address: r.addr,
		Name:    h.Hostname,
		Label:   r.Label,
		Maker:   h.Vendor,
		Kind:    r.Kind.String(),
		RTTms:   rttMillis(h.RTT),
		TTL:     h.TTL,
		Method:  string(h.Method),
		Reason:  string(h.Reason),
		Self:    h.Self,
		Gateway: h.Gateway,
		New:     r.New,

		Model:        r.Identity.Model,
		FriendlyName: r.Identity.FriendlyName,
	}
	if e.Address == "" {
		e.Address = h.Addr.String()
	}
	for _, a := range r.Other {
		e.Other = append(e.Other, a.String())
	}
	if len(h.MAC) > 0 {
		e.MAC = h.MAC.String()
	}
	for _, p := range h.Ports {
		e.Ports = append(e.Ports, exportPort{p.Number, p.Service})
	}
	return e
}

// rttMillis is d in milliseconds, rounded to microseconds.
func rttMillis(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// WriteJSON writes rows as a JSON document that ReadHosts reads back.
func WriteJSON(w io.Writer, rows []*Row, now time.Time) error {
	f := exportFile{Generator: "netscanner", ExportedAt: now.UTC(), Hosts: make([]exportHost, 0, len(rows))}
	for _, r := range rows {
		f.Hosts = append(f.Hosts, toExport(r))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}

// csvHeader names the CSV export's columns.
var csvHeader = []string{"address", "other_addresses", "name", "label", "mac", "maker", "kind", "rtt_ms", "ttl", "method", "reason", "ports", "self", "gateway", "new", "model", "friendly_name"}

// WriteCSV writes rows as CSV with a header line. Lists are one cell,
// separated by spaces: other addresses "fe80::1%wlan0", ports
// "80/http 443/https".
//
// Names come from the network, so a cell that a spreadsheet would run as a
// formula (starting with = + - @) is prefixed with a quote.
func WriteCSV(w io.Writer, rows []*Row) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	rec := make([]string, len(csvHeader))
	for _, r := range rows {
		e := toExport(r)
		var ports strings.Builder
		for i, p := range e.Ports {
			if i > 0 {
				ports.WriteByte(' ')
			}
			ports.WriteString(strconv.Itoa(int(p.Port)))
			if p.Service != "" {
				ports.WriteByte('/')
				ports.WriteString(p.Service)
			}
		}
		rec = append(rec[:0],
			e.Address, strings.Join(e.Other, " "), e.Name, e.Label, e.MAC, e.Maker, e.Kind,
			strconv.FormatFloat(e.RTTms, 'f', 3, 64), strconv.Itoa(e.TTL), e.Method, e.Reason,
			ports.String(), strconv.FormatBool(e.Self), strconv.FormatBool(e.Gateway), strconv.FormatBool(e.New),
			e.Model, e.FriendlyName)
		for i := range rec {
			rec[i] = defuseCell(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("writing CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}

// defuseCell keeps a spreadsheet from running a cell as a formula.
func defuseCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// maxImportBytes bounds what ReadHosts reads.
const maxImportBytes = 64 << 20

// ReadHosts reads a JSON export back into hosts, skipping entries without
// a valid address. The demo mode replays such a file.
func ReadHosts(r io.Reader) ([]scanner.Host, error) {
	var f exportFile
	dec := json.NewDecoder(io.LimitReader(r, maxImportBytes))
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("reading hosts: %w", err)
	}
	if f.Hosts == nil {
		return nil, errors.New("reading hosts: no \"hosts\" list")
	}
	out := make([]scanner.Host, 0, len(f.Hosts))
	seen := make(map[netip.Addr]bool, len(f.Hosts))
	for _, e := range f.Hosts {
		a, err := netip.ParseAddr(e.Address)
		if err != nil || seen[a.Unmap()] {
			continue
		}
		a = a.Unmap()
		seen[a] = true
		h := scanner.Host{
			Addr:     a,
			RTT:      time.Duration(max(0, min(e.RTTms, 1e6)) * float64(time.Millisecond)),
			TTL:      max(0, min(e.TTL, 255)),
			Method:   probe.Method(store.CleanText(e.Method, 16)),
			Reason:   scanner.Reason(store.CleanText(e.Reason, 32)),
			Hostname: store.CleanText(e.Name, maxTextBytes),
			Vendor:   store.CleanText(e.Maker, maxTextBytes),
			Self:     e.Self,
			Gateway:  e.Gateway,
		}
		if mac, err := net.ParseMAC(e.MAC); err == nil {
			h.MAC = mac
		}
		for _, p := range e.Ports {
			if p.Port != 0 && len(h.Ports) < targets.MaxPorts {
				h.Ports = append(h.Ports, scanner.Port{Number: p.Port, Service: store.CleanText(p.Service, 32)})
			}
		}
		out = append(out, h)
		// The device's other addresses come back as hosts of the same
		// MAC, which the model folds into this one again.
		for _, o := range e.Other {
			oa, err := netip.ParseAddr(o)
			if err != nil || seen[oa.Unmap()] || len(h.MAC) == 0 {
				continue
			}
			seen[oa.Unmap()] = true
			out = append(out, scanner.Host{Addr: oa.Unmap(), MAC: h.MAC, Vendor: h.Vendor, Reason: scanner.ReasonNeighbour})
		}
	}
	return out, nil
}
