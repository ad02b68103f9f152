package probe_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"netscanner/internal/testnet"
	"netscanner/probe"
)

// TestReliabilityImpostors: probed addresses answer for each other. One
// silent address gets the echo replies of another's requests, and one
// live address is blamed by a destination unreachable quoting another's
// request, which arrives before its own real reply. Every request carries
// the same sequence number, as a sweep's first round does, so only the
// payload tag (a keyed hash of destination and sequence) tells which
// request an answer belongs to. Neither lie may be credited: the silent
// address stays down and the live one up. Raw and dgram, IPv4 and IPv6.
func TestReliabilityImpostors(t *testing.T) {
	testnet.Require(t)
	p4, p6 := netip.MustParsePrefix("198.18.8.0/24"), netip.MustParsePrefix("2001:db8:8::/120")
	n := testnet.NewResponderLAN(t, p4, p6)
	n.Scanner.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	at := func(p netip.Prefix, i int) netip.Addr {
		a := p.Addr()
		for range i {
			a = a.Next()
		}
		return a
	}
	type roles struct{ victim, impostor, blamed, framer, control netip.Addr }
	fams := map[string]roles{
		"v4": {at(p4, 10), at(p4, 11), at(p4, 21), at(p4, 20), at(p4, 30)},
		"v6": {at(p6, 10), at(p6, 11), at(p6, 21), at(p6, 20), at(p6, 30)},
	}
	cfg := testnet.ImpostorConfig{HonestDelay: 150 * time.Millisecond,
		EchoFor: map[netip.Addr]netip.Addr{}, ErrorFor: map[netip.Addr]netip.Addr{}}
	for _, r := range fams {
		cfg.Honest = append(cfg.Honest, r.blamed, r.control)
		cfg.EchoFor[r.victim] = r.impostor // the impostor answers the victim's pings
		cfg.ErrorFor[r.framer] = r.blamed  // the framer blames the live address
	}
	im := testnet.StartImpostor(t, n.Router, cfg)

	var forgedEcho, forgedError, credited int64
	for _, m := range []probe.Method{probe.Raw, probe.Dgram} {
		for _, fam := range []string{"v4", "v6"} {
			t.Run(string(m)+"/"+fam, func(t *testing.T) {
				r := fams[fam]
				var c probe.Conn
				var err error
				n.Scanner.Do(func() {
					if m == probe.Raw {
						c, err = probe.OpenRaw(probe.Options{})
					} else {
						c, err = probe.OpenDgram(probe.Options{})
					}
				})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				before := im.Stats()
				const seq = 1
				for _, a := range []netip.Addr{r.victim, r.impostor, r.blamed, r.framer, r.control} {
					if err := c.Send(context.Background(), a, seq); err != nil {
						t.Fatalf("Send %s: %v", a, err)
					}
				}
				got := map[netip.Addr][]probe.Reply{}
				deadline := time.After(cfg.HonestDelay + 500*time.Millisecond)
			collect:
				for {
					select {
					case rep := <-c.Replies():
						got[rep.Addr] = append(got[rep.Addr], rep)
					case <-deadline:
						break collect
					}
				}
				after := im.Stats()
				if after.ForgedEcho == before.ForgedEcho || after.ForgedError == before.ForgedError || after.SendErrors != 0 {
					t.Fatalf("the impostor did not lie (before %+v, after %+v): the test proves nothing", before, after)
				}
				forgedEcho += after.ForgedEcho - before.ForgedEcho
				forgedError += after.ForgedError - before.ForgedError

				for a, rs := range got {
					for _, rep := range rs {
						if a != r.blamed && a != r.control || rep.Err != nil || rep.From != a {
							credited++
						}
					}
				}
				for _, a := range []netip.Addr{r.victim, r.impostor, r.framer} {
					if len(got[a]) > 0 {
						t.Errorf("%s credited with %s", a, describe(got[a]))
					}
				}
				for _, a := range []netip.Addr{r.blamed, r.control} {
					rs := got[a]
					if len(rs) != 1 || rs[0].Err != nil || rs[0].From != a {
						t.Errorf("live %s: got %s, want its own echo reply only", a, describe(rs))
					}
				}
				for a, rs := range got {
					if a != r.blamed && a != r.control && a != r.victim && a != r.impostor && a != r.framer {
						t.Errorf("answers for %s, never probed: %s", a, describe(rs))
					}
				}
			})
		}
	}
	line := fmt.Sprintf("reliability: impostors forged_echo=%d forged_error=%d credited=%d", forgedEcho, forgedError, credited)
	t.Log(line)
	fmt.Println(line)
}

func describe(rs []probe.Reply) string {
	if len(rs) == 0 {
		return "nothing"
	}
	s := ""
	for _, r := range rs {
		s += fmt.Sprintf("[from %s seq %d err %v] ", r.From, r.Seq, r.Err)
	}
	return s
}
