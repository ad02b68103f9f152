package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const deviceColumns = `id, key, mac, label, first_seen, last_seen, addr, hostname, names, vendor, kind, model, friendly_name, services, present, misses`

// scanDevice reads one row of deviceColumns.
func scanDevice(row interface{ Scan(...any) error }) (Device, error) {
	var (
		d           Device
		first, last int64
		names, svcs string
		present     int
	)
	err := row.Scan(&d.ID, &d.Key, &d.MAC, &d.Label, &first, &last, &d.Addr, &d.Hostname, &names, &d.Vendor,
		&d.Kind, &d.Model, &d.FriendlyName, &svcs, &present, &d.Misses)
	if err != nil {
		return d, err
	}
	d.FirstSeen, d.LastSeen = fromMS(first), fromMS(last)
	d.Names, d.Services = decodeList(names), decodeList(svcs)
	d.Present = present != 0
	return d, nil
}

// loadDevice reads one device with its MACs.
func loadDevice(ctx context.Context, q querier, id int64) (Device, error) {
	d, err := scanDevice(q.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM devices WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("device %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return d, err
	}
	d.MACs, err = deviceMACs(ctx, q, id, d.MAC)
	return d, err
}

// deviceMACs lists a device's MACs, current first, then the most recently
// seen.
func deviceMACs(ctx context.Context, q querier, id int64, current string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT mac FROM device_macs WHERE device_id = ? ORDER BY last_seen DESC, mac`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if i := slices.Index(out, current); i > 0 {
		out = append([]string{current}, slices.Delete(out, i, i+1)...)
	}
	return out, rows.Err()
}

// Devices returns every known device, most recently seen first.
func (s *Store) Devices(ctx context.Context) ([]Device, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+deviceColumns+` FROM devices ORDER BY last_seen DESC, key`)
	if err != nil {
		return nil, fmt.Errorf("listing devices: %w", err)
	}
	var out []Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing devices: %w", err)
		}
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing devices: %w", err)
	}
	macs, err := s.allMACs(ctx)
	if err != nil {
		return nil, err
	}
	for i := range out {
		d := &out[i]
		d.MACs = macs[d.ID]
		if j := slices.Index(d.MACs, d.MAC); j > 0 {
			d.MACs = append([]string{d.MAC}, slices.Delete(d.MACs, j, j+1)...)
		}
	}
	return out, nil
}

func (s *Store) allMACs(ctx context.Context) (map[int64][]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT device_id, mac FROM device_macs ORDER BY device_id, last_seen DESC, mac`)
	if err != nil {
		return nil, fmt.Errorf("listing devices: %w", err)
	}
	defer rows.Close()
	out := map[int64][]string{}
	for rows.Next() {
		var (
			id  int64
			mac string
		)
		if err := rows.Scan(&id, &mac); err != nil {
			return nil, fmt.Errorf("listing devices: %w", err)
		}
		out[id] = append(out[id], mac)
	}
	return out, rows.Err()
}

// Device returns the device with id.
func (s *Store) Device(ctx context.Context, id int64) (Device, error) {
	return loadDevice(ctx, s.db, id)
}

