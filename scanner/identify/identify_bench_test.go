package identify

import "testing"

// BenchmarkIdentify times one identification of a host with a typical
// set of facts (a printer: maker, name, ports, two services, a web page).
func BenchmarkIdentify(b *testing.B) {
	f := Facts{Vendor: "Brother industries, LTD.", Names: []Name{{Name: "BRN3C2AF4123456.local", Source: NameFromMDNS}},
		Ports: []uint16{80, 443, 515, 631, 9100},
		Services: []Service{svc("_ipp._tcp", "Brother HL-L2350DW series", 631, "ty=Brother HL-L2350DW series", "product=(Brother HL-L2350DW series)", "usb_MFG=Brother"),
			svc("_http._tcp", "Brother HL-L2350DW series", 80)},
		Web: []Web{{Port: 80, Title: "Brother HL-L2350DW series", Server: "debut/1.30"}}}
	Default()
	b.ReportAllocs()
	for b.Loop() {
		Identify(f)
	}
}

// BenchmarkIdentifyBare times a host with only an address's worth of
// facts (maker and one port), as most hosts of a big sweep have.
func BenchmarkIdentifyBare(b *testing.B) {
	f := Facts{Vendor: "Intel Corporate", Ports: []uint16{22}}
	Default()
	b.ReportAllocs()
	for b.Loop() {
		Identify(f)
	}
}
