package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"netscanner/scanner/targets"
)

// pingCandidates are where FindPing looks before searching PATH.
var pingCandidates = []string{"/bin/ping", "/usr/bin/ping"}

const (
	// execGrace is how long a ping may overrun its -W timeout (start-up,
	// printing) before it is killed.
	execGrace = 500 * time.Millisecond
	// execOutputLimit caps what is kept of one ping's output; ping -c 1
	// prints a few hundred bytes.
	execOutputLimit = 64 << 10
	// probeTarget is the only address OpenExec pings on its own.
	probeTarget = "127.0.0.1"
)

// FindPing resolves the ping binary to use. A non-empty path must name it;
// otherwise the first of /bin/ping, /usr/bin/ping and ping on PATH wins.
// The result is an absolute path to a regular, executable file.
func FindPing(path string) (string, error) {
	if path != "" {
		return checkPingFile(path)
	}
	for _, p := range pingCandidates {
		if abs, err := checkPingFile(p); err == nil {
			return abs, nil
		}
	}
	p, err := exec.LookPath("ping")
	if err != nil {
		return "", fmt.Errorf("no ping program in %v or on PATH: %w", pingCandidates, err)
	}
	return checkPingFile(p)
}

// checkPingFile accepts path if it is (or links to) a regular file that
// someone may execute.
func checkPingFile(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", abs)
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return "", &fs.PathError{Op: "exec", Path: abs, Err: fs.ErrPermission}
	}
	return abs, nil
}

// execConn sends each echo request by running the system ping once.
type execConn struct {
	ping    string    // absolute path of the ping binary
	style   pingStyle // the command line this ping accepted in the probe
	noV6    error     // why this ping cannot reach IPv6 hosts; nil if it can
	wrap    []string  // argv put before ping's; tests run it in a namespace with it
	timeout time.Duration
	pool    *pool // one slot per ping process; closing it kills every child
}

// pingStyle is a dialect of ping's command line.
type pingStyle int

// The dialects, in the order the probe tries them.
const (
	// styleNumeric is "-n -c 1 -W N": iputils, busybox, GNU inetutils,
	// BSD.
	styleNumeric pingStyle = iota
	// stylePlain is "-c 1 -W N": toybox, which has no -n (and prints
	// numbers anyway).
	stylePlain
	numStyles
)

