package scanner

// Identification (Enrich.Identify): what each host is, its model and its
// friendly name, and why (package identify).
//
// Two multicast rounds start once, when the scan does, on the links whose
// networks the targets reach: a DNS-SD browse (scanner/dnssd) and an SSDP
// search with its UPnP description fetches (scanner/ssdp). They are
// answered while the sweep runs, so a host found late does not wait for a
// query of its own, and a LAN where nobody answers costs one round of each
// (their own bounds: about 0.65 s and 1.25 s). Each round credits what it
// heard to the address that said it, and only to an address the scan
// covers; the scan's goroutine attaches it to that host once the rounds
// are over, or when the host is found after that. A host's enrichment is
// over only once the rounds are, so the HostUpdated that says Enriched
// carries them.
//
// Beside the rounds, a host's link job reads the banners of the web and
// SSH ports its port probes found open (scanner/banner): the page title,
// Server header and TLS certificate names, and the SSH identification
// line. No port is tried for this that the probes did not find open.
//
// The identity itself (Host.Identity) is computed from every fact known
// each time a host is reported, by the rules of package identify; it
// costs no packet, so it is computed with identification off too, from
// the maker, names and ports.

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"netscanner/scanner/banner"
	"netscanner/scanner/dnssd"
	"netscanner/scanner/identify"
	"netscanner/scanner/mcast"
	"netscanner/scanner/ssdp"
	"netscanner/scanner/targets"
)

// roundsJob is the worker message that says both multicast rounds are
// over.
const roundsJob jobKind = 100

// rounds is the scan's DNS-SD and SSDP rounds, seen from the scan's
// goroutine.
type rounds struct {
	dnssd *dnssd.Browser // nil when not started
	ssdp  *ssdp.Browser
	// over is set once both have ended; services and devices are then
	// their results, by address.
	over     bool
	services map[netip.Addr][]dnssd.Service
	devices  map[netip.Addr]ssdp.Device
	// waiting are the hosts whose last job is the rounds' end.
	waiting []netip.Addr
}

// startRounds starts the multicast rounds if the scan identifies hosts and
// some link to ask on lies in the targets' networks. It reports whether a
// round runs: its end comes as a roundsJob message.
func (x *enricher) startRounds(ctx context.Context) *rounds {
	r := &rounds{over: true}
	if !x.cfg.Identify || x.env.links == nil {
		return r
	}
	links, err := x.env.links(func(p netip.Prefix) bool {
		return x.targets.CountIn(targets.ScanRange(p.Masked())) > 0
	})
	if err != nil || len(links) == 0 {
		return r // no round is a poorer result, not a failed scan
	}
	scanned := func(a netip.Addr) bool {
		if x.targets.Contains(a) {
			return true
		}
		// IPv6 link-local hosts join the scan through the all-nodes
		// probe, on the links it asks; only those links' are credited.
		if !x.cfg.LinkLocal || !a.Is6() || !a.IsLinkLocalUnicast() {
			return false
		}
		return slices.ContainsFunc(x.view.allNodes, func(ifc localIface) bool { return ifc.Name == a.Zone() })
	}
	if x.env.startDNSSD != nil {
		if b, err := x.env.startDNSSD(ctx, dnssd.Config{Links: links, Scanned: scanned, InNet: x.cfg.InNet, Types: identifyTypes()}); err == nil {
			r.dnssd = b
		}
	}
	if x.env.startSSDP != nil {
		if b, err := x.env.startSSDP(ctx, ssdp.Config{Links: links, Scanned: scanned, InNet: x.cfg.InNet}); err == nil {
			r.ssdp = b
		}
	}
	if r.dnssd == nil && r.ssdp == nil {
		return r
	}
	r.over = false
	go func() {
		if r.dnssd != nil {
			<-r.dnssd.Done()
		}
		if r.ssdp != nil {
			<-r.ssdp.Done()
		}
		x.msgs <- enrichMsg{done: roundsJob}
	}()
	return r
}

// end takes the rounds' results, once both are over.
func (r *rounds) end() {
	r.over = true
	if r.dnssd != nil {
		r.services = r.dnssd.All()
	}
	if r.ssdp != nil {
		r.devices = r.ssdp.All()
	}
}

// close stops rounds still running (the scan ends early).
func (r *rounds) close() {
	if r.dnssd != nil {
		r.dnssd.Close()
	}
	if r.ssdp != nil {
		r.ssdp.Close()
	}
}

