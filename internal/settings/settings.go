// Package settings holds the scan options a user of the app can change,
// their limits (package targets', the command line's), how they become a
// scanner.Config, and their form in the store file. It knows nothing
// about widgets: app/settings.go is the form that edits them.
//
// A new setting goes here: a field of Settings, its default in
// DefaultSettings, its check in Check and clamp, its effect in Config, and
// its JSON field in File (with FromFile and ToFile); then a widget in
// app/settings.go.
package settings

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"netscanner/probe"
	"netscanner/scanner"
	"netscanner/scanner/targets"
)

// Settings are the scan options a user can change. They persist in the
// store between runs.
type Settings struct {
	Timeout time.Duration // wait for a host's answer after its last request
	Retries int           // more requests for a silent host
	Rate    float64       // requests per second, whole scan
	Ports   []uint16      // TCP ports looked for on live hosts
	Method  probe.Method  // Auto, or a method to force
	Lookups bool          // look up host names
	// LinkLocal finds the IPv6 link-local neighbours (ff02::1); off,
	// nothing is sent to them (scanner.Traffic.NoLinkLocal).
	LinkLocal bool
	// Identify asks what devices are (DNS-SD, SSDP/UPnP, web and SSH
	// banners); off, none of it is sent (scanner.Traffic.NoIdentify).
	Identify bool
	// WatchInterval is how often the app's Watch switch scans; the
	// limits are `netscanner watch --interval`'s
	// (targets.CheckWatchInterval).
	WatchInterval time.Duration
}

// DefaultSettings match the command line's defaults.
func DefaultSettings() Settings {
	c := scanner.DefaultConfig()
	return Settings{
		Timeout:   c.Timeout,
		Retries:   c.Retries,
		Rate:      c.Rate,
		Ports:     scanner.DefaultPorts(),
		Method:    probe.Auto,
		Lookups:   true,
		LinkLocal: true,
		Identify:  true,

		WatchInterval: targets.DefaultWatchInterval,
	}
}

// Config returns the scanner configuration for these settings.
func (s Settings) Config() scanner.Config {
	c := scanner.DefaultConfig()
	c.Timeout = s.Timeout
	c.Retries = s.Retries
	c.Rate = s.Rate
	// Enrichment learns names, MACs, makers and open ports, and finds
	// the IPv6 link-local neighbours; the switches mean what the command
	// line's do (docs/packets.md).
	c.Enrich = scanner.Traffic{NoNames: !s.Lookups, NoLinkLocal: !s.LinkLocal, NoIdentify: !s.Identify, Ports: s.Ports}.Enrich()
	return c
}

// Check reports the first setting out of range, with the words the
// command line uses for the same value. The app has no --i-know-rate: its
// rate stops at targets.FastRate.
func (s Settings) Check() error {
	if err := targets.CheckTimeout(s.Timeout); err != nil {
		return err
	}
	if err := targets.CheckRetries(s.Retries); err != nil {
		return err
	}
	if err := targets.CheckRate(s.Rate, false); err != nil {
		return err
	}
	if len(s.Ports) > targets.MaxPorts || slices.Contains(s.Ports, 0) {
		return errors.New("ports: more than " + strconv.Itoa(targets.MaxPorts) + " ports, or port 0")
	}
	if _, err := probe.ParseMethod(string(s.Method)); err != nil {
		return err
	}
	return targets.CheckWatchInterval(s.WatchInterval)
}

// Clamp brings every setting into range, replacing what cannot be
// repaired with its default. It is how settings read from disk are
// trusted.
func (s Settings) Clamp() Settings {
	d := DefaultSettings()
	if s.Timeout <= 0 {
		s.Timeout = d.Timeout
	}
	s.Timeout = min(s.Timeout, targets.MaxTimeout)
	s.Retries = min(max(s.Retries, 0), targets.MaxRetries)
	if !(s.Rate > 0) || math.IsInf(s.Rate, 0) { // NaN, zero, negative, infinite
		s.Rate = d.Rate
	}
	s.Rate = min(s.Rate, targets.FastRate)
	s.Ports = slices.DeleteFunc(slices.Clone(s.Ports), func(p uint16) bool { return p == 0 })
	if len(s.Ports) > targets.MaxPorts {
		s.Ports = s.Ports[:targets.MaxPorts]
	}
	if m, err := probe.ParseMethod(string(s.Method)); err == nil {
		s.Method = m
	} else {
		s.Method = probe.Auto
	}
	if s.WatchInterval == 0 {
		s.WatchInterval = d.WatchInterval
	}
	s.WatchInterval = min(max(s.WatchInterval, targets.MinWatchInterval), targets.MaxWatchInterval)
	return s
}

