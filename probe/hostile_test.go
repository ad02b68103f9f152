package probe_test

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"netscanner/internal/testnet"
	"netscanner/probe"
)

// countingConn passes a Conn's replies through and counts them, so a test
// can tell how much garbage got past the Conn's own checks.
type countingConn struct {
	probe.Conn
	out        chan probe.Reply
	ok, errors atomic.Int64
	done       chan struct{}
}

func countReplies(c probe.Conn) *countingConn {
	cc := &countingConn{Conn: c, out: make(chan probe.Reply), done: make(chan struct{})}
	go func() {
		defer close(cc.done)
		defer close(cc.out)
		for r := range c.Replies() {
			if r.Err == nil {
				cc.ok.Add(1)
			} else {
				cc.errors.Add(1)
			}
			cc.out <- r
		}
	}()
	return cc
}

func (c *countingConn) Replies() <-chan probe.Reply { return c.out }

func (c *countingConn) Close() error {
	err := c.Conn.Close()
	<-c.done
	return err
}

// hostileResult is what one hostile scenario found.
type hostileResult struct {
	rounds, liveRounds, falsePos int
	panics                       int64
	flood                        testnet.FloodStats
	stats                        testnet.HostileStats
	passedOK, passedErr          int64 // replies that got past the Conn's own checks
}

// TestReliabilityHostileConns pings live and dead addresses through the raw
// and dgram Conns while a hostile router answers the dead ones with
// garbage: first one kind at a time, then every kind at once while it also
// floods the scanner with 100,000 unsolicited packets a second. No dead
// address may ever be reported alive.
func TestReliabilityHostileConns(t *testing.T) {
	testnet.Require(t)
	for _, m := range []probe.Method{probe.Raw, probe.Dgram} {
		t.Run(string(m), func(t *testing.T) {
			prefix := netip.MustParsePrefix("198.18.6.0/24")
			n := testnet.NewResponderLAN(t, prefix, netip.Prefix{})
			n.Scanner.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
			var conn probe.Conn
			var err error
			n.Scanner.Do(func() {
				if m == probe.Raw {
					conn, err = probe.OpenRaw(probe.Options{})
				} else {
					conn, err = probe.OpenDgram(probe.Options{})
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			cc := countReplies(conn)
			p := probe.NewPinger(cc)
			defer p.Close()

			var targets []netip.Addr
			live := map[netip.Addr]bool{}
			for a, i := prefix.Addr().Next(), 1; i <= 40; a, i = a.Next(), i+1 {
				targets = append(targets, a)
				if i%10 == 0 {
					live[a] = true
				}
			}

			for _, g := range testnet.AllGarbage() {
				t.Run(g.String(), func(t *testing.T) {
					res := hostilePings(t, n, p, cc, targets, live, []testnet.Garbage{g}, false)
					t.Logf("%s/%s: %d false positives in %d rounds; %d garbage packets, %d ok and %d error replies passed the Conn",
						m, g, res.falsePos, res.rounds, res.stats.GarbageTotal(), res.passedOK, res.passedErr)
				})
			}

			t.Run("all+flood", func(t *testing.T) {
				mem := testnet.SampleMem(50 * time.Millisecond)
				res := hostilePings(t, n, p, cc, targets, live, testnet.AllGarbage(), true)
				heapMB, hwmMB := mem.Stop()
				t.Logf("hostile router: %v", res.stats)
				t.Logf("flood sent %d in %v (%.0f/s); replies that passed the Conn: %d ok, %d errors",
					res.flood.Sent, res.flood.Elapsed.Round(time.Millisecond), res.flood.Rate(), res.passedOK, res.passedErr)
				if res.flood.Sent == 0 {
					t.Error("the flood sent nothing")
				}
				line := fmt.Sprintf("reliability: hostile/%s packets=%d false_positives=%d panics=%d peak_heap_mb=%.1f vmhwm_mb=%.1f flood_pps=%.0f live_answered=%d/%d",
					m, res.stats.Packets(), res.falsePos, res.panics, heapMB, hwmMB, res.flood.Rate(), res.liveRounds, res.rounds*len(live))
				t.Log(line)
				// At the start of a line, for `make reliability` to pick out.
				fmt.Println(line)
			})
		})
	}
}

// hostilePings starts a hostile router that sends the given garbage for
// every dead target and pings every target through p, round after round
// (with the flood: until it is over), checking that no dead one answers.
func hostilePings(t *testing.T, n *testnet.LAN, p *probe.Pinger, cc *countingConn, targets []netip.Addr,
	live map[netip.Addr]bool, garbage []testnet.Garbage, flood bool) hostileResult {
	const (
		timeout   = 300 * time.Millisecond
		lateDelay = 450 * time.Millisecond // past timeout: lands in the next round
		floodRate = 100_000
		floodFor  = 3 * time.Second
	)
	minRounds := 2
	if flood {
		minRounds = 8
	}
	var liveList []netip.Addr
	for a := range live {
		liveList = append(liveList, a)
	}
	h, err := testnet.ListenHostile(n.Router.Name, testnet.HostileConfig{Live: liveList, Garbage: garbage, Duplicate: 1, LateDelay: lateDelay})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ok0, err0 := cc.ok.Load(), cc.errors.Load()

	var res hostileResult
	floodDone := make(chan testnet.FloodStats, 1)
	flooding := flood
	if flood {
		go func() {
			st, err := h.Flood(context.Background(), netip.MustParseAddr("198.18.0.1"), floodRate, floodFor)
			if err != nil {
				t.Error(err)
			}
			floodDone <- st
		}()
	}

	var (
		mu       sync.Mutex
		answered = map[netip.Addr]int{}
		panics   atomic.Int64
	)
	// One more round after the last so that late replies meet a waiting
	// Ping with another sequence number.
	for res.rounds < minRounds+1 || flooding {
		select {
		case res.flood = <-floodDone:
			flooding = false
		default:
		}
		res.rounds++
		var wg sync.WaitGroup
		for _, dst := range targets {
			wg.Go(func() {
				defer func() {
					if r := recover(); r != nil {
						panics.Add(1)
						t.Errorf("Ping(%s) panicked: %v", dst, r)
					}
				}()
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				defer cancel()
				r, err := p.Ping(ctx, dst)
				if err != nil {
					t.Errorf("Ping(%s): %v", dst, err)
					return
				}
				if r.Err != nil {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				answered[dst]++
				if !live[dst] {
					t.Errorf("false positive: %s seq=%d from=%s rtt=%v ttl=%d", r.Addr, r.Seq, r.From, r.RTT, r.TTL)
				}
			})
		}
		wg.Wait()
	}
	for a, c := range answered {
		if live[a] {
			res.liveRounds += c
		} else {
			res.falsePos += c
		}
	}
	for a := range live {
		if answered[a] == 0 {
			t.Errorf("live %s never answered in %d rounds", a, res.rounds)
		}
	}
	res.panics = panics.Load()
	res.stats = h.Stats()
	res.passedOK, res.passedErr = cc.ok.Load()-ok0, cc.errors.Load()-err0
	if res.stats.GarbageTotal() == 0 {
		t.Errorf("the hostile router sent no garbage: %v", res.stats)
	}
	return res
}
