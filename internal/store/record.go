package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"netscanner/internal/continuity"
)

// sighting is one device's share of a scan: the observations that carry
// its MAC (or, without one, its address), merged.
type sighting struct {
	obs   []int  // indexes into the scan's observations
	mac   string // lower case; "" without a usable MAC
	hw    net.HardwareAddr
	addr  netip.Addr   // the primary address: IPv4 when there is one
	addrs []netip.Addr // every address, primary first
	rtt   int64        // µs of the primary observation; 0 when unknown
	id    identity

	deviceID int64
	match    Match
	link     *continuity.Link
}

// identity is what a device said about itself in one scan: the fields an
// identities row holds.
type identity struct {
	Addr         string   `json:"addr"`
	MAC          string   `json:"mac"`
	Hostname     string   `json:"hostname"`
	Names        []string `json:"names"`
	Vendor       string   `json:"vendor"`
	Kind         string   `json:"kind"`
	Model        string   `json:"model"`
	FriendlyName string   `json:"friendly_name"`
	Services     []string `json:"services"`
	Addrs        []string `json:"addrs"`
}

func (id *identity) digest() []byte {
	b, _ := json.Marshal(id) // plain strings and slices: cannot fail
	sum := sha256.Sum256(b)
	return sum[:16]
}

// group merges the observations of one scan into sightings, one per MAC
// (a device answering on IPv4 and as an IPv6 link-local neighbour is one
// device), or per address for hosts without a MAC. Observations without
// a valid address are dropped.
func group(obs []Observation) []*sighting {
	var out []*sighting
	byKey := map[string]*sighting{}
	for i := range obs {
		o := &obs[i]
		addr := o.Addr.Unmap()
		if !addr.IsValid() {
			continue
		}
		var key, mac string
		if usableMAC(o.MAC) {
			mac = strings.ToLower(o.MAC.String())
			key = macKey(mac)
		} else {
			key = addrKey(addr)
		}
		sg := byKey[key]
		if sg == nil {
			sg = &sighting{mac: mac}
			if mac != "" {
				sg.hw = slices.Clone(o.MAC)
			}
			byKey[key] = sg
			out = append(out, sg)
		}
		sg.obs = append(sg.obs, i)
		if !slices.Contains(sg.addrs, addr) {
			sg.addrs = append(sg.addrs, addr)
		}
		primary := !sg.addr.IsValid() || (addr.Is4() && !sg.addr.Is4())
		if primary {
			sg.addr = addr
			sg.rtt = max(o.RTT.Microseconds(), 0)
		}
		sg.id.merge(o, primary)
	}
	for _, sg := range out {
		// Primary address first, then the others in the order seen.
		i := slices.Index(sg.addrs, sg.addr)
		sg.addrs = append([]netip.Addr{sg.addr}, slices.Delete(sg.addrs, i, i+1)...)
		sg.id.Addr = sg.addr.String()
		sg.id.MAC = sg.mac
		sg.id.Addrs = make([]string, len(sg.addrs))
		for i, a := range sg.addrs {
			sg.id.Addrs[i] = a.String()
		}
		sg.id.Names = cleanList(sg.id.Names, maxNames)
		sg.id.Services = cleanList(sg.id.Services, maxServices)
	}
	return out
}

// merge folds one observation into the identity: the primary
// observation's values win, the others fill what is empty.
func (id *identity) merge(o *Observation, primary bool) {
	set := func(dst *string, v string) {
		if v = CleanText(v, maxText); v != "" && (primary || *dst == "") {
			*dst = v
		}
	}
	set(&id.Hostname, o.Hostname)
	set(&id.Vendor, o.Vendor)
	set(&id.Kind, o.Kind)
	set(&id.Model, o.Model)
	set(&id.FriendlyName, o.FriendlyName)
	names := append([]string{o.Hostname}, o.Names...)
	if primary {
		id.Names = append(names, id.Names...)
	} else {
		id.Names = append(id.Names, names...)
	}
	id.Services = append(id.Services, o.Services...)
}