// apply gives h what the rounds heard from its address, once they are
// over; it reports whether anything changed.
func (r *rounds) apply(h *Host) bool {
	if !r.over {
		return false
	}
	changed := false
	if svcs, ok := r.services[h.Addr]; ok && h.Services == nil {
		for _, s := range svcs {
			h.Services = append(h.Services, identify.Service{Type: s.Type, Instance: s.Instance, Port: s.Port, TXT: s.TXT})
			// The SRV target is the host's own mDNS name: often the only
			// name a device that answers no reverse lookup has.
			if s.Host != "" && !containsFold(h.Names, s.Host) {
				h.Names = append(h.Names, s.Host)
				if h.Hostname == "" {
					h.Hostname = s.Host
				}
			}
		}
		addReason(h, ReasonMDNS)
		changed = true
	}
	if d, ok := r.devices[h.Addr]; ok && h.UPnP == nil {
		port := uint16(0)
		if len(d.Locations) > 0 {
			if u, err := url.Parse(d.Locations[0]); err == nil {
				if p, err := strconv.ParseUint(u.Port(), 10, 16); err == nil {
					port = uint16(p)
				}
			}
		}
		add := func(desc ssdp.Description) {
			h.UPnP = append(h.UPnP, identify.UPnP{DeviceType: desc.DeviceType, FriendlyName: desc.FriendlyName,
				Manufacturer: desc.Manufacturer, ModelName: desc.ModelName, ModelNumber: desc.ModelNumber, Server: d.Server, Port: port})
		}
		for _, desc := range d.Descriptions {
			add(desc)
			for _, e := range desc.Embedded {
				add(e)
			}
		}
		if len(h.UPnP) == 0 {
			// An answer without a readable description still says what
			// serves it.
			h.UPnP = []identify.UPnP{{Server: d.Server, Port: port}}
		}
		addReason(h, ReasonSSDP)
		changed = true
	}
	return changed
}

// identifyTypes are the service types the rules know besides DNS-SD's
// defaults: those of the rules' examples, so that a rule added for a new
// type makes the rounds ask for it.
func identifyTypes() []string {
	var out []string
	for _, t := range identify.Default().ServiceTypes() {
		if !slices.Contains(dnssd.DefaultTypes, t) && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// banners reads the banners of addr's open web and SSH ports, each
// connect taking a slot of the scan's connect semaphore.
func (x *enricher) banners(ctx context.Context, addr netip.Addr, open []Port) {
	if !x.cfg.Identify || x.env.dial == nil {
		return
	}
	p := &banner.Prober{Dial: banner.DialFunc(x.env.dial), Timeout: bannerTimeout}
	var (
		web []identify.Web
		ssh string
	)
	for _, port := range open {
		web0, useTLS := banner.WebPort(port.Number)
		isSSH := port.Number == 22 || port.Service == "ssh"
		if !web0 && !isSSH {
			continue
		}
		if x.connSem.Acquire(ctx, 1) != nil {
			return
		}
		ap := netip.AddrPortFrom(addr, port.Number)
		if isSSH {
			if s, err := p.SSH(ctx, ap); err == nil && ssh == "" {
				ssh = s.Line
			}
		} else {
			w, err := p.HTTP(ctx, ap, useTLS)
			if err != nil && useTLS && errors.Is(err, banner.ErrNotHTTP) && w.Cert == nil {
				// Not TLS after all: some consoles serve http on 8443.
				w, err = p.HTTP(ctx, ap, false)
			}
			if err == nil || w.Cert != nil {
				iw := identify.Web{Port: w.Port, TLS: w.TLS, Title: w.Title, Server: w.Server}
				if w.Cert != nil {
					iw.CertSubject, iw.CertSANs = w.Cert.Subject, w.Cert.SANs
				}
				web = append(web, iw)
			}
		}
		x.connSem.Release(1)
	}
	if len(web) == 0 && ssh == "" {
		return
	}
	x.update(addr, func(h *Host) bool {
		h.Web, h.SSH = web, ssh
		return true
	})
}

// IdentityFacts gathers what h is known by for package identify. label
// is the user's own name for the host, if any, and mobile says whether
// this machine is a phone (which decides what Self is).
func (h *Host) IdentityFacts(label string, mobile bool) identify.Facts {
	f := identify.Facts{
		Vendor: h.Vendor, Services: h.Services, UPnP: h.UPnP, Web: h.Web, SSH: h.SSH,
		Self: h.Self, Mobile: mobile, Gateway: h.Gateway,
		RandomMAC: len(h.MAC) > 0 && h.MAC[0]&0x02 != 0,
	}
	if f.RandomMAC {
		f.Vendor = "" // oui.PrivateName names no maker
	}
	for _, p := range h.Ports {
		f.Ports = append(f.Ports, p.Number)
	}
	netbios := slices.Contains(h.Reasons, ReasonNetBIOS)
	for _, n := range h.Names {
		src := identify.NameFromDNS
		switch {
		case strings.HasSuffix(strings.ToLower(n), ".local"):
			src = identify.NameFromMDNS
		case netbios && !strings.Contains(n, "."):
			src = identify.NameFromNetBIOS
		}
		f.Names = append(f.Names, identify.Name{Name: n, Source: src})
	}
	if label != "" {
		f.Names = append(f.Names, identify.Name{Name: label, Source: identify.NameFromLabel})
	}
	return f
}

// identifyHost computes h's identity from what is known of it.
func identifyHost(h *Host) {
	h.Identity = identify.Identify(h.IdentityFacts("", false))
}

// linksFor is the system's list of links to browse, read in the scan's
// network.
func linksFor(inNet func(func()) error) func(func(netip.Prefix) bool) ([]mcast.Link, error) {
	return func(covers func(netip.Prefix) bool) ([]mcast.Link, error) {
		return within(inNet, func() ([]mcast.Link, error) { return mcast.LocalLinks(covers) })
	}
}
