package devices

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"netscanner/internal/store"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"netscanner/internal/settings"
	"netscanner/scanner"
)

// Device is what memory keeps about one device between scans.
type Device struct {
	Key       string    // see DeviceKey
	MAC       string    // hardware address, lower case; empty if never known
	Addr      string    // last address seen
	Name      string    // last name seen
	Vendor    string    // maker of the MAC
	Label     string    // the user's own name for it
	FirstSeen time.Time // first scan that found it
	LastSeen  time.Time // last scan that found it
}

// Title returns the best name for the device.
func (d *Device) Title() string {
	switch {
	case d.Label != "":
		return d.Label
	case d.Name != "":
		return d.Name
	}
	return d.Addr
}

// DeviceKey names a device in memory: its MAC address when known, since
// addresses move between devices, else its IP address (hosts behind a
// router, whose MAC cannot be seen).
func DeviceKey(h *scanner.Host) string {
	if UsableMAC(h.MAC) {
		return "mac:" + strings.ToLower(h.MAC.String())
	}
	return "ip:" + h.Addr.String()
}

// UsableMAC reports whether mac identifies one device: not empty, not all
// zeros, not broadcast or multicast.
func UsableMAC(mac net.HardwareAddr) bool {
	if len(mac) == 0 || mac[0]&1 == 1 {
		return false
	}
	for _, b := range mac {
		if b != 0 {
			return true
		}
	}
	return false
}

// Limits on stored data. The file is outside input (another version, a
// disk error, a curious user may have written it), so everything read is
// bounded.
const (
	maxStoreBytes = 16 << 20
	maxDevices    = 20000
	maxTextBytes  = 255
	storeVersion  = 1
)

// storeFile is the on-disk form, JSON.
type storeFile struct {
	Version  int            `json:"version"`
	Settings settings.File  `json:"settings"`
	Devices  []deviceRecord `json:"devices"`
}

