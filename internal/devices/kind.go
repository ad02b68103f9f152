package devices

import (
	"strings"

	"netscanner/scanner"
)

// Kind is a guess at what sort of device a host is, from what a scan can
// see: its maker, its open ports and its names. It picks the row's icon.
type Kind int

// The kinds, in the order their icons are listed.
const (
	KindUnknown Kind = iota
	KindPhone
	KindComputer
	KindPrinter
	KindRouter
	KindTV
)

// String returns the kind as a word a user reads, and the name of its icon.
func (k Kind) String() string {
	switch k {
	case KindPhone:
		return "phone"
	case KindComputer:
		return "computer"
	case KindPrinter:
		return "printer"
	case KindRouter:
		return "router"
	case KindTV:
		return "tv"
	}
	return "unknown"
}

// Label returns the kind as the details page words it. Media players
// (speakers, streaming sticks) share the TV's icon and say so.
func (k Kind) Label() string {
	switch k {
	case KindTV:
		return "TV or media player"
	case KindUnknown:
		return "unknown"
	}
	return k.String()
}

// KindCount is the number of kinds, for arrays indexed by Kind.
const KindCount = int(KindTV) + 1

// clue is one piece of evidence: a word found in a name or a maker, and
// how strongly it points at a kind.
type clue struct {
	word   string
	kind   Kind
	weight int
}

// Name clues match anywhere in a lower-cased host name or label. Names are
// chosen by people and by vendors' defaults ("Johns-iPhone",
// "BRN30055C", "LGwebOSTV"), so they are the strongest evidence after the
// gateway flag.
var nameClues = []clue{
	{"iphone", KindPhone, 5}, {"ipad", KindPhone, 4}, {"android", KindPhone, 4},
	{"galaxy", KindPhone, 4}, {"pixel", KindPhone, 4}, {"phone", KindPhone, 4},
	{"oneplus", KindPhone, 4}, {"redmi", KindPhone, 4}, {"xiaomi", KindPhone, 2},

	{"macbook", KindComputer, 5}, {"imac", KindComputer, 5}, {"laptop", KindComputer, 5},
	{"desktop", KindComputer, 5}, {"-pc", KindComputer, 4}, {"workstation", KindComputer, 5},
	{"thinkpad", KindComputer, 5}, {"raspberrypi", KindComputer, 4},

	{"printer", KindPrinter, 6}, {"brn", KindPrinter, 3}, {"epson", KindPrinter, 4},
	{"laserjet", KindPrinter, 6}, {"officejet", KindPrinter, 6}, {"deskjet", KindPrinter, 6},
	{"canon", KindPrinter, 2}, {"mfc", KindPrinter, 3},

	{"router", KindRouter, 6}, {"gateway", KindRouter, 5}, {"fritz.box", KindRouter, 6},
	{"fritzbox", KindRouter, 6}, {"openwrt", KindRouter, 5}, {"unifi", KindRouter, 3},
	{"access-point", KindRouter, 5}, {"modem", KindRouter, 4},

	{"tv", KindTV, 3}, {"roku", KindTV, 6}, {"chromecast", KindTV, 6}, {"appletv", KindTV, 6},
	{"apple-tv", KindTV, 6}, {"firetv", KindTV, 6}, {"fire-tv", KindTV, 6}, {"bravia", KindTV, 6},
	{"webos", KindTV, 5}, {"shield", KindTV, 3}, {"tizen", KindTV, 4},
}