// RecordScan writes one scan: each observed device's presence, round trip
// and identity, and an absence for each known device the scan covered
// that did not answer. covered says whether the scan covered a device's
// last address; nil means it covered every known device. A cancelled
// scan records no absences.
//
// Everything is one transaction: if the process dies half-way, the
// database holds the scans before this one and nothing of this one.
// Old history is then pruned, a bounded amount (see Prune).
func (s *Store) RecordScan(ctx context.Context, scan Scan, obs []Observation, covered func(netip.Addr) bool) (ScanResult, error) {
	if err := s.need(ModeRecord, "recording a scan"); err != nil {
		return ScanResult{}, err
	}
	if scan.Started.IsZero() {
		scan.Started = s.now()
	}
	if scan.Finished.Before(scan.Started) {
		scan.Finished = scan.Started
	}
	sightings := group(obs)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return ScanResult{}, fmt.Errorf("recording a scan: %w", err)
	}
	res, err := s.record(ctx, tx, scan, sightings, covered)
	if err == nil {
		err = tx.Commit()
	} else {
		_ = tx.Rollback()
	}
	if err != nil {
		return ScanResult{}, fmt.Errorf("recording a scan: %w", err)
	}
	// Pruning is housekeeping: a failure is not the scan's, and the next
	// scan tries again.
	res.Pruned, _ = s.Prune(ctx)
	return res, nil
}

func (s *Store) record(ctx context.Context, tx *sql.Tx, scan Scan, sightings []*sighting, covered func(netip.Addr) bool) (ScanResult, error) {
	at := ms(scan.Started)
	var res ScanResult
	err := tx.QueryRowContext(ctx,
		`INSERT INTO scans (started, finished, targets, method, total, alive, cancelled) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		at, ms(scan.Finished), CleanText(scan.Targets, 4*maxText), CleanText(scan.Method, maxText), scan.Total, len(sightings), scan.Cancelled,
	).Scan(&res.ScanID)
	if err != nil {
		return res, err
	}

	// Known MACs and addresses first, so that continuity knows which
	// devices are present under their own MAC before it links any.
	seen := map[int64]bool{}
	var pending []*sighting
	for _, sg := range sightings {
		if err := s.resolve(ctx, tx, sg, at); err != nil {
			return res, err
		}
		if sg.deviceID != 0 {
			if seen[sg.deviceID] {
				// Two sightings of one device in a scan (a MAC now, its
				// old address-only key too): keep the first.
				sg.deviceID = -1
				continue
			}
			seen[sg.deviceID] = true
		} else {
			pending = append(pending, sg)
		}
	}
	if len(pending) > 0 {
		if err := s.linkOrCreate(ctx, tx, pending, seen, at); err != nil {
			return res, err
		}
	}

	for _, sg := range sightings {
		if sg.deviceID <= 0 {
			continue
		}
		seenDev, err := s.writeSighting(ctx, tx, res.ScanID, at, sg)
		if err != nil {
			return res, err
		}
		res.Seen = append(res.Seen, seenDev)
	}
	if scan.Cancelled {
		return res, nil
	}
	missed, err := s.writeMisses(ctx, tx, res.ScanID, seen, covered)
	res.Missed = missed
	return res, err
}

// resolve finds the device a sighting is, by MAC or by address; it
// leaves deviceID 0 when neither is known.
func (s *Store) resolve(ctx context.Context, tx *sql.Tx, sg *sighting, at int64) error {
	if sg.mac != "" {
		err := tx.QueryRowContext(ctx, `SELECT device_id FROM device_macs WHERE mac = ?`, sg.mac).Scan(&sg.deviceID)
		if err == nil {
			sg.match = MatchMAC
			_, err = tx.ExecContext(ctx, `UPDATE device_macs SET last_seen = max(last_seen, ?) WHERE mac = ?`, at, sg.mac)
			return err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	// A device known only by this address: one behind a router, or one
	// whose MAC was not seen before (its key then moves to the MAC, as
	// the app's memory always did).
	err := tx.QueryRowContext(ctx, `SELECT id FROM devices WHERE key = ?`, addrKey(sg.addr)).Scan(&sg.deviceID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	sg.match = MatchAddress
	if sg.mac == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE devices SET key = ? WHERE id = ?`, macKey(sg.mac), sg.deviceID); err != nil {
		return err
	}
	return addMAC(ctx, tx, sg.deviceID, sg.mac, at, "")
}

