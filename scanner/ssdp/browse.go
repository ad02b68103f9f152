package ssdp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"netscanner/scanner/mcast"
)

// ErrNoLinks is returned by Start when no link of the Config has an
// address to search from, or no socket could be opened on any.
var ErrNoLinks = errors.New("ssdp: no link to search")

// listenMargin is how long after MX the round still listens: the last
// answers are sent at MX and take a moment to arrive.
const listenMargin = 250 * time.Millisecond

// maxErrors caps Stats.Errors.
const maxErrors = 8

// Browser is one search round. Its methods are safe for concurrent use.
type Browser struct {
	cfg    Config
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	devices map[netip.Addr]*devState
	stats   Stats

	updMu   sync.Mutex // keeps OnUpdate calls apart
	fetches sync.WaitGroup
	sem     chan struct{}
}

// devState is a Device being learnt, with one result slot per location.
type devState struct {
	dev     Device // without Descriptions and Errs
	results []locResult
	linkIdx int // the interface index of its link, to dial a link-local address
}

type locResult struct {
	desc *Description
	err  error
}

type packet struct {
	from    netip.AddrPort
	linkIdx int // interface index
	data    []byte
}

// Start opens the sockets (through cfg.InNet), sends the first M-SEARCH
// and returns while the round runs; it ends by itself after MX, a margin
// and the fetches in flight (at most Duration), when ctx ends, or on
// Close.
func Start(ctx context.Context, cfg Config) (*Browser, error) {
	if cfg.Scanned == nil {
		return nil, errors.New("ssdp: Config.Scanned is required")
	}
	if cfg.MX <= 0 {
		cfg.MX = DefaultMX
	}
	cfg.MX = min(max(cfg.MX.Round(time.Second), time.Second), 5*time.Second)
	if cfg.Resend <= 0 {
		cfg.Resend = DefaultResend
	}
	if cfg.FetchTimeout <= 0 {
		cfg.FetchTimeout = DefaultFetchTimeout
	}
	if cfg.Duration <= 0 {
		cfg.Duration = DefaultDuration
	}
	if cfg.MaxHosts <= 0 {
		cfg.MaxHosts = DefaultMaxHosts
	}
	b := &Browser{cfg: cfg, done: make(chan struct{}), devices: make(map[netip.Addr]*devState), sem: make(chan struct{}, maxFetches)}
	var socks []*mcast.Socket
	for _, v6 := range []bool{false, true} {
		if !slices.ContainsFunc(cfg.Links, func(l mcast.Link) bool { return l.Has(v6) }) {
			continue
		}
		s, err := mcast.Open(ctx, mcast.Options{V6: v6, Links: cfg.Links, InNet: cfg.InNet})
		if err != nil {
			if len(b.stats.Errors) < maxErrors {
				b.stats.Errors = append(b.stats.Errors, fmt.Errorf("ssdp: open: %w", err))
			}
			continue
		}
		socks = append(socks, s)
	}
	if len(socks) == 0 {
		return nil, fmt.Errorf("%w: %w", ErrNoLinks, errors.Join(b.stats.Errors...))
	}
	ctx, b.cancel = context.WithTimeout(ctx, cfg.Duration)
	pkts := make(chan packet, 64)
	var readers sync.WaitGroup
	for _, s := range socks {
		readers.Go(func() { read(s, pkts) })
	}
	go func() {
		defer close(b.done)
		b.run(ctx, socks, pkts)
		for _, s := range socks {
			s.Close()
		}
		readers.Wait()
		b.fetches.Wait()
		b.cancel()
	}()
	return b, nil
}

// read passes the datagrams of s to the loop until s is closed; one the
// loop has no room for is dropped.
func read(s *mcast.Socket, pkts chan<- packet) {
	buf := make([]byte, maxDatagram+1)
	for {
		n, from, link, err := s.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		select {
		case pkts <- packet{from: from, linkIdx: s.Links()[link].Index, data: slices.Clone(buf[:n])}:
		default:
		}
	}
}

// msearch is the M-SEARCH for every root device, embedded device and
// service (UDA 1.1 section 1.3.2).
func msearch(v6 bool, mx time.Duration) []byte {
	host := "239.255.255.250:1900"
	if v6 {
		host = "[FF02::C]:1900"
	}
	return fmt.Appendf(nil, "M-SEARCH * HTTP/1.1\r\nHOST: %s\r\nMAN: \"ssdp:discover\"\r\nMX: %d\r\nST: ssdp:all\r\nUSER-AGENT: Linux/1 UPnP/1.1 netscanner/1\r\n\r\n",
		host, int(mx/time.Second))
}

