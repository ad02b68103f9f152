package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// ImportLegacy brings the app's old device memory into the store, once
// per source (a name such as the old file's path): labels, first and last
// seen, and the last address, name and maker of each device. A device the
// store already knows keeps its history; it gains the old label if it has
// none, and the earlier first seen and later last seen of the two.
// Records without a usable MAC or address are skipped. Everything is one
// transaction, marked done in the same one, so an import interrupted half
// way is done again whole next time.
func (s *Store) ImportLegacy(ctx context.Context, source string, devs []LegacyDevice) (ImportResult, error) {
	var res ImportResult
	if err := s.need(ModeEdit, "importing remembered devices"); err != nil {
		return res, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("importing remembered devices: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	mark := "imported:" + source
	var done string
	err = tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, mark).Scan(&done)
	if err == nil {
		res.Already = true
		return res, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return res, fmt.Errorf("importing remembered devices: %w", err)
	}
	for _, d := range devs {
		merged, ok, err := importOne(ctx, tx, d)
		if err != nil {
			return res, fmt.Errorf("importing remembered device %s: %w", d.Key, err)
		}
		switch {
		case !ok:
		case merged:
			res.Merged++
		default:
			res.Imported++
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)`, mark, s.now().UTC().Format(time.RFC3339)); err != nil {
		return res, fmt.Errorf("importing remembered devices: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("importing remembered devices: %w", err)
	}
	return res, nil
}

// importOne imports one record; ok is false when it names no device.
func importOne(ctx context.Context, tx *sql.Tx, d LegacyDevice) (merged, ok bool, err error) {
	var mac, addr string
	if hw, err := net.ParseMAC(d.MAC); err == nil && usableMAC(hw) {
		mac = strings.ToLower(hw.String())
	}
	if a, err := netip.ParseAddr(d.Addr); err == nil {
		addr = a.Unmap().String()
	}
	var key string
	switch {
	case mac != "":
		key = macKey(mac)
	case addr != "":
		key = "ip:" + addr
	default:
		return false, false, nil
	}
	first, last := d.FirstSeen, d.LastSeen
	if first.IsZero() {
		first = last
	}
	if last.Before(first) {
		last = first
	}
	label := CleanLabel(d.Label)

	var id int64
	if mac != "" {
		err = tx.QueryRowContext(ctx, `SELECT device_id FROM device_macs WHERE mac = ?`, mac).Scan(&id)
	} else {
		err = tx.QueryRowContext(ctx, `SELECT id FROM devices WHERE key = ?`, key).Scan(&id)
	}
	switch {
	case err == nil:
		_, err = tx.ExecContext(ctx, `
UPDATE devices SET
	label      = CASE WHEN label = '' THEN ? ELSE label END,
	first_seen = min(first_seen, ?),
	last_seen  = max(last_seen, ?)
WHERE id = ?`, label, ms(first), ms(last), id)
		return true, true, err
	case !errors.Is(err, sql.ErrNoRows):
		return false, false, err
	}
	err = tx.QueryRowContext(ctx, `
INSERT INTO devices (key, mac, label, first_seen, last_seen, addr, hostname, vendor)
VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		key, mac, label, ms(first), ms(last), addr, CleanText(d.Name, maxText), CleanText(d.Vendor, maxText)).Scan(&id)
	if err != nil {
		return false, false, err
	}
	if mac != "" {
		if err := addMAC(ctx, tx, id, mac, ms(first), ""); err != nil {
			return false, false, err
		}
		_, err = tx.ExecContext(ctx, `UPDATE device_macs SET last_seen = ? WHERE mac = ?`, ms(last), mac)
	}
	return false, true, err
}
