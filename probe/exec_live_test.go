//go:build linux

package probe

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"netscanner/internal/testnet"
)

// execVerdict is what the exec method must make of one ping program for
// one user: work (for IPv4, and for IPv6 too unless noV6), or be refused
// by the probe with an error matching refusal and a reason saying why.
type execVerdict struct {
	works   bool
	noV6    bool   // works for IPv4 only: IPv6 sends fail with ErrNoIPv6
	refusal error  // for !works: what the probe's error matches
	why     string // for !works: what its reason quotes
}

// execExpect lists, per ping program, user and ping_group_range, what
// exec must do. Each row says why.
func execExpect(prog string, u testnet.User, dgramOpen bool) execVerdict {
	switch prog {
	case "iputils":
		// Root, or its cap_net_raw file capability.
		return execVerdict{works: true}
	case "busybox-ping":
		if u == testnet.Root {
			return execVerdict{works: true}
		}
		// Debian's busybox is not setuid and opens raw sockets only.
		return execVerdict{refusal: ErrPingDenied, why: "are you root"}
	case "busybox-ping6":
		// An IPv6-only applet: it cannot parse the IPv4 probe address.
		return execVerdict{refusal: ErrPingRejected, why: "bad address '127.0.0.1'"}
	case "toybox":
		// toybox opens ICMP datagram sockets only, even as root; it
		// has no -n, and works in the plain style.
		if dgramOpen {
			return execVerdict{works: true}
		}
		return execVerdict{refusal: ErrPingDenied, why: "SOCK_DGRAM"}
	case "inetutils":
		// setuid root; its ping takes no IPv6 address ("unknown host").
		return execVerdict{works: true, noV6: true}
	}
	return execVerdict{}
}

// TestReliabilityExecPings runs the exec method against every ping a user's
// machine may have, live in the routed test network, as root and as an
// unprivileged user, with ICMP datagram sockets closed and open. Each ping
// either finds every live host (IPv4 and IPv6), reports no dead or
// unreachable one as up and credits every answer to its own host, or is
// refused by the probe with the reason the table gives.
func TestReliabilityExecPings(t *testing.T) {
	progs := testnet.PingPrograms(t)
	n := testnet.NewRouted(t)
	var cases, worked, refused, found, live, falsePos int
	for _, dgramOpen := range []bool{false, true} {
		rng := "1 0"
		if dgramOpen {
			rng = "0 2147483647"
		}
		n.Scanner.Sysctl("net.ipv4.ping_group_range", rng)
		for _, prog := range progs {
			for _, u := range []testnet.User{testnet.Root, testnet.Nobody} {
				name := prog.Name + "/" + u.String() + "/dgram-"
				if dgramOpen {
					name += "open"
				} else {
					name += "closed"
				}
				cases++
				t.Run(name, func(t *testing.T) {
					want := execExpect(prog.Name, u, dgramOpen)
					c, err := openExec(Options{PingPath: prog.Path, Timeout: time.Second}, n.Scanner.Prefix(u))
					if !want.works {
						var me *MethodError
						if err == nil {
							c.Close()
							t.Fatalf("exec accepted %s; want it refused (%v: %s)", prog.Path, want.refusal, want.why)
						}
						if !errors.Is(err, want.refusal) || !errors.As(err, &me) || !strings.Contains(me.Reason, want.why) {
							t.Fatalf("refused with %v; want %v quoting %q", err, want.refusal, want.why)
						}
						t.Logf("refused: %s", me.Reason)
						refused++
						return
					}
					if err != nil {
						t.Fatalf("exec refused %s: %v", prog.Path, err)
					}
					defer c.Close()
					if v6 := c.IPv6(); want.noV6 != (v6 != nil) || v6 != nil && !errors.Is(v6, ErrNoIPv6) {
						t.Errorf("IPv6() = %v, want an ErrNoIPv6 %v", v6, want.noV6)
					}
					f, l, fp := checkExecSweep(t, c, n, want)
					worked++
					found, live, falsePos = found+f, live+l, falsePos+fp
				})
			}
		}
	}
	line := fmt.Sprintf("reliability: exec-pings programs=%d cases=%d worked=%d refused_with_reason=%d live_found=%d/%d false_positives=%d",
		len(progs), cases, worked, refused, found, live, falsePos)
	t.Log(line)
	fmt.Println(line)
}

// checkExecSweep pings every host of the routed network once through c
// and returns how many live hosts it found, out of how many it can reach,
// and how many other addresses it reported up.
func checkExecSweep(t *testing.T, c *execConn, n *testnet.Routed, want execVerdict) (found, live int, falsePos int) {
	t.Helper()
	isLive := map[netip.Addr]bool{}
	var all []netip.Addr
	for _, a := range n.Live {
		isLive[a] = true
	}
	all = append(all, n.Live...)
	all = append(all, n.Dead...)
	all = append(all, n.Unreachable...)
	v6 := append(append([]netip.Addr(nil), n.LiveV6...), n.DeadV6...)
	for _, a := range n.LiveV6 {
		isLive[a] = !want.noV6
	}
	all = append(all, v6...)

	ctx := context.Background()
	for i, a := range all {
		err := c.Send(ctx, a, uint16(i))
		switch {
		case a.Is6() && want.noV6:
			if !errors.Is(err, ErrNoIPv6) {
				t.Errorf("Send %s: %v, want ErrNoIPv6", a, err)
			}
		case err != nil:
			t.Fatalf("Send %s: %v", a, err)
		}
	}
	// ping -W 1 gives up after a second; the rest is slack for a loaded
	// machine and for anything unwanted to show up.
	got := collect(t, c, 2500*time.Millisecond)
	for _, a := range all {
		up := 0
		for _, r := range got[a] {
			if r.Err != nil {
				continue
			}
			up++
			if r.From != a || r.Reason != "echo-reply" || r.Method != Exec {
				t.Errorf("%s: reply %+v, want an echo reply from %s itself", a, r, a)
			}
		}
		if isLive[a] {
			live++
			if up > 0 {
				found++
			}
		} else if up > 0 {
			falsePos++
		}
		switch {
		case isLive[a] && up == 0:
			t.Errorf("live %s not found (replies %+v)", a, got[a])
		case !isLive[a] && up > 0:
			t.Errorf("%s reported up: %+v", a, got[a])
		}
	}
	for a, rs := range got {
		if !slicesContains(all, a) {
			t.Errorf("a reply for %s, which was never pinged: %+v", a, rs)
		}
	}
	return found, live, falsePos
}

func slicesContains(s []netip.Addr, a netip.Addr) bool {
	for _, b := range s {
		if a == b {
			return true
		}
	}
	return false
}
