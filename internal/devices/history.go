package devices

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"time"

	"netscanner/internal/store"
	"netscanner/scanner"
)

// historyMemory is what a Store keeps when its devices live in the
// history database.
type historyMemory struct {
	db      *store.Store
	ids     map[string]int64  // device key -> history id
	aliases map[string]string // another key of a device (an older MAC) -> its key
	legacy  []deviceRecord    // the file's devices when they moved, written back unchanged
	err     error             // a failed write, for the next Save
}

// OpenWithHistory opens the app's memory: the settings from the JSON file
// at path, the devices from the history database at historyPath (the one
// `netscanner history` and `netscanner watch` use). The first time, the
// devices the file remembers (labels, first and last seen) are imported
// into the database; the file keeps them as they were.
//
// It always returns a usable store, and an error to show the user when
// something was not as it should be: a damaged file (see OpenStore); a
// history another process records into (the app then keeps labels there
// but adds none of its scans); a history that cannot be opened at all (the
// devices then stay in the file, as before there was a history).
func OpenWithHistory(ctx context.Context, path, historyPath string) (*Store, error) {
	s, fileErr := OpenStore(path)
	if historyPath == "" {
		return s, fileErr
	}
	db, err := store.Open(ctx, historyPath, store.Options{Mode: store.ModeRecord})
	var histErr error
	if errors.Is(err, store.ErrLocked) {
		histErr = fmt.Errorf("%w; this app's scans are not added to that history", err)
		db, err = store.Open(ctx, historyPath, store.Options{Mode: store.ModeEdit})
	}
	if err != nil {
		return s, errors.Join(fileErr, fmt.Errorf("%w; devices are remembered in %s instead", err, filepath.Base(path)))
	}
	h := &historyMemory{db: db}
	for _, d := range s.Devices() {
		h.legacy = append(h.legacy, deviceRecord(d))
	}
	if len(h.legacy) > 0 {
		devs := make([]store.LegacyDevice, len(h.legacy))
		for i, r := range h.legacy {
			devs[i] = store.LegacyDevice(r)
		}
		if _, err := db.ImportLegacy(ctx, "app-memory:"+path, devs); err != nil {
			db.Close()
			return s, errors.Join(fileErr, fmt.Errorf("%w; devices are remembered in %s instead", err, filepath.Base(path)))
		}
	}
	s.hist = h
	if err := h.reload(ctx, s); err != nil {
		histErr = errors.Join(histErr, err)
	}
	return s, errors.Join(fileErr, histErr)
}

// History returns the history database the devices live in, or nil when
// they live in the JSON file.
func (s *Store) History() *store.Store {
	if s.hist == nil {
		return nil
	}
	return s.hist.db
}

// Close closes the history database, if any. The store's settings can
// still be read and saved; devices can still be read.
func (s *Store) Close() error {
	if s.hist == nil || s.hist.db == nil {
		return nil
	}
	err := s.hist.db.Close()
	s.hist.db = nil
	return err
}

// reload rebuilds the devices from the database: one per device, under
// the key of its current MAC (or address), its older MACs as aliases.
func (h *historyMemory) reload(ctx context.Context, s *Store) error {
	if h.db == nil {
		return errors.New("remembered devices: the history database is closed")
	}
	all, err := h.db.Devices(ctx)
	if err != nil {
		return err
	}
	devs := make(map[string]*Device, len(all))
	h.ids = make(map[string]int64, len(all))
	h.aliases = map[string]string{}
	for i := range all {
		d := &all[i]
		key := d.Key
		if d.MAC != "" {
			key = "mac:" + d.MAC
		}
		devs[key] = &Device{
			Key: key, MAC: d.MAC, Addr: d.Addr, Name: d.Hostname, Vendor: d.Vendor, Label: d.Label,
			FirstSeen: d.FirstSeen, LastSeen: d.LastSeen,
		}
		h.ids[key] = d.ID
		for _, m := range d.MACs {
			if k := "mac:" + m; k != key {
				h.aliases[k] = key
			}
		}
		if d.Key != key {
			h.aliases[d.Key] = key
		}
	}
	s.devices = devs
	return nil
}

// record writes a scan into the history. A store opened beside another
// recorder cannot; it then only makes sure the hosts are known devices.
func (h *historyMemory) record(s *Store, hosts []*scanner.Host, now time.Time, covered func(netip.Addr) bool) {
	ctx := context.Background()
	if h.db == nil {
		h.fail(errors.New("remembered devices: the history database is closed"))
		return
	}
	obs := make([]store.Observation, len(hosts))
	for i, host := range hosts {
		obs[i] = store.FromHost(host)
	}
	if h.db.Mode() == store.ModeRecord {
		if _, err := h.db.RecordScan(ctx, store.Scan{Started: now, Finished: now}, obs, covered); err != nil {
			h.fail(err)
		}
	} else {
		for _, o := range obs {
			if _, err := h.db.Remember(ctx, o, now); err != nil {
				h.fail(err)
				break
			}
		}
	}
	h.fail(h.reload(ctx, s))
}

// setLabel labels the device behind host in the history, adding the
// device if the history does not know it yet.
func (h *historyMemory) setLabel(s *Store, host *scanner.Host, label string, now time.Time) {
	ctx := context.Background()
	if h.db == nil {
		h.fail(errors.New("remembered devices: the history database is closed"))
		return
	}
	d, err := h.db.Remember(ctx, store.FromHost(host), now)
	if err == nil {
		err = h.db.SetLabel(ctx, d.ID, label)
	}
	h.fail(err)
	h.fail(h.reload(ctx, s))
}

// fail keeps err for the next Save.
func (h *historyMemory) fail(err error) {
	if err != nil {
		h.err = errors.Join(h.err, fmt.Errorf("saving remembered devices: %w", err))
	}
}

// takeErr returns the writes that failed since it was last called; nil
// receiver is fine.
func (h *historyMemory) takeErr() error {
	if h == nil {
		return nil
	}
	err := h.err
	h.err = nil
	return err
}

// resolve maps a key to the device's current key; nil receiver is fine.
func (h *historyMemory) resolve(key string) string {
	if h == nil {
		return key
	}
	if k, ok := h.aliases[key]; ok {
		return k
	}
	return key
}

// addAliases adds every alias key to keys; nil receiver is fine.
func (h *historyMemory) addAliases(keys map[string]bool) {
	if h == nil {
		return
	}
	for k := range h.aliases {
		keys[k] = true
	}
}
