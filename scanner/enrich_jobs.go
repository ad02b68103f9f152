package scanner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"netscanner/probe"
	"netscanner/scanner/names"
	"netscanner/scanner/neigh"
	"netscanner/scanner/oui"
)

// mark fills in what is known about h without asking anyone: whether it
// is this machine (with its interface's MAC) or a default gateway, and
// the reason and name it was found with.
func (x *enricher) mark(h *Host) {
	bare := h.Addr.WithZone("")
	if mac, ok := x.view.self[bare]; ok {
		h.Self = true
		if len(mac) > 0 {
			setMAC(h, mac, MACFromInterface)
		}
	}
	h.Gateway = h.Gateway || x.view.gateways[bare]
	if h.Hostname != "" && len(h.Names) == 0 {
		h.Names = []string{h.Hostname}
	}
	addReason(h, h.Reason)
}

// link is a host's link job: its MAC address, unless it is this machine,
// then its ports. Between the two it tells the scan's goroutine that the
// host's names may be looked up; its last message says it is done.
func (x *enricher) link(ctx context.Context, addr netip.Addr, self, ports bool) {
	defer func() { x.msgs <- enrichMsg{addr: addr, done: linkJob} }()
	tableClosed := false
	if !self {
		tableClosed = x.linkLayer(ctx, addr)
	}
	x.msgs <- enrichMsg{addr: addr, linked: true, tableClosed: tableClosed}
	if ports && len(x.ports) > 0 && x.env.dial != nil {
		x.banners(ctx, addr, x.portScan(ctx, addr))
	}
}

// discover is a probe job: the scan's TCP ports on a silent on-link
// address that the neighbour table could not settle (silent.go). Its one
// message carries the outcome; an accepted or refused connect makes the
// scan's goroutine report the host.
func (x *enricher) discover(ctx context.Context, addr netip.Addr) {
	res := probePorts(ctx, x.env.dial, addr, x.ports, x.portTimeout, x.connSem)
	x.msgs <- enrichMsg{addr: addr, ports: &res, done: probeJob}
}

// update sends one fact about addr to the scan's goroutine.
func (x *enricher) update(addr netip.Addr, apply func(*Host) bool) {
	x.msgs <- enrichMsg{addr: addr, apply: apply}
}

// linkLayer looks up addr's MAC address in the neighbour table. It
// reports whether the table is closed to this process, in which case a
// MAC from NetBIOS is the only one to be had.
func (x *enricher) linkLayer(ctx context.Context, addr netip.Addr) (tableClosed bool) {
	if x.env.lookupMAC == nil {
		return true
	}
	var (
		mac net.HardwareAddr
		err error
	)
	for try := 0; ; try++ {
		mac, err = x.env.lookupMAC(ctx, addr)
		if !errors.Is(err, neigh.ErrNotFound) || try == macRetries || !sleep(ctx, macRetryGap) {
			break
		}
	}
	switch {
	case err == nil:
		mac = slices.Clone(mac)
		x.update(addr, func(h *Host) bool {
			changed := setMAC(h, mac, MACFromNeighbours)
			return addReason(h, ReasonNeighbour) || changed
		})
	case errors.Is(err, neigh.ErrUnavailable):
		return true
	case errors.Is(err, neigh.ErrNotOnLink):
		note := "not on a local link: no MAC address from here"
		if x.env.route != nil {
			if r, rerr := x.env.route(ctx, addr); rerr == nil && r.Gateway.IsValid() && !r.Gateway.IsUnspecified() {
				// Its frames arrive with the router's MAC address.
				note = fmt.Sprintf("behind router %s: no MAC address from here", r.Gateway)
			}
		}
		x.update(addr, func(h *Host) bool { return addNote(h, note) })
	case errors.Is(err, neigh.ErrLocal):
		x.update(addr, func(h *Host) bool {
			changed := !h.Self
			h.Self = true
			return changed
		})
	}
	return false
}

