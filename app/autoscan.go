package app

import (
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"netscanner/internal/backend"
	"netscanner/scanner"
)

// Environment variables that set Options without a person at the window:
// screenshots, confinement tests and packaged launchers use them. See
// OptionsFromEnv.
const (
	// EnvAutoscan starts a scan as soon as the window shows: targets as
	// typed into the target field, or "auto" for the detected networks.
	EnvAutoscan = "NETSCANNER_AUTOSCAN"
	// EnvSelect opens one host's details as soon as a scan finds it.
	EnvSelect = "NETSCANNER_SELECT"
	// EnvPhone ("1", "true"...) forces the one-column phone layout, for a
	// phone whose build uses the desktop driver.
	EnvPhone = "NETSCANNER_PHONE"
	// EnvTrace ("1", "true"...) prints a line on stderr when a scan
	// starts and ends and when details open, for scripts to wait on.
	EnvTrace = "NETSCANNER_TRACE"
	// EnvAway ("1"...) shows the known devices that are absent in the
	// list at start (Options.ShowAway).
	EnvAway = "NETSCANNER_AWAY"
	// EnvHistory ("1"...) scrolls EnvSelect's details to the device's
	// history when the scan ends (Options.ShowHistory).
	EnvHistory = "NETSCANNER_HISTORY"
)

// AutoscanNetworks as Options.Autoscan scans the detected networks, as
// Scan does with the target field empty.
const AutoscanNetworks = "auto"

// tracePrefix starts every trace line, so a script can tell them from
// other output.
const tracePrefix = "netscanner: trace: "

// OptionsFromEnv reads EnvAutoscan, EnvSelect, EnvPhone and EnvTrace
// through getenv (os.Getenv in Run). Trace lines go to stderr. A value
// that makes no sense is an error naming the variable, so a script that
// mistypes one learns it at once instead of waiting for a scan that never
// starts. Targets are checked offline: names are looked up by the scan.
func OptionsFromEnv(getenv func(string) string, stderr io.Writer) (Options, error) {
	var opts Options
	flag := func(name string) (bool, error) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return false, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("%s=%q: want 1 or 0: %w", name, v, strconv.ErrSyntax)
		}
		return b, nil
	}
	var err error
	if opts.Phone, err = flag(EnvPhone); err != nil {
		return Options{}, err
	}
	trace, err := flag(EnvTrace)
	if err != nil {
		return Options{}, err
	}
	if trace {
		opts.Trace = stderr
	}
	if opts.ShowAway, err = flag(EnvAway); err != nil {
		return Options{}, err
	}
	if opts.ShowHistory, err = flag(EnvHistory); err != nil {
		return Options{}, err
	}
	if v := strings.TrimSpace(getenv(EnvAutoscan)); v != "" {
		if strings.EqualFold(v, AutoscanNetworks) {
			v = AutoscanNetworks
		} else if c := backend.CheckTargets(v, nil); c.Err != nil {
			return Options{}, fmt.Errorf("%s: %w", EnvAutoscan, c.Err)
		}
		opts.Autoscan = v
	}
	if v := strings.TrimSpace(getenv(EnvSelect)); v != "" {
		a, err := netip.ParseAddr(v)
		if err != nil {
			return Options{}, fmt.Errorf("%s: %w", EnvSelect, err)
		}
		opts.Select = a.Unmap()
	}
	return opts, nil
}

// trace writes one line to Options.Trace, if there is one.
func (u *UI) trace(format string, args ...any) {
	if u.opts.Trace != nil {
		fmt.Fprintf(u.opts.Trace, tracePrefix+format+"\n", args...)
	}
}

// autoscan starts the scan Options.Autoscan asks for, once: as if the
// user had typed the targets and tapped Scan. It runs when the networks
// are known, so "auto" has something to scan.
func (u *UI) autoscan() {
	spec := u.opts.Autoscan
	if spec == "" || u.run != nil {
		return
	}
	u.opts.Autoscan = ""
	if spec == AutoscanNetworks {
		spec = ""
	}
	u.w.targets.SetText(spec)
	// Say now why startScan will refuse: once it has started a worker,
	// the UI's state belongs to that worker's fyne.Do calls (Fyne's test
	// driver runs them on the worker's goroutine).
	var why error
	if spec == "" {
		_, why = scanner.DefaultTargets(u.networks)
	} else {
		why = backend.CheckTargets(spec, u.networks).Err
	}
	if why != nil {
		u.trace("scan not started: %v", why)
	} else {
		u.trace("scan started: %s", orWord(spec, "this network"))
	}
	u.startScan()
}

// selectWanted opens the details of Options.Select once the scan has
// found it; the user may close them afterwards.
func (u *UI) selectWanted() {
	a := u.opts.Select
	if !a.IsValid() {
		return
	}
	if _, _, ok := u.model.Find(a); !ok {
		return
	}
	u.opts.Select = netip.Addr{}
	if u.selected != a {
		u.openDetails(a)
	}
	u.trace("details open: %s", a)
}

// traceScanEnd tells a script that the scan is over, and how it went.
func (u *UI) traceScanEnd() {
	u.trace("scan finished: %s", u.w.status.Text)
}

func orWord(s, word string) string {
	if s == "" {
		return word
	}
	return s
}
