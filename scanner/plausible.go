package scanner

// TCP answers that prove nothing.
//
// The tcp method counts an accepted connect (tcp-open) as a live host. A
// captive portal or a transparent proxy on the way accepts every SYN for
// every address behind it, itself: a sweep through one finds every address
// "up", each in the time the proxy takes to answer, which is the same for
// all of them. Devices do not look like that: most refuse connects to
// ports they do not serve (tcp-rst), and those that accept are a minority
// of a network's addresses.
//
// So a sweep by the tcp method holds back the hosts it finds by tcp-open
// until it can tell. As soon as enough of those held (tcpOpenEarly) show
// timings that differ, they are real and go out, and so does every later
// one; otherwise they wait for the sweep's end. There, if more than tcpOpenShare of the addresses
// scanned (and at least tcpOpenMin) answered by tcp-open alone, in nearly
// the same time, they are reported flagged Implausible, with a Note, and
// left out of Summary.Alive; the Summary says why. Hosts found any other
// way (an echo reply, a reset) are never held.

import (
	"fmt"
	"slices"
	"time"

	"netscanner/probe"
)

// Thresholds of the verdict.
const (
	// tcpOpenShare is the share of a sweep's addresses answering by
	// tcp-open above which the answers are suspect: on a real network
	// most addresses are empty, and most devices refuse most ports.
	tcpOpenShare = 0.5
	// tcpOpenMin is the fewest tcp-open hosts that can be suspect: a
	// handful of addresses may all be servers.
	tcpOpenMin = 8
	// tcpOpenSpread and tcpOpenSpreadRel bound "nearly the same time":
	// the middle half of the connect times (25th to 75th percentile)
	// within 2 ms plus half their median. One proxy answers every
	// connect from the same place; devices on a LAN differ by more
	// (Wi-Fi by milliseconds, sleeping phones by hundreds). The middle
	// half, not the whole range, so that the few connects a busy machine
	// times late do not make one proxy look like many devices.
	tcpOpenSpread    = 2 * time.Millisecond
	tcpOpenSpreadRel = 0.5
	// tcpOpenEarly is how many held hosts it takes to release them early
	// on their timings: enough that a few late measurements cannot.
	tcpOpenEarly = 2 * tcpOpenMin
)

// ImplausibleHostNote is the Note of a host flagged Implausible.
const ImplausibleHostNote = "not a device: accepted a TCP connect as nearly every address scanned did, " +
	"in the same time; a captive portal or transparent proxy on the way answers for all of them"

// tcpJudge holds back one sweep's tcp-open hosts until it can say whether
// they are devices. It belongs to the sweep's receiver goroutine.
type tcpJudge struct {
	total    int    // addresses in the sweep
	held     []Host // tcp-open hosts not yet reported
	released bool   // their timings differ: report as they come
}

// newTCPJudge returns the judge of a sweep of total addresses by method,
// or nil when there is nothing to judge: only the tcp method counts
// accepted connects as hosts, and fewer than tcpOpenMin addresses can
// never be suspect.
func newTCPJudge(method probe.Method, total int) *tcpJudge {
	if method != probe.TCP || total < tcpOpenMin {
		return nil
	}
	return &tcpJudge{total: total}
}

// admit takes a host the sweep found and returns the hosts to report now:
// h itself unless it is held back, and every host held so far once their
// timings show that they are devices.
func (j *tcpJudge) admit(h Host) []Host {
	if j == nil || j.released || h.Reason != ReasonTCPOpen {
		return []Host{h}
	}
	j.held = append(j.held, h)
	if len(j.held) >= tcpOpenEarly && !sameTiming(j.held) {
		j.released = true
		out := j.held
		j.held = nil
		return out
	}
	return nil
}

// finish gives the verdict at the sweep's end: the hosts still held, each
// flagged Implausible with its Note when they are suspect, how many are,
// and the Summary's note ("" when none are).
func (j *tcpJudge) finish() (hosts []Host, implausible int, note string) {
	if j == nil || len(j.held) == 0 {
		return nil, 0, ""
	}
	hosts, j.held = j.held, nil
	n := len(hosts)
	if n < tcpOpenMin || float64(n) <= tcpOpenShare*float64(j.total) || !sameTiming(hosts) {
		return hosts, 0, ""
	}
	for i := range hosts {
		hosts[i].Implausible = true
		hosts[i].Note = ImplausibleHostNote
	}
	note = fmt.Sprintf("%d of %d addresses accepted TCP connects, all in about %v: a captive portal or transparent proxy "+
		"on the way answers for every address, so none of them counts as a device", n, j.total, medianRTT(hosts).Round(10*time.Microsecond))
	return hosts, n, note
}

// sameTiming tells whether the middle half of the hosts' round trips
// lies within tcpOpenSpread + tcpOpenSpreadRel of their median.
func sameTiming(hs []Host) bool {
	rtts := rttsOf(hs)
	n := len(rtts) - 1
	lo, mid, hi := rtts[n/4], rtts[n/2], rtts[n*3/4]
	return hi-lo <= tcpOpenSpread+time.Duration(tcpOpenSpreadRel*float64(mid))
}

func medianRTT(hs []Host) time.Duration {
	rtts := rttsOf(hs)
	return rtts[len(rtts)/2]
}

// rttsOf returns the hosts' round trips, sorted; hs is not empty.
func rttsOf(hs []Host) []time.Duration {
	rtts := make([]time.Duration, len(hs))
	for i, h := range hs {
		rtts[i] = h.RTT
	}
	slices.Sort(rtts)
	return rtts
}