func addMAC(ctx context.Context, tx *sql.Tx, deviceID int64, mac string, at int64, linkedBy string) error {
	_, err := tx.ExecContext(ctx,
		`INSERT INTO device_macs (mac, device_id, first_seen, last_seen, linked_by) VALUES (?, ?, ?, ?, ?)`,
		mac, deviceID, at, at, linkedBy)
	return err
}

// linkOrCreate ties each sighting no MAC or address names to a known
// device by continuity's evidence, or makes it a new device.
func (s *Store) linkOrCreate(ctx context.Context, tx *sql.Tx, pending []*sighting, seen map[int64]bool, at int64) error {
	var cands []continuity.Candidate
	for _, sg := range pending {
		if !continuity.Randomized(sg.hw) {
			continue
		}
		if cands == nil {
			var err error
			if cands, err = candidates(ctx, tx); err != nil {
				return err
			}
		}
		for i := range cands {
			cands[i].Present = seen[cands[i].ID]
		}
		ev := continuity.Evidence{MAC: sg.hw, Addr: sg.addr, Names: sg.id.Names, FriendlyName: sg.id.FriendlyName, Services: sg.id.Services}
		link, ok := continuity.Match(ev, cands)
		if !ok {
			continue
		}
		sg.deviceID, sg.match, sg.link = link.ID, MatchLinked, &link
		seen[link.ID] = true
		if err := addMAC(ctx, tx, link.ID, sg.mac, at, link.Because()); err != nil {
			return err
		}
	}
	for _, sg := range pending {
		if sg.deviceID != 0 {
			continue
		}
		key := addrKey(sg.addr)
		if sg.mac != "" {
			key = macKey(sg.mac)
		}
		err := tx.QueryRowContext(ctx,
			`INSERT INTO devices (key, mac, first_seen, last_seen) VALUES (?, ?, ?, ?) RETURNING id`,
			key, sg.mac, at, at).Scan(&sg.deviceID)
		if err != nil {
			return err
		}
		sg.match = MatchNew
		seen[sg.deviceID] = true
		if sg.mac != "" {
			if err := addMAC(ctx, tx, sg.deviceID, sg.mac, at, ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// candidates loads every known device with a MAC, with the evidence
// continuity weighs.
func candidates(ctx context.Context, tx *sql.Tx) ([]continuity.Candidate, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, mac, addr, hostname, names, friendly_name, services FROM devices WHERE mac != ''`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []continuity.Candidate{}
	for rows.Next() {
		var (
			c                                    continuity.Candidate
			mac, addr, hostname, names, fn, svcs string
		)
		if err := rows.Scan(&c.ID, &mac, &addr, &hostname, &names, &fn, &svcs); err != nil {
			return nil, err
		}
		c.MAC, _ = net.ParseMAC(mac)
		c.Addr, _ = netip.ParseAddr(addr)
		// A device imported from the app's old memory has its host name
		// and no list of names.
		c.Names = append([]string{hostname}, decodeList(names)...)
		c.Services, c.FriendlyName = decodeList(svcs), fn
		out = append(out, c)
	}
	return out, rows.Err()
}

// writeSighting stores a present device's observation and refreshes the
// device, reporting what changed.
func (s *Store) writeSighting(ctx context.Context, tx *sql.Tx, scanID, at int64, sg *sighting) (Seen, error) {
	before, err := loadDevice(ctx, tx, sg.deviceID)
	if err != nil {
		return Seen{}, err
	}
	out := Seen{Match: sg.match, Link: sg.link, MissesBefore: before.Misses, Observations: sg.obs}
	if sg.match != MatchNew {
		out.Changes = changes(&before, &sg.id)
	}
	names, _ := json.Marshal(sg.id.Names)
	svcs, _ := json.Marshal(sg.id.Services)
	addrs, _ := json.Marshal(sg.id.Addrs)
	var identityID int64
	err = tx.QueryRowContext(ctx, `
INSERT INTO identities (device_id, digest, addr, mac, hostname, names, vendor, kind, model, friendly_name, services, addrs, last_scan)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (device_id, digest) DO UPDATE SET last_scan = excluded.last_scan
RETURNING id`,
		sg.deviceID, sg.id.digest(), sg.id.Addr, sg.id.MAC, sg.id.Hostname, string(names), sg.id.Vendor, sg.id.Kind,
		sg.id.Model, sg.id.FriendlyName, string(svcs), string(addrs), scanID,
	).Scan(&identityID)
	if err != nil {
		return Seen{}, err
	}
	var rtt any
	if sg.rtt > 0 {
		rtt = sg.rtt
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO observations (device_id, scan_id, rtt_us, identity_id) VALUES (?, ?, ?, ?)`,
		sg.deviceID, scanID, rtt, identityID); err != nil {
		return Seen{}, err
	}
	// Keep each field's latest non-empty value: a scan whose name lookup
	// timed out does not forget the name.
	_, err = tx.ExecContext(ctx, `
UPDATE devices SET
	mac           = CASE WHEN ?1 != '' THEN ?1 ELSE mac END,
	last_seen     = max(last_seen, ?2),
	first_seen    = min(first_seen, ?2),
	addr          = ?3,
	hostname      = CASE WHEN ?4 != '' THEN ?4 ELSE hostname END,
	names         = CASE WHEN ?5 != '[]' THEN ?5 ELSE names END,
	vendor        = CASE WHEN ?6 != '' THEN ?6 ELSE vendor END,
	kind          = CASE WHEN ?7 != '' THEN ?7 ELSE kind END,
	model         = CASE WHEN ?8 != '' THEN ?8 ELSE model END,
	friendly_name = CASE WHEN ?9 != '' THEN ?9 ELSE friendly_name END,
	services      = CASE WHEN ?10 != '[]' THEN ?10 ELSE services END,
	present       = 1,
	misses        = 0,
	identity_id   = ?11
WHERE id = ?12`,
		sg.mac, at, sg.id.Addr, sg.id.Hostname, string(names), sg.id.Vendor, sg.id.Kind, sg.id.Model,
		sg.id.FriendlyName, string(svcs), identityID, sg.deviceID)
	if err != nil {
		return Seen{}, err
	}
	out.Device, err = loadDevice(ctx, tx, sg.deviceID)
	return out, err
}

// changes lists the fields the new identity gives another value than the
// device had. Empty values on either side are not changes: a field the
// device never had is news, not a change, and one this scan did not learn
// was not lost.
func changes(d *Device, id *identity) []Change {
	var out []Change
	add := func(field, old, new string) {
		if old != "" && new != "" && old != new {
			out = append(out, Change{Field: field, Old: old, New: new})
		}
	}
	add("addr", d.Addr, id.Addr)
	add("mac", d.MAC, id.MAC)
	add("hostname", d.Hostname, id.Hostname)
	add("vendor", d.Vendor, id.Vendor)
	add("kind", d.Kind, id.Kind)
	add("model", d.Model, id.Model)
	add("friendly_name", d.FriendlyName, id.FriendlyName)
	return out
}

// writeMisses records an absence for each known device the scan covered
// that did not answer.
func (s *Store) writeMisses(ctx context.Context, tx *sql.Tx, scanID int64, seen map[int64]bool, covered func(netip.Addr) bool) ([]Missed, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, addr FROM devices`)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var (
			id   int64
			addr string
		)
		if err := rows.Scan(&id, &addr); err != nil {
			rows.Close()
			return nil, err
		}
		if seen[id] {
			continue
		}
		if covered != nil {
			a, err := netip.ParseAddr(addr)
			if err != nil || !covered(a) {
				continue
			}
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []Missed
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO observations (device_id, scan_id) VALUES (?, ?)`, id, scanID); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx,
			`UPDATE devices SET present = 0, misses = misses + 1 WHERE id = ?`, id); err != nil {
			return nil, err
		}
		d, err := loadDevice(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, Missed{Device: d})
	}
	return out, nil
}

// decodeList reads a stored JSON array of strings; damage reads as empty.
func decodeList(s string) []string {
	var out []string
	if json.Unmarshal([]byte(s), &out) != nil {
		return nil
	}
	return out
}
