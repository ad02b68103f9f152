package scanner

// Traffic is the one place where the user's off switches become a
// scan's enrichment; the command line (--no-names, --no-link-local,
// --ports) and the app's settings both go through it, so that a switch
// means the same packets everywhere. docs/packets.md lists every class
// of packet a default scan sends and the switch that silences it.
//
// The sweep's own requests (the echo requests, or the tcp method's
// connects) are the scan itself and have no switch.
type Traffic struct {
	// NoNames sends no name lookups: no DNS PTR query to the system's
	// resolver, no multicast DNS query, no NetBIOS node status query.
	NoNames bool
	// NoLinkLocal sends no echo request to ff02::1 and so finds no IPv6
	// link-local neighbours: nothing at all goes to them (no unicast
	// echo, connects or name queries).
	NoLinkLocal bool
	// NoIdentify sends nothing to tell what hosts are: no DNS-SD browse,
	// no SSDP search or UPnP description fetch, no banner read of an
	// open web or SSH port (Enrich.Identify).
	NoIdentify bool
	// Ports are the TCP ports tried on each live host; empty sends no
	// TCP connect at all (no port probes, and no probes of silent
	// on-link addresses, which use the same ports).
	Ports []uint16
}

// DefaultTraffic is what a home user wants: names, the default ports and
// the link-local neighbours.
func DefaultTraffic() Traffic { return Traffic{Ports: DefaultPorts()} }

// Enrich returns the enrichment that sends what t allows and nothing
// more.
func (t Traffic) Enrich() *Enrich {
	return &Enrich{Names: !t.NoNames, Ports: append([]uint16(nil), t.Ports...), LinkLocal: !t.NoLinkLocal, Identify: !t.NoIdentify}
}