// DeviceByKey returns the device a key names: "mac:…" with any MAC the
// device ever used, or "ip:ADDR".
func (s *Store) DeviceByKey(ctx context.Context, key string) (Device, error) {
	kind, v, ok := strings.Cut(key, ":")
	var id int64
	var err error
	switch {
	case ok && kind == "mac":
		mac, perr := net.ParseMAC(v)
		if perr != nil {
			return Device{}, fmt.Errorf("device key %q: %w", key, ErrNotFound)
		}
		err = s.db.QueryRowContext(ctx, `SELECT device_id FROM device_macs WHERE mac = ?`, strings.ToLower(mac.String())).Scan(&id)
	case ok && kind == "ip":
		a, perr := netip.ParseAddr(v)
		if perr != nil {
			return Device{}, fmt.Errorf("device key %q: %w", key, ErrNotFound)
		}
		err = s.db.QueryRowContext(ctx, `SELECT id FROM devices WHERE key = ?`, addrKey(a.Unmap())).Scan(&id)
	default:
		return Device{}, fmt.Errorf("device key %q: want mac:… or ip:…: %w", key, ErrNotFound)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return Device{}, fmt.Errorf("device %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return Device{}, fmt.Errorf("device %s: %w", key, err)
	}
	return loadDevice(ctx, s.db, id)
}

// Find returns the one device ref names: a MAC it used, a key, its last
// address, its label, or one of its names (case does not matter). A ref
// that fits several devices is an *AmbiguousError; an exact MAC, key or
// address wins over names.
func (s *Store) Find(ctx context.Context, ref string) (Device, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return Device{}, fmt.Errorf("empty device name: %w", ErrNotFound)
	}
	if mac, err := net.ParseMAC(ref); err == nil {
		return s.DeviceByKey(ctx, macKey(strings.ToLower(mac.String())))
	}
	if strings.HasPrefix(ref, "mac:") || strings.HasPrefix(ref, "ip:") {
		return s.DeviceByKey(ctx, ref)
	}
	all, err := s.Devices(ctx)
	if err != nil {
		return Device{}, err
	}
	if a, err := netip.ParseAddr(ref); err == nil {
		a = a.Unmap()
		var hits []Device
		for _, d := range all {
			if d.Addr == a.String() {
				hits = append(hits, d)
			}
		}
		return one(ref, hits)
	}
	var hits []Device
	for _, d := range all {
		for _, n := range append([]string{d.Label, d.FriendlyName, d.Hostname}, d.Names...) {
			if n != "" && strings.EqualFold(n, ref) {
				hits = append(hits, d)
				break
			}
		}
	}
	return one(ref, hits)
}

func one(ref string, hits []Device) (Device, error) {
	switch len(hits) {
	case 0:
		return Device{}, fmt.Errorf("no known device is %q (netscanner devices lists them): %w", ref, ErrNotFound)
	case 1:
		return hits[0], nil
	}
	return Device{}, &AmbiguousError{Ref: ref, Matches: hits}
}

// SetLabel gives the device a label (cleaned by CleanLabel); an empty one
// removes it.
func (s *Store) SetLabel(ctx context.Context, id int64, label string) error {
	if err := s.need(ModeEdit, "labelling a device"); err != nil {
		return err
	}
	r, err := s.db.ExecContext(ctx, `UPDATE devices SET label = ? WHERE id = ?`, CleanLabel(label), id)
	if err != nil {
		return fmt.Errorf("labelling device %d: %w", id, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return fmt.Errorf("labelling device %d: %w", id, ErrNotFound)
	}
	return nil
}

// Remember returns the device an observation is (by a MAC it used, else
// by address), adding it if the store does not know it yet, without
// recording a scan: the app labels a device the moment the user names it,
// which may be before the scan that found it is recorded. A new device
// gets at as its first and last seen.
func (s *Store) Remember(ctx context.Context, o Observation, at time.Time) (Device, error) {
	if err := s.need(ModeEdit, "remembering a device"); err != nil {
		return Device{}, err
	}
	sgs := group([]Observation{o})
	if len(sgs) == 0 {
		return Device{}, fmt.Errorf("remembering a device: no valid address: %w", ErrNotFound)
	}
	sg := sgs[0]
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Device{}, fmt.Errorf("remembering a device: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if err := s.resolve(ctx, tx, sg, ms(at)); err != nil {
		return Device{}, fmt.Errorf("remembering a device: %w", err)
	}
	if sg.deviceID == 0 {
		key := addrKey(sg.addr)
		if sg.mac != "" {
			key = macKey(sg.mac)
		}
		names, _ := json.Marshal(sg.id.Names)
		err := tx.QueryRowContext(ctx, `
INSERT INTO devices (key, mac, first_seen, last_seen, addr, hostname, names, vendor, kind, model, friendly_name)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			key, sg.mac, ms(at), ms(at), sg.id.Addr, sg.id.Hostname, string(names), sg.id.Vendor, sg.id.Kind, sg.id.Model, sg.id.FriendlyName,
		).Scan(&sg.deviceID)
		if err == nil && sg.mac != "" {
			err = addMAC(ctx, tx, sg.deviceID, sg.mac, ms(at), "")
		}
		if err != nil {
			return Device{}, fmt.Errorf("remembering a device: %w", err)
		}
	}
	d, err := loadDevice(ctx, tx, sg.deviceID)
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return Device{}, fmt.Errorf("remembering a device: %w", err)
	}
	return d, nil
}