// run sends the M-SEARCH twice and takes answers until the listening ends.
func (b *Browser) run(ctx context.Context, socks []*mcast.Socket, pkts <-chan packet) {
	start := time.Now()
	send := func() {
		for _, s := range socks {
			g := Group4
			if s.V6() {
				g = Group6
			}
			msg := msearch(s.V6(), b.cfg.MX)
			for i := range s.Links() {
				err := s.WriteTo(msg, i, netip.AddrPortFrom(g, Port))
				b.mu.Lock()
				if err != nil {
					if len(b.stats.Errors) < maxErrors {
						b.stats.Errors = append(b.stats.Errors, fmt.Errorf("ssdp: send on %s: %w", s.Links()[i].Name, err))
					}
				} else {
					b.stats.Sent++
				}
				b.mu.Unlock()
			}
		}
	}
	send()
	resend := time.NewTimer(b.cfg.Resend)
	defer resend.Stop()
	end := time.NewTimer(b.cfg.MX + listenMargin)
	defer end.Stop()
	for {
		select {
		case <-ctx.Done():
			b.finish(start)
			return
		case <-end.C:
			b.finish(start)
			return
		case <-resend.C:
			send()
		case p := <-pkts:
			b.handle(ctx, p)
		}
	}
}

func (b *Browser) finish(start time.Time) {
	b.mu.Lock()
	b.stats.Elapsed = time.Since(start)
	b.mu.Unlock()
}

// handle takes one answer, and starts the fetch of a new location.
func (b *Browser) handle(ctx context.Context, p packet) {
	b.mu.Lock()
	b.stats.Received++
	if !b.cfg.Scanned(p.from.Addr()) {
		b.stats.NotScanned++
		b.mu.Unlock()
		return
	}
	r, err := ParseResponse(p.data)
	if err != nil {
		b.stats.Rejected++
		b.stats.LastReject = fmt.Errorf("%s: %w", p.from, err)
		b.mu.Unlock()
		return
	}
	b.stats.Accepted++
	addr := p.from.Addr()
	ds := b.devices[addr]
	if ds == nil {
		if len(b.devices) >= b.cfg.MaxHosts {
			b.stats.Capped++
			b.mu.Unlock()
			return
		}
		ds = &devState{dev: Device{Addr: addr, Server: r.Server}, linkIdx: p.linkIdx}
		b.devices[addr] = ds
	}
	changed := false
	if r.ST != "" && !slices.Contains(ds.dev.Types, r.ST) {
		if len(ds.dev.Types) < MaxTypes {
			ds.dev.Types = append(ds.dev.Types, r.ST)
			changed = true
		} else {
			b.stats.Capped++
		}
	}
	slot := -1
	var (
		u  *url.URL
		to netip.AddrPort
	)
	if !slices.Contains(ds.dev.Locations, r.Location) {
		if len(ds.dev.Locations) < MaxLocations {
			slot = len(ds.dev.Locations)
			ds.dev.Locations = append(ds.dev.Locations, r.Location)
			ds.results = append(ds.results, locResult{})
			changed = true
			if u, to, err = checkLocation(r.Location, addr); err != nil {
				ds.results[slot].err = err
				if errors.Is(err, ErrForeignLocation) {
					b.stats.Refused++
				} else {
					b.stats.FetchFailed++
				}
				slot = -1
			}
		} else {
			b.stats.Capped++
		}
	}
	var snap Device
	if changed {
		snap = ds.snapshot()
	}
	linkIdx := ds.linkIdx
	b.mu.Unlock()
	if changed {
		b.update(snap)
	}
	if slot < 0 {
		return
	}
	b.fetches.Go(func() {
		select {
		case b.sem <- struct{}{}:
		case <-ctx.Done():
			b.store(addr, slot, nil, ctx.Err())
			return
		}
		defer func() { <-b.sem }()
		desc, err := b.fetch(ctx, u, to, linkIdx)
		b.store(addr, slot, desc, err)
	})
}

// store records a fetch's outcome.
func (b *Browser) store(addr netip.Addr, slot int, desc *Description, err error) {
	b.mu.Lock()
	ds := b.devices[addr]
	ds.results[slot] = locResult{desc: desc, err: err}
	if err != nil {
		b.stats.FetchFailed++
	} else {
		b.stats.Fetched++
	}
	snap := ds.snapshot()
	b.mu.Unlock()
	b.update(snap)
}