// names is a host's names job: it looks up addr's names; its last
// message says it is done. tableClosed says whether the host's link job
// found the neighbour table closed, leaving NetBIOS the only source of
// its MAC address.
func (x *enricher) names(ctx context.Context, addr netip.Addr, tableClosed bool) {
	defer func() { x.msgs <- enrichMsg{addr: addr, done: namesJob} }()
	res := x.env.lookupNames(ctx, addr)
	if len(res.Names) == 0 && res.MAC == nil {
		return
	}
	x.update(addr, func(h *Host) bool {
		changed := false
		for _, n := range res.Names {
			if n.Name != "" && !containsFold(h.Names, n.Name) {
				h.Names = append(h.Names, n.Name)
				changed = true
			}
			switch n.Source {
			case names.SourceMDNS:
				changed = addReason(h, ReasonMDNS) || changed
			case names.SourceNetBIOS:
				changed = addReason(h, ReasonNetBIOS) || changed
			}
		}
		if h.Hostname == "" && len(h.Names) > 0 {
			h.Hostname = h.Names[0]
		}
		if res.MAC != nil {
			changed = addReason(h, ReasonNetBIOS) || changed
			if tableClosed && h.MAC == nil {
				changed = setMAC(h, slices.Clone(res.MAC), MACFromNetBIOS) || changed
			}
		}
		return changed
	})
}

// portScan connects to the scan's ports on addr, and returns those open.
func (x *enricher) portScan(ctx context.Context, addr netip.Addr) []Port {
	res := probePorts(ctx, x.env.dial, addr, x.ports, x.portTimeout, x.connSem)
	if len(res.Open) == 0 && !res.Refused {
		return nil
	}
	x.update(addr, func(h *Host) bool {
		changed := false
		if len(res.Open) > 0 {
			h.Ports = res.Open
			changed = addReason(h, ReasonTCPOpen)
		}
		if res.Refused {
			changed = addReason(h, ReasonTCPReset) || changed
		}
		return changed
	})
	return res.Open
}

// startAllNodes starts the ff02::1 probe as a worker, if the scan wants
// it, some interface qualifies and the method can send to a group.
func (x *enricher) startAllNodes(ctx context.Context) bool {
	if !x.cfg.LinkLocal || len(x.view.allNodes) == 0 || x.env.openAllNodes == nil {
		return false
	}
	if x.method != probe.Dgram && x.method != probe.Raw {
		return false
	}
	go func() {
		defer func() { x.msgs <- enrichMsg{done: allNodesJob} }()
		conn, err := x.env.openAllNodes(x.method)
		if err != nil || conn == nil {
			return // no IPv6 neighbours is a poorer result, not a failed scan
		}
		defer conn.Close()
		skip := func(a netip.Addr) bool {
			_, self := x.view.self[a.WithZone("")]
			return self || x.targets.Contains(a)
		}
		pingAllNodes(ctx, conn, x.view.allNodes, skip, func(n neighbour6) {
			x.msgs <- enrichMsg{found: &n}
		})
	}()
	return true
}

// setMAC gives h a MAC address and its maker.
func setMAC(h *Host, mac net.HardwareAddr, source MACSource) bool {
	if slices.Equal(h.MAC, mac) && h.MACSource == source {
		return false
	}
	h.MAC, h.MACSource = mac, source
	h.Vendor = ""
	if m, ok := oui.Default().Lookup(mac); ok {
		h.Vendor = m.Name // oui.PrivateName for a randomized address
	}
	return true
}

// addReason adds a sign of life to h.Reasons, once.
func addReason(h *Host, reason Reason) bool {
	if reason == "" || slices.Contains(h.Reasons, reason) {
		return false
	}
	h.Reasons = append(h.Reasons, reason)
	return true
}

// addNote adds a remark to h.Note, once.
func addNote(h *Host, note string) bool {
	if strings.Contains(h.Note, note) {
		return false
	}
	if h.Note != "" {
		h.Note += "; "
	}
	h.Note += note
	return true
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

// clone copies h with slices of its own, so that an emitted Host never
// shares memory with the record that later facts change.
func (h Host) clone() Host {
	h.MAC = slices.Clone(h.MAC)
	h.Ports = slices.Clone(h.Ports)
	h.Names = slices.Clone(h.Names)
	h.Reasons = slices.Clone(h.Reasons)
	// Services, UPnP, Web and the Identity's slices are set whole, never
	// changed in place, so they can be shared.
	return h
}

// sleep waits d, or less if ctx ends first, and reports whether it waited
// the full d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
