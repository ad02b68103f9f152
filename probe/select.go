package probe

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// ipv6ProbeTimeout bounds the loopback round trip that tells whether a
// method also works for IPv6. Loopback answers in microseconds; the exec
// method needs a process start.
const ipv6ProbeTimeout = time.Second

// opener opens one method's Conn. The constructors probe: they fail when the
// method cannot work here.
func opener(m Method) func(Options) (Conn, error) {
	switch m {
	case Dgram:
		return OpenDgram
	case Raw:
		return OpenRaw
	case Exec:
		return OpenExec
	case TCP:
		return OpenTCP
	}
	return nil
}

// Open returns a Conn for opts.Method, or for the first method that works
// here when it is Auto, and a Report explaining every method's verdict.
//
// Auto tries the methods least privilege first (see Methods) by really
// opening each, and stops at the first that works; the Report explains the
// methods after it from the Facts alone, marked as not tried. Use Diagnose
// for a verdict on every method.
//
// A forced method that does not work returns a *MethodError that says why
// and how to enable it. The Report is returned whenever the method was
// tried, also on error.
func Open(ctx context.Context, opts Options) (Conn, *Report, error) {
	opts = opts.withDefaults()
	if _, err := ParseMethod(string(opts.Method)); err != nil {
		return nil, nil, fmt.Errorf("probe: %w", err)
	}
	r := &Report{Facts: gather(opts.PingPath), Forced: opts.Method != Auto}

	if r.Forced {
		c, st, err := probe(ctx, r.Facts, opts, opts.Method)
		r.Methods = []MethodStatus{st}
		if err != nil {
			return nil, r, err
		}
		r.Chosen = opts.Method
		return c, r, nil
	}

	var (
		chosen Conn
		errs   []error
	)
	for _, m := range Methods() {
		if chosen != nil {
			r.Methods = append(r.Methods, Explain(r.Facts, m, ErrNotTried))
			continue
		}
		c, st, err := probe(ctx, r.Facts, opts, m)
		r.Methods = append(r.Methods, st)
		if err != nil {
			if ctx.Err() != nil {
				return nil, r, err
			}
			errs = append(errs, err)
			continue
		}
		chosen, r.Chosen = c, m
	}
	if chosen == nil {
		return nil, r, fmt.Errorf("probe: no method works here: %w", errors.Join(errs...))
	}
	return chosen, r, nil
}

// Diagnose opens every method, closes it again, and reports each verdict:
// what `netscanner doctor` shows. Chosen is the method Open would pick for
// opts: the forced method if it works, else the first that works.
func Diagnose(ctx context.Context, opts Options) *Report {
	opts = opts.withDefaults()
	r := &Report{Facts: gather(opts.PingPath), Forced: opts.Method != Auto}
	for _, m := range Methods() {
		if ctx.Err() != nil {
			r.Methods = append(r.Methods, Explain(r.Facts, m, ErrNotTried))
			continue
		}
		c, st, err := probe(ctx, r.Facts, opts, m)
		r.Methods = append(r.Methods, st)
		if err != nil {
			continue
		}
		_ = c.Close() // the verdict is in; a failed close changes nothing
		if r.Chosen == "" && (!r.Forced || m == opts.Method) {
			r.Chosen = m
		}
	}
	return r
}

// probe opens method m and judges it. On failure it returns a *MethodError
// carrying the verdict, or ctx's error if ctx ended first.
func probe(ctx context.Context, f Facts, opts Options, m Method) (Conn, MethodStatus, error) {
	if err := ctx.Err(); err != nil {
		return nil, Explain(f, m, ErrNotTried), err
	}
	open := opener(m)
	if open == nil {
		err := fmt.Errorf("probe: unknown method %q", string(m))
		return nil, Explain(f, m, err), err
	}
	opts.Method = m
	c, err := open(opts)
	st := Explain(f, m, err)
	if err != nil {
		return nil, st, &MethodError{Method: m, Reason: st.Reason, Fix: st.Fix, Err: err}
	}
	st.IPv6 = worksForIPv6(ctx, c)
	if v, ok := c.(interface{ IPv6() error }); ok && !st.IPv6 {
		if err := v.IPv6(); err != nil {
			st.Reason += "; no IPv6: " + err.Error()
		}
	}
	return c, st, nil
}

// worksForIPv6 sends one request to ::1 through c and waits briefly for the
// answer. It reads c's Replies only until that answer; anything else it
// sees there is a stray the caller would have dropped anyway, as nothing
// else has been sent through c yet.
func worksForIPv6(ctx context.Context, c Conn) bool {
	ctx, cancel := context.WithTimeout(ctx, ipv6ProbeTimeout)
	defer cancel()
	dst := netip.IPv6Loopback()
	const seq = 0 // a Pinger starts at 1, so a late answer never matches its requests
	if err := c.Send(ctx, dst, seq); err != nil {
		return false
	}
	for {
		select {
		case r, ok := <-c.Replies():
			if !ok {
				return false
			}
			if r.Addr == dst && r.Seq == seq {
				return r.Err == nil
			}
		case <-ctx.Done():
			return false
		}
	}
}