// ParseWatchInterval reads the Watch switch's interval as the settings
// form takes it: a number of minutes ("5"), or a duration with its unit
// ("30s", "2h"), and checks it as `netscanner watch --interval` does.
func ParseWatchInterval(text string) (time.Duration, error) {
	text = strings.TrimSpace(text)
	d, err := time.ParseDuration(text)
	if err != nil {
		m, ferr := strconv.ParseFloat(text, 64)
		if ferr != nil || math.IsNaN(m) || math.Abs(m) > float64(targets.MaxWatchInterval/time.Minute)*2 {
			return 0, errors.New("watch interval " + strconv.Quote(text) + ": want a number of minutes, or a duration such as 30s or 2h")
		}
		d = time.Duration(m * float64(time.Minute))
	}
	return d, targets.CheckWatchInterval(d)
}

// ParseTimeoutMillis reads the timeout as the settings form takes it, a
// number of milliseconds, and checks it as the command line checks
// --timeout.
func ParseTimeoutMillis(text string) (time.Duration, error) {
	text = strings.TrimSpace(text)
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/int64(time.Millisecond) {
		return 0, errors.New("timeout " + strconv.Quote(text) + ": want a number of milliseconds from 1 to " +
			strconv.FormatInt(int64(targets.MaxTimeout/time.Millisecond), 10))
	}
	d := time.Duration(n) * time.Millisecond
	return d, targets.CheckTimeout(d)
}

// ParseRate reads the rate as the settings form takes it, requests per
// second, and checks it as the command line checks --rate.
func ParseRate(text string) (float64, error) {
	text = strings.TrimSpace(text)
	r, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return 0, errors.New("rate " + strconv.Quote(text) + ": want a number of requests per second")
	}
	return r, targets.CheckRate(r, false)
}

// File is the settings' form in the store file, JSON. Fields added later
// must read their zero (absent) value as their default: older files lack
// them.
type File struct {
	TimeoutMS int64    `json:"timeout_ms"`
	Retries   int      `json:"retries"`
	Rate      float64  `json:"rate"`
	Ports     []uint16 `json:"ports"`
	Method    string   `json:"method"`
	Lookups   *bool    `json:"lookups"`
	LinkLocal *bool    `json:"link_local"`
	// Identify is absent in files older than the switch: on.
	Identify *bool `json:"identify,omitempty"`
	// WatchIntervalS is the Watch switch's interval in seconds; 0
	// (absent) is the default.
	WatchIntervalS int64 `json:"watch_interval_s,omitempty"`
}

// FromFile reads settings from the store file, clamping what is out of
// range and taking the defaults for what is absent.
func FromFile(f File) Settings {
	s := Settings{
		Timeout: time.Duration(min(max(f.TimeoutMS, 0), int64(targets.MaxTimeout/time.Millisecond))) * time.Millisecond,
		Retries: f.Retries,
		Rate:    f.Rate,
		Ports:   f.Ports,
		Method:  probe.Method(f.Method),
		Lookups: f.Lookups == nil || *f.Lookups,
		// Absent (files written before the switch): on, the default.
		LinkLocal: f.LinkLocal == nil || *f.LinkLocal,
		Identify:  f.Identify == nil || *f.Identify,
		// Absent: 0, which Clamp makes the default.
		WatchInterval: time.Duration(min(max(f.WatchIntervalS, 0), int64(targets.MaxWatchInterval/time.Second))) * time.Second,
	}
	s = s.Clamp()
	if f.Ports == nil {
		s.Ports = scanner.DefaultPorts()
	}
	return s
}

// ToFile is the settings as the store file keeps them.
func (s Settings) ToFile() File {
	lookups, linkLocal, identify := s.Lookups, s.LinkLocal, s.Identify
	f := File{
		TimeoutMS: s.Timeout.Milliseconds(),
		Retries:   s.Retries,
		Rate:      s.Rate,
		Ports:     s.Ports,
		Method:    string(s.Method),
		Lookups:   &lookups,
		LinkLocal: &linkLocal,
		Identify:  &identify,

		WatchIntervalS: int64(s.WatchInterval / time.Second),
	}
	if f.Ports == nil {
		f.Ports = []uint16{}
	}
	return f
}
