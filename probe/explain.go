package probe

import (
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// ErrNotTried is the openErr to hand Explain for a method that was not
// opened (Open stops at the first method that works). Explain then predicts
// the verdict from the Facts alone and says so.
var ErrNotTried = errors.New("not tried")

// maxGID is the top of the widest ping_group_range the kernel accepts.
const maxGID = 2147483647

// Explain turns the outcome of opening method m (openErr, nil when it
// opened) and the facts about this process into a verdict a user can act
// on: why the method works, or what is missing and the command that would
// enable it. It is pure: it looks at nothing but its arguments.
func Explain(f Facts, m Method, openErr error) MethodStatus {
	var st MethodStatus
	switch m {
	case Dgram:
		st = explainDgram(f, openErr)
	case Raw:
		st = explainRaw(f, openErr)
	case Exec:
		st = explainExec(f, openErr)
	case TCP:
		st = explainTCP(openErr)
	default:
		st = MethodStatus{Reason: fmt.Sprintf("unknown method %q (want dgram, raw, exec or tcp)", string(m))}
	}
	st.Method = m
	var me *MethodError
	if !st.OK && st.Fix == "" && errors.As(openErr, &me) {
		st.Fix = me.Fix // the constructor may know a step that the facts do not show
	}
	if st.OK {
		st.Fix = "" // nothing to enable
	}
	if errors.Is(openErr, ErrNotTried) {
		verdict := "would fail"
		if st.OK {
			verdict = "would work"
		}
		st.Reason = "not tried; " + verdict + ": " + st.Reason
	}
	return st
}

// verdict applies a prediction from the facts to the real outcome: a
// method that opened works whatever the facts said, and one that was not
// tried keeps the prediction.
func verdict(predicted bool, openErr error) (ok, tried bool) {
	tried = !errors.Is(openErr, ErrNotTried)
	if !tried {
		return predicted, false
	}
	return openErr == nil, true
}

func explainDgram(f Facts, openErr error) MethodStatus {
	g, inRange := groupInRange(f)
	ok, tried := verdict(inRange, openErr)
	rng := formatRange(f.PingGroupRange)
	switch {
	case ok && inRange:
		return MethodStatus{OK: true, Reason: fmt.Sprintf("your group %d is inside ping_group_range %s", g, rng)}
	case ok:
		return MethodStatus{OK: true, Reason: "the kernel allows ICMP datagram sockets to this process"}
	case tried && isNoSupport(openErr):
		return MethodStatus{Reason: "this kernel has no ICMP datagram sockets (" + errText(openErr) + ")"}
	case tried && errors.Is(openErr, syscall.EPERM):
		return MethodStatus{Reason: "a sandbox or security policy (seccomp, SELinux, AppArmor) forbids ICMP datagram sockets (" + errText(openErr) + ")"}
	case f.RangeErr != nil:
		reason := fmt.Sprintf("cannot tell whether ICMP datagram sockets are allowed: %v", f.RangeErr)
		if tried {
			reason = fmt.Sprintf("could not open an ICMP datagram socket (%s), and %v", errText(openErr), f.RangeErr)
		}
		st := MethodStatus{Reason: reason}
		if tried && errors.Is(openErr, syscall.EACCES) {
			st.Fix = dgramFix([2]int64{1, 0}, f.EGID)
		}
		return st
	case inRange && tried && errors.Is(openErr, syscall.EACCES):
		return MethodStatus{Reason: fmt.Sprintf(
			"the kernel refused an ICMP datagram socket although your group %d is inside ping_group_range %s; a security policy (SELinux, AppArmor, seccomp) may forbid it", g, rng)}
	case inRange && tried:
		return MethodStatus{Reason: "could not open an ICMP datagram socket: " + errText(openErr)}
	}

	state := "off"
	if f.PingGroupRange[0] <= f.PingGroupRange[1] {
		state = "limited to other groups"
	}
	groups := allGroups(f)
	reason := fmt.Sprintf("ICMP datagram sockets are %s: net.ipv4.ping_group_range is '%s' and your %s",
		state, rng, describeGroups(groups))
	return MethodStatus{Reason: reason, Fix: dgramFix(f.PingGroupRange, f.EGID)}
}

// dgramFix proposes the sysctl that opens ICMP datagram sockets: to every
// group, as systemd does by default, or narrowly to the user's own group.
func dgramFix(cur [2]int64, gid int) string {
	lo, hi := int64(gid), int64(gid)
	if cur[0] <= cur[1] { // widen the existing range rather than replace it
		lo, hi = min(lo, cur[0]), max(hi, cur[1])
	}
	return fmt.Sprintf("sudo sysctl -w net.ipv4.ping_group_range='0 %d' (or '%d %d' to cover only your group); "+
		"to keep it after a reboot, put net.ipv4.ping_group_range = 0 %d in a file under /etc/sysctl.d/",
		maxGID, lo, hi, maxGID)
}

func explainRaw(f Facts, openErr error) MethodStatus {
	ok, tried := verdict(f.CapNetRaw, openErr)
	switch {
	case ok && f.EUID == 0 && f.CapNetRaw:
		return MethodStatus{OK: true, Reason: "running as root"}
	case ok && f.CapNetRaw:
		return MethodStatus{OK: true, Reason: "CAP_NET_RAW held"}
	case ok:
		return MethodStatus{OK: true, Reason: "the kernel allows raw ICMP sockets to this process"}
	case tried && isNoSupport(openErr):
		return MethodStatus{Reason: "this kernel offers no raw ICMP sockets (" + errText(openErr) + ")"}
	case f.CapNetRaw && tried && isDenied(openErr):
		return MethodStatus{Reason: "the kernel refused a raw socket although CAP_NET_RAW is held; a security policy (SELinux, AppArmor, seccomp) may forbid it"}
	case f.CapNetRaw && tried:
		return MethodStatus{Reason: "could not open a raw ICMP socket: " + errText(openErr)}
	case tried && !isDenied(openErr):
		return MethodStatus{Reason: "could not open a raw ICMP socket: " + errText(openErr)}
	case f.EUID == 0:
		return MethodStatus{
			Reason: "running as root, but without CAP_NET_RAW (a container or sandbox dropped it)",
			Fix:    "grant the process CAP_NET_RAW (for a container: --cap-add=NET_RAW)",
		}
	}

	reason := "raw sockets need root or CAP_NET_RAW, and this process has neither"
	exe := f.Executable
	if exe == "" {
		exe = "/path/to/netscanner"
	}
	fix := "run as root, or: sudo setcap cap_net_raw+ep " + exe
	switch {
	case !f.CapNetRawBounding:
		reason += "; its capability bounding set lacks CAP_NET_RAW too (a confined or sandboxed app), so no file capability can grant it"
		fix = ""
	case f.NoNewPrivs:
		reason += "; no_new_privs is set, so a file capability on this program would be ignored"
		fix = "run as root"
	}
	return MethodStatus{Reason: reason, Fix: fix}
}

func explainExec(f Facts, openErr error) MethodStatus {
	tried := !errors.Is(openErr, ErrNotTried)
	if f.PingPath == "" || (tried && isNotFound(openErr)) {
		if tried && openErr == nil {
			return MethodStatus{OK: true, Reason: "the ping binary works here"}
		}
		return MethodStatus{
			Reason: "no ping binary found (looked for /bin/ping, /usr/bin/ping and ping on PATH)",
			Fix:    "install iputils ping (Debian, Ubuntu: sudo apt install iputils-ping)",
		}
	}
	p := f.PingPath
	why, works := execPrediction(f)
	ok, _ := verdict(works, openErr)
	switch {
	case ok && works:
		return MethodStatus{OK: true, Reason: why}
	case ok:
		return MethodStatus{OK: true, Reason: p + " works here"}
	case tried && errors.Is(openErr, ErrPingRejected):
		// The probe quotes the command line and what ping said to it;
		// no privilege would change that.
		return MethodStatus{Reason: errText(openErr)}
	case tried && errors.Is(openErr, ErrPingDenied) && strings.Contains(errText(openErr), "SOCK_DGRAM"):
		// toybox: datagram sockets only, whatever privilege it has.
		return MethodStatus{
			Reason: p + " opens ICMP datagram sockets only, and they are closed to it (" + errText(openErr) + ")",
			Fix:    dgramFix(f.PingGroupRange, f.EGID),
		}
	case works && tried:
		// The facts promised success, so ping's own words say most.
		return MethodStatus{Reason: p + " failed: " + errText(openErr)}
	}

	switch {
	case f.PingCapRaw && !f.CapNetRawBounding && !f.NoNewPrivs:
		return MethodStatus{Reason: p + " has the cap_net_raw file capability but this process's capability bounding set lacks CAP_NET_RAW (a confined or sandboxed app), so it cannot run"}
	case f.NoNewPrivs && f.PingSetuid:
		return MethodStatus{
			Reason: "no_new_privs is set, so the setuid bit of " + p + " is ignored",
			Fix:    "run netscanner outside the sandbox that sets no_new_privs, or enable ICMP datagram sockets (see dgram)",
		}
	case f.NoNewPrivs && f.PingCapRaw:
		return MethodStatus{
			Reason: "no_new_privs is set, so the cap_net_raw file capability of " + p + " is ignored",
			Fix:    "run netscanner outside the sandbox that sets no_new_privs, or enable ICMP datagram sockets (see dgram)",
		}
	case !f.PingSetuid && !f.PingCapRaw:
		return MethodStatus{
			Reason: p + " has neither the setuid bit nor the cap_net_raw file capability, and ICMP datagram sockets are off",
			Fix:    "sudo setcap cap_net_raw+ep " + p,
		}
	}
	reason := p + " cannot send echo requests here"
	if tried {
		reason += ": " + errText(openErr)
	}
	return MethodStatus{Reason: reason}
}

// execPrediction says whether the ping binary should work, from the facts,
// and why.
func execPrediction(f Facts) (why string, works bool) {
	p := f.PingPath
	g, dgramOK := groupInRange(f)
	// A file capability whose permitted set the bounding set cannot
	// grant makes the kernel refuse to exec the file at all (EPERM), unless
	// no_new_privs makes it ignore the capability.
	execRefused := f.PingCapRaw && !f.CapNetRawBounding && !f.NoNewPrivs
	switch {
	case execRefused:
		return "", false
	case f.EUID == 0 && f.CapNetRawBounding:
		return p + " runs as root, like this process", true
	case f.PingCapRaw && f.CapNetRawBounding && !f.NoNewPrivs:
		return p + " has cap_net_raw", true
	case f.PingSetuid && !f.NoNewPrivs:
		return p + " is setuid root", true
	case dgramOK:
		return fmt.Sprintf("%s uses ICMP datagram sockets: your group %d is inside ping_group_range %s",
			p, g, formatRange(f.PingGroupRange)), true
	}
	return "", false
}

func explainTCP(openErr error) MethodStatus {
	if openErr != nil && !errors.Is(openErr, ErrNotTried) {
		return MethodStatus{Reason: "could not make TCP connections: " + errText(openErr)}
	}
	return MethodStatus{OK: true, Reason: "always possible: an accepted or refused TCP connect proves a host up, " +
		"but it is slower than ICMP and misses hosts that filter every probed port"}
}

// groupInRange returns the first of the process's groups (effective gid
// first, as the kernel checks it first) inside ping_group_range.
func groupInRange(f Facts) (int, bool) {
	if f.RangeErr != nil {
		return 0, false
	}
	for _, g := range allGroups(f) {
		if int64(g) >= f.PingGroupRange[0] && int64(g) <= f.PingGroupRange[1] {
			return g, true
		}
	}
	return 0, false
}

// allGroups is the effective gid followed by the supplementary groups
// not equal to it.
func allGroups(f Facts) []int {
	gs := []int{f.EGID}
	for _, g := range f.Groups {
		if g != f.EGID {
			gs = append(gs, g)
		}
	}
	return gs
}

func describeGroups(gs []int) string {
	s := make([]string, len(gs))
	for i, g := range gs {
		s[i] = strconv.Itoa(g)
	}
	if len(gs) == 1 {
		return "group is " + s[0]
	}
	return "groups are " + strings.Join(s, ",")
}

func formatRange(r [2]int64) string { return fmt.Sprintf("%d %d", r[0], r[1]) }

func isDenied(err error) bool {
	return errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES)
}

func isNoSupport(err error) bool {
	return errors.Is(err, syscall.EAFNOSUPPORT) || errors.Is(err, syscall.EPROTONOSUPPORT) ||
		errors.Is(err, syscall.ESOCKTNOSUPPORT)
}

func isNotFound(err error) bool {
	return errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist)
}

// errText is err's message, or "unknown error" for nil. A constructor's
// *MethodError already names its method, so only its reason is used.
func errText(err error) string {
	var me *MethodError
	switch {
	case err == nil:
		return "unknown error"
	case errors.As(err, &me) && me.Reason != "":
		return me.Reason
	}
	return err.Error()
}
