package scanner

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"netscanner/probe"
)

// tcpHosts builds n hosts found by tcp-open, the i-th in rtt(i).
func tcpHosts(n int, rtt func(i int) time.Duration) []Host {
	hs := make([]Host, n)
	for i := range hs {
		hs[i] = Host{Addr: netip.AddrFrom4([4]byte{198, 18, 9, byte(i + 1)}), RTT: rtt(i), Method: probe.TCP, Reason: ReasonTCPOpen}
	}
	return hs
}

func TestTCPJudge(t *testing.T) {
	same := func(int) time.Duration { return 300 * time.Microsecond }
	jitter := func(i int) time.Duration { return 300*time.Microsecond + time.Duration(i%3)*20*time.Microsecond }
	varied := func(i int) time.Duration { return time.Duration(1+i*7%23) * time.Millisecond }
	// One connect in five timed 5 to 9 ms late: a loaded scheduler.
	busy := func(i int) time.Duration {
		if i%5 == 0 {
			return time.Duration(5+i%5) * time.Millisecond
		}
		return 80 * time.Microsecond
	}
	for _, tt := range []struct {
		name        string
		total       int
		hosts       []Host
		implausible bool
		streamed    int // hosts admit released before the end
	}{
		{"proxy: every address, one time", 40, tcpHosts(40, same), true, 0},
		{"proxy with jitter", 254, tcpHosts(200, jitter), true, 0},
		{"proxy timed by a busy machine", 254, tcpHosts(200, busy), true, 0},
		{"devices: times differ", 40, tcpHosts(30, varied), false, 30},
		{"a minority of servers in one rack", 40, tcpHosts(12, same), false, 0},
		{"too few to judge", 10, tcpHosts(7, same), false, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			j := newTCPJudge(probe.TCP, tt.total)
			var out []Host
			for _, h := range tt.hosts {
				out = append(out, j.admit(h)...)
			}
			streamed := len(out)
			rest, n, note := j.finish()
			out = append(out, rest...)
			if len(out) != len(tt.hosts) {
				t.Fatalf("%d hosts out of %d came back", len(out), len(tt.hosts))
			}
			if streamed != tt.streamed {
				t.Errorf("%d hosts reported before the end, want %d", streamed, tt.streamed)
			}
			want := 0
			if tt.implausible {
				want = len(tt.hosts)
			}
			if n != want || (note != "") != tt.implausible {
				t.Errorf("implausible %d (note %q), want %d", n, note, want)
			}
			for _, h := range out {
				if h.Implausible != tt.implausible || (h.Note == ImplausibleHostNote) != tt.implausible {
					t.Errorf("%s: Implausible %v note %q, want %v", h.Addr, h.Implausible, h.Note, tt.implausible)
				}
			}
		})
	}
	// Only the tcp method counts accepted connects; an echo reply or a
	// reset is never held.
	if newTCPJudge(probe.Raw, 254) != nil {
		t.Error("a raw sweep is judged")
	}
	j := newTCPJudge(probe.TCP, 40)
	if out := j.admit(Host{Reason: ReasonTCPReset}); len(out) != 1 {
		t.Errorf("a reset was held: %v", out)
	}
}

// TestScanImplausibleTCP sweeps 40 addresses by the tcp method through a
// Conn on which every address accepts, in the same time, as behind a
// captive portal: the hosts are reported flagged, with their note, and
// the Summary counts none as alive and says why. The same sweep where
// the times differ reports every host as a device.
func TestScanImplausibleTCP(t *testing.T) {
	for _, proxy := range []bool{true, false} {
		t.Run(fmt.Sprintf("proxy=%v", proxy), func(t *testing.T) {
			hosts := map[netip.Addr]fakeHost{}
			for i := 1; i <= 40; i++ {
				d := 2 * time.Millisecond
				if !proxy {
					d = time.Duration(1+i*7%23) * time.Millisecond
				}
				hosts[ip(fmt.Sprintf("198.18.9.%d", i))] = fakeHost{Delay: d, Reason: "tcp-open"}
			}
			c := newFakeConn(hosts, 64, 0, 0)
			c.method = probe.TCP
			defer c.Close()
			ev := &events{t: t}
			sum, err := Scan(context.Background(), c, mustTargets(t, "198.18.9.1-40"), Config{Timeout: 200 * time.Millisecond, Rate: 10000}, ev.emit)
			if err != nil {
				t.Fatal(err)
			}
			flagged, found := 0, 0
			for _, e := range ev.list {
				if e.Kind != HostFound {
					continue
				}
				found++
				if e.Host.Implausible {
					flagged++
				}
			}
			if found != 40 {
				t.Errorf("%d hosts reported, want 40", found)
			}
			if proxy {
				if flagged != 40 || sum.Implausible != 40 || sum.Alive != 0 || !strings.Contains(sum.ImplausibleNote, "captive portal") {
					t.Errorf("flagged %d, summary %+v; want all 40 flagged, none alive, and a note", flagged, sum)
				}
			} else if flagged != 0 || sum.Implausible != 0 || sum.Alive != 40 || sum.ImplausibleNote != "" {
				t.Errorf("flagged %d, summary %+v; want 40 devices", flagged, sum)
			}
		})
	}
}