func (b *Browser) update(d Device) {
	if b.cfg.OnUpdate == nil {
		return
	}
	b.updMu.Lock()
	defer b.updMu.Unlock()
	b.cfg.OnUpdate(d)
}

// snapshot is a copy of the device with what its fetches found.
func (ds *devState) snapshot() Device {
	d := ds.dev
	d.Types = slices.Clone(d.Types)
	d.Locations = slices.Clone(d.Locations)
	for _, r := range ds.results {
		switch {
		case r.desc != nil:
			desc := *r.desc
			desc.Embedded = slices.Clone(desc.Embedded)
			d.Descriptions = append(d.Descriptions, desc)
		case r.err != nil:
			d.Errs = append(d.Errs, r.err)
		}
	}
	return d
}

// fetch reads the description at u, connecting only to to (the answering
// address, with u's port; a link-local one on the link with interface
// index linkIdx), whatever u and redirects name.
func (b *Browser) fetch(ctx context.Context, u *url.URL, to netip.AddrPort, linkIdx int) (*Description, error) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.FetchTimeout)
	defer cancel()
	host := to.Addr().WithZone("")
	if host.Is6() && host.IsLinkLocalUnicast() {
		host = host.WithZone(strconv.Itoa(linkIdx))
	}
	tr := &http.Transport{
		Proxy: nil, // never a proxy: the device is on this link
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, p, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			port, err := strconv.ParseUint(p, 10, 16)
			if err != nil {
				return nil, err
			}
			dst := netip.AddrPortFrom(host, uint16(port)).String()
			return mcast.InNet(b.cfg.InNet, func() (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "tcp", dst)
			})
		},
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 16 << 10,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects {
			return fmt.Errorf("%w: more than %d", ErrRedirect, maxRedirects)
		}
		if _, _, err := checkLocation(req.URL.String(), to.Addr()); err != nil {
			return fmt.Errorf("%w: to %s", ErrRedirect, req.URL.Redacted())
		}
		return nil
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("ssdp: %w", err)
	}
	req.Header.Set("User-Agent", "Linux/1 UPnP/1.1 netscanner/1")
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, ErrRedirect) {
			return nil, fmt.Errorf("ssdp: %s: %w", u.Redacted(), ErrRedirect)
		}
		return nil, fmt.Errorf("ssdp: fetch %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("ssdp: fetch %s: status %d", u.Redacted(), resp.StatusCode)
	}
	return ParseDescription(resp.Body)
}

// Done is closed when the round is over: listening ended, fetches done,
// sockets closed.
func (b *Browser) Done() <-chan struct{} { return b.done }

// Wait waits until the round is over, or ctx ends.
func (b *Browser) Wait(ctx context.Context) error {
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close ends the round now (fetches in flight are cancelled) and waits
// until it is over. What was learnt stays available.
func (b *Browser) Close() {
	b.cancel()
	<-b.done
}

// Device returns what addr said so far, and whether it answered. A
// link-local address needs its zone (its link's name or index), or none
// when there is only one link.
func (b *Browser) Device(addr netip.Addr) (Device, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	addr = addr.Unmap()
	if !(addr.Is6() && addr.IsLinkLocalUnicast()) {
		addr = addr.WithZone("")
	} else {
		z := addr.Zone()
		for _, l := range b.cfg.Links {
			if z == l.Name || z == strconv.Itoa(l.Index) || z == "" && len(b.cfg.Links) == 1 {
				addr = addr.WithZone(l.Name)
				break
			}
		}
	}
	ds, ok := b.devices[addr]
	if !ok {
		return Device{}, false
	}
	return ds.snapshot(), true
}

// Lookup waits until the round is over (or ctx ends) and returns what
// addr said, as Device does.
func (b *Browser) Lookup(ctx context.Context, addr netip.Addr) (Device, bool) {
	_ = b.Wait(ctx)
	return b.Device(addr)
}

// All returns every device that answered so far.
func (b *Browser) All() map[netip.Addr]Device {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[netip.Addr]Device, len(b.devices))
	for a, ds := range b.devices {
		out[a] = ds.snapshot()
	}
	return out
}

// Stats returns the round's figures so far.
func (b *Browser) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.stats
	st.Errors = slices.Clone(st.Errors)
	return st
}
