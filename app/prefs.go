package app

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"netscanner/icmpsock"
	"netscanner/scanner"
)

// Settings are the scan options a user can change. They persist in the
// store between runs.
type Settings struct {
	Timeout time.Duration   // wait for a host's answer after its last request
	Retries int             // more requests for a silent host
	Rate    float64         // requests per second, whole scan
	Ports   []uint16        // TCP ports looked for on live hosts
	Method  icmpsock.Method // Auto, or a method to force
	Lookups bool            // look up host names
}

// Limits on settings. Values outside are clamped when loaded and refused
// when typed.
const (
	minTimeout = 50 * time.Millisecond
	maxTimeout = 30 * time.Second
	maxRetries = 10
	minRate    = 1
	maxRate    = 100000
	maxPorts   = 256
)

// DefaultPorts are the ports the scanner's enrichment tries by default.
func DefaultPorts() []uint16 { return scanner.DefaultPorts() }

// DefaultSettings match the command line's defaults.
func DefaultSettings() Settings {
	c := scanner.DefaultConfig()
	return Settings{
		Timeout: c.Timeout,
		Retries: c.Retries,
		Rate:    c.Rate,
		Ports:   DefaultPorts(),
		Method:  icmpsock.Auto,
		Lookups: true,
	}
}

// Config returns the scanner configuration for these settings.
func (s Settings) Config() scanner.Config {
	c := scanner.DefaultConfig()
	c.Timeout = s.Timeout
	c.Retries = s.Retries
	c.Rate = s.Rate
	// Enrichment learns names, MACs, makers and open ports; IPv6
	// link-local neighbours come along, as on the command line.
	c.Enrich = &scanner.Enrich{Names: s.Lookups, Ports: s.Ports, LinkLocal: true}
	return c
}

// Check reports the first setting out of range, in words for the settings
// form.
func (s Settings) Check() error {
	switch {
	case s.Timeout < minTimeout || s.Timeout > maxTimeout:
		return fmt.Errorf("timeout must be between %v and %v", minTimeout, maxTimeout)
	case s.Retries < 0 || s.Retries > maxRetries:
		return fmt.Errorf("retries must be between 0 and %d", maxRetries)
	case !(s.Rate >= minRate && s.Rate <= maxRate): // also refuses NaN
		return fmt.Errorf("rate must be between %d and %d requests a second", minRate, maxRate)
	case len(s.Ports) > maxPorts:
		return fmt.Errorf("at most %d ports", maxPorts)
	}
	if _, err := icmpsock.ParseMethod(string(s.Method)); err != nil {
		return err
	}
	return nil
}

// clamp brings every setting into range, replacing what cannot be
// repaired with its default. It is how settings read from disk are
// trusted.
func (s Settings) clamp() Settings {
	d := DefaultSettings()
	if s.Timeout <= 0 {
		s.Timeout = d.Timeout
	}
	s.Timeout = min(max(s.Timeout, minTimeout), maxTimeout)
	s.Retries = min(max(s.Retries, 0), maxRetries)
	if !(s.Rate >= minRate) { // NaN, zero, negative
		s.Rate = d.Rate
	}
	s.Rate = min(s.Rate, maxRate)
	if len(s.Ports) > maxPorts {
		s.Ports = s.Ports[:maxPorts]
	}
	s.Ports = slices.DeleteFunc(slices.Clone(s.Ports), func(p uint16) bool { return p == 0 })
	if m, err := icmpsock.ParseMethod(string(s.Method)); err == nil {
		s.Method = m
	} else {
		s.Method = icmpsock.Auto
	}
	return s
}

// ParsePorts reads a port list as a user types it: numbers and ranges
// separated by commas or spaces, such as "22, 80, 8000-8010". The result is
// sorted and free of duplicates.
func ParsePorts(text string) ([]uint16, error) {
	var out []uint16
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		lo, hi, isRange := strings.Cut(f, "-")
		a, err := parsePort(lo)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = parsePort(hi); err != nil {
				return nil, err
			}
			if b < a {
				return nil, fmt.Errorf("port range %q runs backwards", f)
			}
		}
		if int(b-a)+1+len(out) > maxPorts {
			return nil, fmt.Errorf("at most %d ports", maxPorts)
		}
		for p := int(a); p <= int(b); p++ {
			out = append(out, uint16(p))
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		if s == "" {
			return 0, errors.New("a port range needs a number on each side of '-'")
		}
		return 0, fmt.Errorf("%q is not a port (1-65535)", s)
	}
	return uint16(n), nil
}

// FormatPorts writes ports back in the form ParsePorts reads, joining runs
// into ranges.
func FormatPorts(ports []uint16) string {
	var b strings.Builder
	for i := 0; i < len(ports); {
		j := i
		for j+1 < len(ports) && ports[j+1] == ports[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(int(ports[i])))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(int(ports[j])))
		}
		i = j + 1
	}
	return b.String()
}
