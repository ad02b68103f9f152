package identify

import (
	"fmt"
)

// Kind is what sort of device a host is.
type Kind int

// The kinds, in the order the app lists their icons. The zero value is
// KindUnknown.
const (
	KindUnknown Kind = iota
	KindPhone
	KindTablet
	KindComputer
	KindLaptop
	KindPrinter
	KindRouter
	KindAccessPoint
	KindTV
	KindStreamingStick
	KindSpeaker
	KindCamera
	KindNAS
	KindGameConsole
	KindSmartHomeHub
	KindIoT
	kindCount
)

// NumKinds is the number of kinds, for arrays indexed by Kind.
const NumKinds = int(kindCount)

// kindNames are the kinds' names in JSON, in the rules file and in the
// device icons' file names; kindLabels are the words a user reads.
var (
	kindNames = [kindCount]string{
		"unknown", "phone", "tablet", "computer", "laptop", "printer", "router",
		"access-point", "tv", "streaming-stick", "speaker", "camera", "nas",
		"game-console", "smart-home-hub", "iot",
	}
	kindLabels = [kindCount]string{
		"unknown", "phone", "tablet", "computer", "laptop", "printer", "router",
		"access point", "TV", "streaming stick", "speaker", "camera", "NAS",
		"game console", "smart-home hub", "IoT device",
	}
	// kindParents: evidence for a general kind also supports the more
	// specific kinds under it (a computer's ssh port says nothing
	// against its being a laptop or a NAS), and the specific kind wins
	// when it has evidence of its own.
	kindParents = [kindCount]Kind{
		KindTablet:         KindPhone,
		KindLaptop:         KindComputer,
		KindNAS:            KindComputer,
		KindAccessPoint:    KindRouter,
		KindStreamingStick: KindTV,
		KindCamera:         KindIoT,
		KindSmartHomeHub:   KindIoT,
	}
)

// Kinds returns every kind, KindUnknown first.
func Kinds() []Kind {
	out := make([]Kind, kindCount)
	for i := range out {
		out[i] = Kind(i)
	}
	return out
}

// String returns the kind's name in JSON and in the rules file, such as
// "streaming-stick"; it is also the name of the kind's device icon.
func (k Kind) String() string {
	if k < 0 || k >= kindCount {
		return kindNames[KindUnknown]
	}
	return kindNames[k]
}

// Label returns the kind as a user reads it, such as "streaming stick".
func (k Kind) Label() string {
	if k < 0 || k >= kindCount {
		return kindLabels[KindUnknown]
	}
	return kindLabels[k]
}

// Parent returns the more general kind k is a special case of (a
// laptop's is computer), or KindUnknown.
func (k Kind) Parent() Kind {
	if k < 0 || k >= kindCount {
		return KindUnknown
	}
	return kindParents[k]
}

// related reports whether a and b are the same kind or one is the
// other's parent.
func related(a, b Kind) bool {
	return a == b || a.Parent() == b || b.Parent() == a
}

// ParseKind reads a kind's name, as String writes it.
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), nil
		}
	}
	return KindUnknown, fmt.Errorf("identify: no kind %q", s)
}

// MarshalText writes the kind's name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}