// OpenExec opens a Conn that runs the system ping binary, one process per
// request and at most opts.Concurrency at once, each waiting opts.Timeout
// (rounded up to whole seconds, as ping -W wants) for its answer.
//
// It first pings 127.0.0.1 once and counts the binary as working only if
// the answer comes back (or ping says definitely that there is no route):
// exiting without one is what a ping that rejects its command line does.
// A *MethodError explains a failure; it wraps ErrPingDenied when ping said
// it lacks privilege, ErrPingRejected when it answered nothing we could
// read, or the exec error (such as EPERM when the capability bounding set
// forbids the binary's file capabilities). It then pings ::1 once: a ping
// that cannot (GNU inetutils' ping, for one) still works for IPv4, and
// Send refuses IPv6 destinations with a *SendError wrapping ErrNoIPv6.
func OpenExec(opts Options) (Conn, error) {
	c, err := openExec(opts, nil)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// openExec is OpenExec with an argv prefix for every ping it runs: tests
// pass `ip netns exec NAME` so that the pings run inside a test network.
func openExec(opts Options, wrap []string) (*execConn, error) {
	opts = opts.withDefaults()
	// A ping being started holds two pipes, four descriptors.
	opts.Concurrency = fdConcurrency(opts.Concurrency, 4)
	path, err := FindPing(opts.PingPath)
	if err != nil {
		return nil, &MethodError{Method: Exec, Reason: "no usable ping program: " + err.Error(), Err: err}
	}
	style, err := probePing(wrap, path)
	if err != nil {
		return nil, err
	}
	return &execConn{
		ping:    path,
		style:   style,
		noV6:    probePing6(wrap, path, style),
		wrap:    slices.Clone(wrap),
		timeout: opts.Timeout,
		pool:    newPool(Exec, opts.Concurrency),
	}, nil
}

// ErrPingRejected matches, with errors.Is, the error OpenExec returns when
// ping ran but printed no answer from loopback and no definite refusal to
// route: a usage error (an option it lacks, an address family it cannot
// parse), or a loopback that does not answer.
var ErrPingRejected = errors.New("ping gave no answer from loopback")

// probeTimeout is the -W given to the probes.
const probeTimeout = time.Second

// probePing pings 127.0.0.1 with each command-line style in turn and
// returns the first that ping answers to. A line from 127.0.0.1 (its echo
// reply, or an ICMP error about it) proves that ping accepted the command
// line, opened its socket and prints what ParsePingOutput reads; a no-route
// line proves the first two (a namespace without routes prints it). Any
// other outcome, an exit status of 0 or 1 included, proves nothing.
func probePing(wrap []string, path string) (pingStyle, error) {
	addr := netip.MustParseAddr(probeTarget)
	var first error
	for style := range numStyles {
		err := probeOnce(wrap, path, style, addr)
		if err == nil {
			return style, nil
		}
		if first == nil {
			first = err
		}
		// Only a ping that printed nothing of use gets another dialect:
		// a denial or a hang says all there is to say.
		if !errors.Is(err, ErrPingRejected) {
			return 0, err
		}
	}
	return 0, first
}

// probePing6 pings ::1 in the style the IPv4 probe settled on and returns
// why IPv6 does not work, wrapping ErrNoIPv6, or nil.
func probePing6(wrap []string, path string, style pingStyle) error {
	err := probeOnce(wrap, path, style, netip.IPv6Loopback())
	if err == nil {
		return nil
	}
	reason := err.Error()
	var me *MethodError
	if errors.As(err, &me) {
		reason = me.Reason
	}
	return &noIPv6Error{reason: reason}
}

// noIPv6Error is why a ping cannot reach IPv6 hosts, in ping's words; it
// matches ErrNoIPv6.
type noIPv6Error struct{ reason string }

func (e *noIPv6Error) Error() string { return e.reason }
func (e *noIPv6Error) Unwrap() error { return ErrNoIPv6 }

// probeOnce runs one probe of addr and judges it; see probePing.
func probeOnce(wrap []string, path string, style pingStyle, addr netip.Addr) error {
	wait := probeTimeout + execGrace
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	argv := pingArgv(path, style, addr, probeTimeout)
	stdout, stderr, err := runPing(ctx, wrap, argv)
	lines, denied := ParsePingOutput(append(slices.Clip(stdout), stderr...))
	if denied != nil {
		// The error quotes the line in which ping says why.
		return &MethodError{Method: Exec, Reason: denied.Error(), Err: denied}
	}
	for _, l := range lines {
		if l.Kind == PingNoRoute || l.From.IsValid() && sameHost(l.From, addr) {
			return nil
		}
	}
	var exit *exec.ExitError
	cmdline := "`" + path + "` rejected `" + strings.Join(argv[1:], " ") + "`"
	switch {
	case ctx.Err() != nil:
		return &MethodError{Method: Exec, Reason: fmt.Sprintf("%s did not finish pinging %s within %v", path, addr, wait), Err: ctx.Err()}
	case err != nil && !errors.As(err, &exit):
		// It did not even start.
		reason := fmt.Sprintf("%s cannot ping: %v", path, err)
		if line := firstLine(stderr, stdout); line != "" {
			reason += ": " + line
		}
		return &MethodError{Method: Exec, Reason: reason, Err: err}
	case transmitted(stdout) > 0:
		return &MethodError{Method: Exec, Err: ErrPingRejected,
			Reason: fmt.Sprintf("%s: it sent a request, but %s never answered (is net.ipv4.icmp_echo_ignore_all set, or loopback down?)", cmdline, addr)}
	}
	why := firstLine(stderr, stdout)
	if why == "" {
		why = "no output"
		if err != nil {
			why += " (" + err.Error() + ")"
		}
	}
	return &MethodError{Method: Exec, Reason: cmdline + ": " + why, Err: ErrPingRejected}
}

// transmitted reads the "N packets transmitted" of ping's statistics, or 0.
func transmitted(out []byte) int {
	for line := range bytes.Lines(out) {
		before, _, ok := bytes.Cut(line, []byte(" packets transmitted"))
		if !ok {
			continue
		}
		n, err := strconv.Atoi(string(bytes.TrimSpace(before)))
		if err == nil {
			return n
		}
	}
	return 0
}

// sameHost tells whether a ping line's From is the destination itself. The
// zone does not count: ping prints it as a name, a caller may give a number.
func sameHost(from, dst netip.Addr) bool {
	return from.Unmap().WithZone("") == dst.Unmap().WithZone("")
}

// firstLine returns the first non-blank line of the first output that has
// one: what a user needs to see of a failed ping.
func firstLine(outs ...[]byte) string {
	for _, out := range outs {
		for line := range bytes.Lines(out) {
			if s := string(bytes.TrimSpace(line)); s != "" {
				return s
			}
		}
	}
	return ""
}

// pingArgv builds the command line for one echo request. Every element is
// either a constant or derived from a validated netip.Addr, and the
// program is run directly, never through a shell.
//
// It sends one request (-c 1), prints numbers only (-n, which busybox
// accepts and ignores; toybox has no -n and gets stylePlain) and waits
// whole seconds (-W). It passes no -4 or -6: an address literal already
// fixes the family for iputils and busybox, while older pings (Android's
// among them) reject those flags.
func pingArgv(path string, style pingStyle, dst netip.Addr, timeout time.Duration) []string {
	secs := strconv.Itoa(max(int((timeout+time.Second-1)/time.Second), 1))
	if style == stylePlain {
		return []string{path, "-c", "1", "-W", secs, dst.String()}
	}
	return []string{path, "-n", "-c", "1", "-W", secs, dst.String()}
}

// checkExecTarget rejects what must never reach ping's command line.
func checkExecTarget(dst netip.Addr) error {
	if !dst.IsValid() {
		return errors.New("probe: invalid destination address")
	}
	if z := dst.Zone(); z != "" {
		if err := targets.CheckZone(z); err != nil {
			return fmt.Errorf("probe: refusing IPv6 %w", err)
		}
	}
	// netip.Addr.String starts with a digit or a colon, never with '-',
	// so ping cannot take the address for an option; check all the same,
	// since this is the line between typed data and an argv.
	if s := dst.String(); s == "" || s[0] == '-' {
		return fmt.Errorf("probe: refusing destination %q", s)
	}
	return nil
}

// runPing runs argv (after the test prefix, if any) and returns what it
// printed. The process gets a clean C-locale environment so that its
// output is the English the parser reads, runs in its own process group,
// and is killed with that group when ctx ends.
func runPing(ctx context.Context, wrap, argv []string) (stdout, stderr []byte, err error) {
	argv = append(slices.Clone(wrap), argv...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/sbin:/usr/bin:/sbin:/bin"
	}
	cmd.Env = []string{"LC_ALL=C", "PATH=" + path}
	var out, errOut limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	killGroupOnCancel(cmd)
	// Do not wait forever on pipes some grandchild holds open.
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	return out.buf.Bytes(), errOut.buf.Bytes(), err
}

// limitedBuffer keeps the first execOutputLimit bytes written to it and
// silently drops the rest, so that a misbehaving program cannot fill
// memory.
type limitedBuffer struct{ buf bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := execOutputLimit - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// Method reports Exec.
func (c *execConn) Method() Method { return Exec }

// Replies delivers the answers parsed from ping's output.
func (c *execConn) Replies() <-chan Reply { return c.pool.replies }

// Send starts one ping process for dst. It blocks while opts.Concurrency
// processes already run, until one finishes or ctx ends. Replies name an
// IPv4-mapped dst by its IPv4 form.
func (c *execConn) Send(ctx context.Context, dst netip.Addr, seq uint16) error {
	dst = dst.Unmap()
	if err := checkExecTarget(dst); err != nil {
		return err
	}
	if dst.Is6() && c.noV6 != nil {
		return &SendError{Addr: dst, Err: c.noV6}
	}
	if err := c.pool.acquire(ctx, nil); err != nil {
		return err
	}
	return c.pool.spawn(func() {
		defer c.pool.release()
		c.run(dst, seq)
	})
}

// run pings dst once and delivers every answer ping printed. Lines that
// prove nothing (BSD's lost requests) are dropped: silence is not an
// answer. So is an echo reply from anyone but dst: ping prints those when
// dst is a broadcast address (busybox sets SO_BROADCAST) or a multicast
// group (iputils), and each is a member answering for itself, not dst.
func (c *execConn) run(dst netip.Addr, seq uint16) {
	ctx, cancel := context.WithTimeout(c.pool.ctx, c.timeout+execGrace)
	defer cancel()
	var stdout, stderr []byte
	for try := 0; ; try++ {
		var err error
		stdout, stderr, err = runPing(ctx, c.wrap, pingArgv(c.ping, c.style, dst, c.timeout))
		if !shortage(err) {
			break
		}
		if !shortageWait(ctx, try) {
			return
		}
	}
	// The exit status adds nothing the output does not say; a ping
	// killed by Close or its deadline simply yields fewer lines.
	lines, _ := ParsePingOutput(append(slices.Clip(stdout), stderr...))
	for _, l := range lines {
		r := Reply{Addr: dst, From: l.From, Seq: seq, Method: Exec}
		switch l.Kind {
		case PingEcho:
			if !sameHost(l.From, dst) {
				continue
			}
			r.RTT, r.TTL, r.Reason = l.RTT, l.TTL, "echo-reply"
		case PingUnreachable, PingTimeExceeded:
			v6 := l.From.Is6() && !l.From.Is4In6()
			r.Err = &ICMPError{From: l.From, Type: l.Type, Code: l.Code, Text: icmpErrorText(v6, l.Type, l.Code)}
		case PingNoRoute:
			r.Err = &SendError{Addr: dst, Err: &noRouteError{err: errors.New(l.Text)}}
		default:
			continue
		}
		if !c.pool.deliver(r) {
			return
		}
	}
}

// IPv6 reports whether this ping reaches IPv6 hosts: nil if it does, else
// an error wrapping ErrNoIPv6 that says why. The selector finds it with a
// type assertion to interface{ IPv6() error }.
func (c *execConn) IPv6() error { return c.noV6 }

// Close kills every ping still running, waits for them to exit and closes
// Replies.
func (c *execConn) Close() error { return c.pool.close() }

// noRouteError is the local kernel refusing to send to a destination. It
// matches both ErrUnreachable and the cause with errors.Is.
type noRouteError struct{ err error }

func (e *noRouteError) Error() string   { return e.err.Error() }
func (e *noRouteError) Unwrap() []error { return []error{e.err, ErrUnreachable} }