// Maker clues match anywhere in the lower-cased registry name of the MAC
// prefix. Many makers build several kinds (Apple, Samsung), so their weight
// is low and names or ports decide.
var makerClues = []clue{
	{"apple", KindPhone, 1}, {"samsung", KindPhone, 1}, {"xiaomi", KindPhone, 2},
	{"oneplus", KindPhone, 3}, {"oppo", KindPhone, 3}, {"vivo mobile", KindPhone, 3},
	{"motorola mobility", KindPhone, 3}, {"huawei device", KindPhone, 2}, {"google", KindPhone, 1},
	{"realme", KindPhone, 3}, {"fairphone", KindPhone, 3}, {"nothing technology", KindPhone, 3},

	{"dell", KindComputer, 3}, {"lenovo", KindComputer, 2}, {"intel corporate", KindComputer, 3},
	{"asustek", KindComputer, 2}, {"micro-star", KindComputer, 3}, {"giga-byte", KindComputer, 3},
	{"raspberry pi", KindComputer, 3}, {"vmware", KindComputer, 3}, {"synology", KindComputer, 3},
	{"qnap", KindComputer, 3}, {"framework computer", KindComputer, 3}, {"realtek", KindComputer, 1},

	{"brother", KindPrinter, 4}, {"canon", KindPrinter, 3}, {"seiko epson", KindPrinter, 4},
	{"lexmark", KindPrinter, 4}, {"kyocera", KindPrinter, 4}, {"xerox", KindPrinter, 4},
	{"ricoh", KindPrinter, 4}, {"hewlett packard", KindPrinter, 1}, {"zebra", KindPrinter, 3},

	{"ubiquiti", KindRouter, 4}, {"mikrotik", KindRouter, 4}, {"routerboard", KindRouter, 4},
	{"netgear", KindRouter, 3}, {"tp-link", KindRouter, 2}, {"avm", KindRouter, 4},
	{"zyxel", KindRouter, 3}, {"cisco", KindRouter, 2}, {"juniper", KindRouter, 3},
	{"arris", KindRouter, 3}, {"technicolor", KindRouter, 3}, {"sagemcom", KindRouter, 3},
	{"eero", KindRouter, 4}, {"d-link", KindRouter, 2}, {"linksys", KindRouter, 3},

	{"roku", KindTV, 5}, {"vizio", KindTV, 5}, {"tcl", KindTV, 3}, {"hisense", KindTV, 4},
	{"lg electronics", KindTV, 2}, {"sony", KindTV, 2}, {"sonos", KindTV, 2}, {"philips", KindTV, 1},
	{"amazon technologies", KindTV, 2}, {"nvidia", KindTV, 1},
}

// portClues: services that mostly one kind of device offers.
var portClues = map[uint16]clue{
	9100:  {kind: KindPrinter, weight: 5},  // raw printing (JetDirect)
	631:   {kind: KindPrinter, weight: 4},  // IPP
	515:   {kind: KindPrinter, weight: 4},  // LPD
	62078: {kind: KindPhone, weight: 5},    // iOS device sync (lockdownd)
	8008:  {kind: KindTV, weight: 4},       // Chromecast / Google Cast
	8009:  {kind: KindTV, weight: 4},       // Google Cast control
	7000:  {kind: KindTV, weight: 2},       // AirPlay
	8060:  {kind: KindTV, weight: 5},       // Roku ECP
	3389:  {kind: KindComputer, weight: 4}, // remote desktop
	5900:  {kind: KindComputer, weight: 2}, // VNC
	22:    {kind: KindComputer, weight: 2}, // ssh
	445:   {kind: KindComputer, weight: 3}, // SMB file sharing
	139:   {kind: KindComputer, weight: 2}, // NetBIOS session
	548:   {kind: KindComputer, weight: 3}, // AFP file sharing
	53:    {kind: KindRouter, weight: 3},   // DNS forwarder
	1900:  {kind: KindRouter, weight: 1},   // UPnP
}

// minScore is the evidence needed before a guess is shown: one weak hint,
// such as the maker Apple, is not enough to call a host a phone.
const minScore = 2

// GuessKind returns the most likely kind of h. label is the user's own
// name for it, if any; mobile says whether this app runs on a phone, which
// decides what "this machine" is. A tie, or too little evidence, is
// KindUnknown: a wrong icon misleads more than a question mark.
func GuessKind(h *scanner.Host, label string, mobile bool) Kind {
	if h.Self {
		if mobile {
			return KindPhone
		}
		return KindComputer
	}
	if h.Gateway {
		return KindRouter
	}
	var score [KindCount]int
	names := strings.ToLower(h.Hostname + " " + label)
	for _, c := range nameClues {
		if strings.Contains(names, c.word) {
			score[c.kind] += c.weight
		}
	}
	maker := strings.ToLower(h.Vendor)
	for _, c := range makerClues {
		if strings.Contains(maker, c.word) {
			score[c.kind] += c.weight
		}
	}
	for _, p := range h.Ports {
		if c, ok := portClues[p.Number]; ok {
			score[c.kind] += c.weight
		}
	}
	best, tie := KindUnknown, false
	for k := KindPhone; int(k) < KindCount; k++ {
		switch {
		case score[k] > score[best]:
			best, tie = k, false
		case score[k] == score[best] && best != KindUnknown:
			tie = true
		}
	}
	if tie || score[best] < minScore {
		return KindUnknown
	}
	return best
}