type deviceRecord struct {
	Key       string    `json:"key"`
	MAC       string    `json:"mac,omitempty"`
	Addr      string    `json:"addr,omitempty"`
	Name      string    `json:"name,omitempty"`
	Vendor    string    `json:"vendor,omitempty"`
	Label     string    `json:"label,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Store is the app's memory: devices seen in earlier scans, with the
// labels the user gave them, and the settings. The settings live in one
// JSON file in the app's storage folder; the devices live in the history
// database shared with the command line (see OpenWithHistory, history.go),
// or, opened with OpenStore or when that database cannot be used, in the
// same JSON file.
//
// A Store is not safe for concurrent use: the app touches it only on the
// UI goroutine.
type Store struct {
	path     string
	devices  map[string]*Device
	settings settings.Settings
	hist     *historyMemory // nil: devices live in the JSON file
}

// NewStore returns an empty store that saves to path.
func NewStore(path string) *Store {
	return &Store{path: path, devices: map[string]*Device{}, settings: settings.DefaultSettings()}
}

// OpenStore reads the store at path. It always returns a usable store: a
// missing file gives an empty one, and so does a damaged one, which is
// also copied aside to path+".bad" and reported in the error so the user
// can be told that memory started afresh.
func OpenStore(path string) (*Store, error) {
	s := NewStore(path)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("reading remembered devices: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxStoreBytes+1))
	if err != nil {
		return s, fmt.Errorf("reading remembered devices: %w", err)
	}
	if len(data) > maxStoreBytes {
		err = fmt.Errorf("%s is larger than %d MiB", path, maxStoreBytes>>20)
	} else {
		var devs map[string]*Device
		var set settings.Settings
		if devs, set, err = ParseStore(data); err == nil {
			s.devices, s.settings = devs, set
			return s, nil
		}
	}
	bad := path + ".bad"
	if werr := os.WriteFile(bad, data, 0o600); werr != nil {
		return s, fmt.Errorf("remembered devices were damaged and are forgotten (%w); saving a copy failed: %v", err, werr)
	}
	return s, fmt.Errorf("remembered devices were damaged and are forgotten; a copy is in %s: %w", bad, err)
}

// ParseStore reads a store file. It refuses what is not a store at all,
// and repairs what it can inside one: settings out of range are clamped,
// devices without an address or MAC are dropped, text is made valid UTF-8
// without control characters and cut to length.
func ParseStore(data []byte) (map[string]*Device, settings.Settings, error) {
	var f storeFile
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&f); err != nil {
		return nil, settings.Settings{}, fmt.Errorf("not a store file: %w", err)
	}
	if dec.More() {
		return nil, settings.Settings{}, errors.New("not a store file: data after the JSON object")
	}
	if f.Version != storeVersion {
		return nil, settings.Settings{}, fmt.Errorf("store file version %d, want %d", f.Version, storeVersion)
	}
	set := settings.FromFile(f.Settings)

	devs := make(map[string]*Device, min(len(f.Devices), maxDevices))
	for _, r := range f.Devices {
		if len(devs) == maxDevices {
			break
		}
		d, ok := r.device()
		if !ok {
			continue
		}
		devs[d.Key] = d
	}
	return devs, set, nil
}

// device checks one record and rebuilds its key from its MAC or address,
// so that a key never disagrees with the data it names.
func (r deviceRecord) device() (*Device, bool) {
	d := &Device{
		Name:      store.CleanText(r.Name, maxTextBytes),
		Vendor:    store.CleanText(r.Vendor, maxTextBytes),
		Label:     CleanLabel(r.Label),
		FirstSeen: r.FirstSeen,
		LastSeen:  r.LastSeen,
	}
	h := scanner.Host{}
	if a, err := netip.ParseAddr(r.Addr); err == nil {
		h.Addr = a.Unmap()
		d.Addr = h.Addr.String()
	}
	if mac, err := net.ParseMAC(r.MAC); err == nil && UsableMAC(mac) {
		h.MAC = mac
		d.MAC = strings.ToLower(mac.String())
	}
	if d.Addr == "" && d.MAC == "" {
		return nil, false
	}
	d.Key = DeviceKey(&h)
	if d.LastSeen.Before(d.FirstSeen) {
		d.LastSeen = d.FirstSeen
	}
	return d, true
}

// CleanLabel makes a user's label safe to store and show; the rule is
// the history store's, which keeps the labels.
func CleanLabel(s string) string { return store.CleanLabel(s) }

// Marshal returns the store as the file Save writes.
func (s *Store) Marshal() ([]byte, error) {
	f := storeFile{
		Version:  storeVersion,
		Settings: s.settings.ToFile(),
		Devices:  make([]deviceRecord, 0, len(s.devices)),
	}
	if s.hist != nil {
		// The devices live in the history database; the file keeps the
		// ones it held when they moved there, for an older Netscanner.
		f.Devices = append(f.Devices, s.hist.legacy...)
		return json.MarshalIndent(f, "", "  ")
	}
	for _, d := range s.Devices() {
		f.Devices = append(f.Devices, deviceRecord(d))
	}
	return json.MarshalIndent(f, "", "  ")
}

// Save writes the store to its file, atomically: a crash leaves the old
// file or the new one, never half of one. With a history database, it
// also reports a write to it that failed since the last Save.
func (s *Store) Save() error {
	return errors.Join(s.hist.takeErr(), s.saveFile())
}

// saveFile writes the JSON file.
func (s *Store) saveFile() error {
	data, err := s.Marshal()
	if err != nil {
		return err
	}
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("saving remembered devices: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".netscanner-*.tmp")
	if err != nil {
		return fmt.Errorf("saving remembered devices: %w", err)
	}
	_, err = tmp.Write(data)
	if serr := tmp.Sync(); err == nil {
		err = serr
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), s.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("saving remembered devices: %w", err)
	}
	return nil
}

// Path returns the file the store saves to.
func (s *Store) Path() string { return s.path }

// Settings returns the saved settings.
func (s *Store) Settings() settings.Settings {
	set := s.settings
	set.Ports = slices.Clone(set.Ports)
	return set
}

// SetSettings replaces the settings, clamped into range. Call Save to keep
// them.
func (s *Store) SetSettings(set settings.Settings) {
	set.Ports = slices.Clone(set.Ports)
	s.settings = set.Clamp()
}

// Device returns the remembered device with key; with a history
// database, the key of any MAC the device ever used finds it.
func (s *Store) Device(key string) (Device, bool) {
	d, ok := s.devices[s.hist.resolve(key)]
	if !ok {
		return Device{}, false
	}
	return *d, true
}

// Len is the number of remembered devices.
func (s *Store) Len() int { return len(s.devices) }

// Devices returns every remembered device, most recently seen first.
func (s *Store) Devices() []Device {
	out := make([]Device, 0, len(s.devices))
	for _, d := range s.devices {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b Device) int {
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

// Keys returns the set of remembered keys: a snapshot that tells, during a
// scan, which devices are new.
func (s *Store) Keys() map[string]bool {
	out := make(map[string]bool, len(s.devices))
	for k := range s.devices {
		out[k] = true
	}
	s.hist.addAliases(out)
	return out
}

// SetLabel gives the device behind h a label, remembering the device if it
// was not yet. An empty label removes it. Call Save to keep it.
func (s *Store) SetLabel(h *scanner.Host, label string, now time.Time) {
	if s.hist != nil {
		s.hist.setLabel(s, h, CleanLabel(label), now)
		return
	}
	d := s.remember(h, now)
	d.Label = CleanLabel(label)
}

// Record remembers the hosts a scan found, at time now. With a history
// database it records the scan there, with no device missed; RecordScan
// also says which devices the scan covered.
func (s *Store) Record(hosts []*scanner.Host, now time.Time) {
	s.RecordScan(hosts, now, func(netip.Addr) bool { return false })
}

// RecordScan remembers the hosts a scan that started at now found. With
// a history database it records the scan there, and every known device
// whose last address covered reports true as missed by it.
func (s *Store) RecordScan(hosts []*scanner.Host, now time.Time, covered func(netip.Addr) bool) {
	if s.hist != nil {
		s.hist.record(s, hosts, now, covered)
		return
	}
	for _, h := range hosts {
		d := s.remember(h, now)
		d.LastSeen = now
		if len(s.devices) >= maxDevices {
			break
		}
	}
}

// remember returns the device for h, creating it or refreshing what is
// known about it. A device first known by address and now by MAC moves to
// its MAC key, keeping its label.
func (s *Store) remember(h *scanner.Host, now time.Time) *Device {
	key := DeviceKey(h)
	d, ok := s.devices[key]
	if !ok {
		d = &Device{Key: key, FirstSeen: now, LastSeen: now}
		if strings.HasPrefix(key, "mac:") {
			if old, ok := s.devices["ip:"+h.Addr.String()]; ok {
				d.Label, d.FirstSeen = old.Label, old.FirstSeen
				delete(s.devices, old.Key)
			}
		}
		s.devices[key] = d
	}
	d.Addr = h.Addr.String()
	if UsableMAC(h.MAC) {
		d.MAC = strings.ToLower(h.MAC.String())
	}
	if h.Hostname != "" {
		d.Name = store.CleanText(h.Hostname, maxTextBytes)
	}
	if h.Vendor != "" {
		d.Vendor = store.CleanText(h.Vendor, maxTextBytes)
	}
	return d
}

// Missing returns the remembered devices that a finished scan should have
// found but did not: their last address is one of the scanned ones
// (scanned reports that), and neither their key nor that address answered
// this time. Most recently seen first.
func (s *Store) Missing(scanned func(netip.Addr) bool, seenKeys map[string]bool, seenAddrs map[netip.Addr]bool) []Device {
	var out []Device
	for _, d := range s.Devices() {
		a, err := netip.ParseAddr(d.Addr)
		if err != nil || !scanned(a) || seenKeys[d.Key] || seenAddrs[a] {
			continue
		}
		out = append(out, d)
	}
	return out
}
