package identify

import (
	"strconv"
	"strings"
)

// Facts is everything a scan learned about one host that can tell what it
// is, gathered by the scanner from its sources (the MAC registry, name
// lookups, port probes, DNS-SD, SSDP/UPnP, banners). It is a plain struct
// so that this package needs none of those sources. Strings are as the
// sources cleaned them; empty fields are facts not known.
type Facts struct {
	// Vendor is the maker registered for the MAC address's prefix.
	Vendor string
	// Names are the host's names and where each came from.
	Names []Name
	// Ports are its open TCP ports.
	Ports []uint16
	// Services are the DNS-SD services it advertises.
	Services []Service
	// UPnP are the UPnP devices its description documents describe
	// (a root device and its embedded devices).
	UPnP []UPnP
	// Web are the web servers on its open web ports.
	Web []Web
	// SSH is its SSH server's identification line, "" if none.
	SSH string
	// Self: this machine. Mobile: this machine is a phone (the app
	// runs on one). Gateway: the default gateway. RandomMAC: the MAC
	// address is locally administered, as phones make up on each
	// Wi-Fi network.
	Self, Mobile, Gateway, RandomMAC bool
}

// Where a Name came from.
const (
	NameFromDNS     = "dns"     // PTR record
	NameFromMDNS    = "mdns"    // multicast DNS reverse lookup
	NameFromNetBIOS = "netbios" // NetBIOS node status
	NameFromLabel   = "label"   // the user's own name for the host
)

// Name is one name a host goes by.
type Name struct {
	Name   string
	Source string // NameFromDNS, NameFromMDNS, NameFromNetBIOS or NameFromLabel
}

// Service is one DNS-SD service instance.
type Service struct {
	// Type is the service type without the domain: "_ipp._tcp".
	Type string `json:"type"`
	// Instance is the instance name, a user-visible label such as
	// "Brother HL-L2350DW series".
	Instance string `json:"name,omitempty"`
	// Port is the SRV record's port; 0 if not known.
	Port uint16 `json:"port,omitempty"`
	// TXT are the TXT record's keys and values. Identity keeps only the
	// keys the rules name as identity-bearing.
	TXT map[string]string `json:"txt,omitempty"`
}

// UPnP is what a UPnP device description says about one device.
type UPnP struct {
	DeviceType   string // "urn:schemas-upnp-org:device:MediaServer:1"
	FriendlyName string
	Manufacturer string
	ModelName    string
	ModelNumber  string
	// Server is the SERVER header of the SSDP answer ("Linux/5.10
	// UPnP/1.0 MiniDLNA/1.3.0"), if any.
	Server string
	// Port is the port the description was fetched from.
	Port uint16
}

// Web is what a web server on one port said about itself.
type Web struct {
	Port   uint16
	TLS    bool
	Title  string // the page's <title>
	Server string // the Server header
	// CertSubject and CertSANs are the TLS certificate's subject and
	// alternative names.
	CertSubject string
	CertSANs    []string
}

// item is one fact as rules see it: a source and its fields by
// lower-case name, such as "type" and "txt.md" for a service. A rule
// matches one item at a time.
type item struct {
	source Source
	fields map[string]string
	lower  map[string]string // fields in lower case, for literal matching
	// txtKeys maps a service's "txt." fields to the keys as the device
	// spelled them ("txt.rpmd" to "rpMd"), for evidence.
	txtKeys map[string]string
}

func newItem(src Source) item {
	return item{source: src, fields: map[string]string{}, lower: map[string]string{}}
}

func (it *item) set(field, value string) {
	if value == "" {
		return
	}
	it.fields[field] = value
	it.lower[field] = strings.ToLower(value)
}

// items turns facts into the items rules match, source by source.
func (f *Facts) items() []item {
	var out []item
	add := func(it item) { out = append(out, it) }
	flag := func(on bool, name string) {
		if on {
			it := newItem(SourceFlag)
			it.set("flag", name)
			add(it)
		}
	}
	flag(f.Self && !f.Mobile, "self")
	flag(f.Self && f.Mobile, "self-mobile")
	flag(f.Gateway, "gateway")
	flag(f.RandomMAC, "random-mac")
	if f.Vendor != "" {
		it := newItem(SourceVendor)
		it.set("vendor", f.Vendor)
		add(it)
	}
	for _, n := range f.Names {
		it := newItem(SourceName)
		it.set("name", n.Name)
		it.set("from", n.Source)
		add(it)
	}
	for _, p := range f.Ports {
		it := newItem(SourcePort)
		it.set("port", strconv.Itoa(int(p)))
		add(it)
	}
	for _, s := range f.Services {
		it := newItem(SourceService)
		it.set("type", strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(s.Type, "."), ".local")))
		it.set("instance", s.Instance)
		if s.Port != 0 {
			it.set("port", strconv.Itoa(int(s.Port)))
		}
		for _, k := range sortedKeys(s.TXT) {
			f := "txt." + strings.ToLower(k)
			it.set(f, s.TXT[k])
			if it.txtKeys == nil {
				it.txtKeys = map[string]string{}
			}
			it.txtKeys[f] = k
		}
		add(it)
	}
	for _, u := range f.UPnP {
		it := newItem(SourceUPnP)
		it.set("devicetype", u.DeviceType)
		it.set("friendlyname", u.FriendlyName)
		it.set("manufacturer", u.Manufacturer)
		it.set("modelname", u.ModelName)
		it.set("modelnumber", u.ModelNumber)
		it.set("server", u.Server)
		add(it)
	}
	for _, w := range f.Web {
		it := newItem(SourceHTTP)
		it.set("port", strconv.Itoa(int(w.Port)))
		it.set("title", w.Title)
		it.set("server", w.Server)
		if len(it.fields) > 1 {
			add(it)
		}
		if w.CertSubject != "" || len(w.CertSANs) > 0 {
			t := newItem(SourceTLS)
			t.set("port", strconv.Itoa(int(w.Port)))
			t.set("subject", w.CertSubject)
			t.set("san", strings.Join(w.CertSANs, " "))
			add(t)
		}
	}
	if f.SSH != "" {
		it := newItem(SourceSSH)
		it.set("line", f.SSH)
		add(it)
	}
	return out
}
