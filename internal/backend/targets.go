package backend

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"

	"netscanner/scanner"
	"netscanner/scanner/targets"
)

// TargetCheck is what checking the target field found.
type TargetCheck struct {
	Err     error    // why the targets are refused: a *targets.Error, in the command line's words
	Count   int      // addresses, when known
	Pending bool     // host names wait for the scan to be looked up
	Notes   []string // how the input was understood
}

// errNoLookup stops a name lookup during validation: typing must not send
// anything.
var errNoLookup = errors.New("not looked up while typing")

// TargetOptions are the targets.Options of a scan from the app on nets,
// this machine's networks: their broadcast addresses are never swept, and
// a broadcast or multicast address alone is refused (the app has no
// --allow-broadcast).
func TargetOptions(nets []scanner.Network) targets.Options {
	return targets.Options{Networks: scanner.Prefixes(nets)}
}

// CheckTargets checks what the user typed in the target field as
// targets.Parse does for `netscanner scan`, without touching the network:
// names are answered from the hosts file at most, and a name that would
// need DNS is left for the scan (Pending).
func CheckTargets(spec string, nets []scanner.Network) TargetCheck {
	var dialed atomic.Bool
	opt := TargetOptions(nets)
	opt.Resolver = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		dialed.Store(true)
		return nil, errNoLookup
	}}
	t, err := targets.Parse(context.Background(), []string{spec}, opt)
	var te *targets.Error
	if err != nil && dialed.Load() && errors.As(err, &te) && te.Input != "" && strings.HasPrefix(te.Reason, "does not resolve") {
		return TargetCheck{Pending: true}
	}
	if err != nil {
		return TargetCheck{Err: err}
	}
	return TargetCheck{Count: t.Len(), Notes: t.Notes()}
}
