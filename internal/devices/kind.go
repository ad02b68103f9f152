package devices

import (
	"netscanner/scanner"
	"netscanner/scanner/identify"
)

// Kind is what sort of device a row is; package identify decides it
// (its rules file is the one home of kind guessing) and it picks the
// row's icon.
type Kind = identify.Kind

// The kinds a row's icon and words follow; identify.Kinds lists them all.
const (
	KindUnknown  = identify.KindUnknown
	KindPhone    = identify.KindPhone
	KindComputer = identify.KindComputer
	KindPrinter  = identify.KindPrinter
	KindRouter   = identify.KindRouter
	KindTV       = identify.KindTV
)

// KindCount is the number of kinds, for arrays indexed by Kind.
const KindCount = identify.NumKinds

// Identify says what h is: its kind, model and friendly name and the
// evidence. label is the user's own name for it, if any; mobile says
// whether this app runs on a phone, which decides what "this machine" is.
// The identity the scan worked out is reused when neither changes it.
func Identify(h *scanner.Host, label string, mobile bool) identify.Identity {
	if label == "" && !(mobile && h.Self) && len(h.Identity.Evidence) > 0 {
		return h.Identity
	}
	return identify.Identify(h.IdentityFacts(label, mobile))
}
