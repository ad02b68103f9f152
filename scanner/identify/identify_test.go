package identify

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
)

func svc(typ, instance string, port uint16, txt ...string) Service {
	s := Service{Type: typ, Instance: instance, Port: port, TXT: map[string]string{}}
	for _, kv := range txt {
		k, v, _ := strings.Cut(kv, "=")
		s.TXT[k] = v
	}
	return s
}

func names(src string, ns ...string) []Name {
	var out []Name
	for _, n := range ns {
		out = append(out, Name{Name: n, Source: src})
	}
	return out
}

// TestFingerprints is the classification table: what real devices
// advertise (service types and TXT records as they publish them, UPnP
// descriptions, web titles and headers, SSH banners, MAC makers, names
// and open ports), and the kind, model and name a user should see.
func TestFingerprints(t *testing.T) {
	for _, tc := range []struct {
		name        string
		f           Facts
		kind        Kind
		model, fn   string
		minConf     float64
		ruleInPlace string // a rule that must be among the evidence
	}{
		{"Chromecast Ultra", Facts{Vendor: "Google, Inc.", Ports: []uint16{8008, 8009}, Services: []Service{
			svc("_googlecast._tcp", "Chromecast-Ultra-4b1b7f2ab9a0ec2d", 8009, "id=4b1b7f2ab9a0ec2d", "md=Chromecast Ultra", "fn=Living Room TV", "ve=05", "ca=4101", "ic=/setup/icon.png")}},
			KindStreamingStick, "Chromecast Ultra", "Living Room TV", 0.9, "cast-stick"},
		{"Google Nest Mini", Facts{Vendor: "Google, Inc.", Services: []Service{
			svc("_googlecast._tcp", "Google-Nest-Mini-8c6f5a", 8009, "md=Google Nest Mini", "fn=Kitchen speaker")}},
			KindSpeaker, "Google Nest Mini", "Kitchen speaker", 0.85, "cast-speaker"},
		{"Sony Bravia with Cast", Facts{Vendor: "Sony Corporation", Services: []Service{
			svc("_googlecast._tcp", "BRAVIA-4K-GB-1a2b", 8009, "md=BRAVIA 4K GB", "fn=Sony TV")}},
			KindTV, "BRAVIA 4K GB", "Sony TV", 0.9, "cast-tv"},
		{"Sonos One by UPnP", Facts{Vendor: "Sonos, Inc.", Ports: []uint16{1400}, UPnP: []UPnP{
			{DeviceType: "urn:schemas-upnp-org:device:ZonePlayer:1", Manufacturer: "Sonos, Inc.", ModelName: "Sonos One", ModelNumber: "S13", FriendlyName: "198.18.0.20 - Sonos One - RINCON_B8E937123456"},
			{DeviceType: "urn:schemas-upnp-org:device:MediaRenderer:1", Manufacturer: "Sonos, Inc.", ModelName: "Sonos One", FriendlyName: "198.18.0.20 - Sonos One Media Renderer"}},
			Services: []Service{svc("_sonos._tcp", "RINCON_B8E937123456@Kitchen", 1443, "info=/api/v1/players/RINCON_B8E937123456/info"),
				svc("_spotify-connect._tcp", "Kitchen", 1400)}},
			KindSpeaker, "Sonos One", "", 0.9, "upnp-sonos"},
		{"Apple TV 4K", Facts{Vendor: "Apple, Inc.", Ports: []uint16{7000}, Services: []Service{
			svc("_airplay._tcp", "Living Room", 7000, "model=AppleTV6,2", "features=0x4A7FDFD5,0xBC157FDE", "srcvers=620.8.2"),
			svc("_companion-link._tcp", "Living Room", 49153, "rpMd=AppleTV6,2", "rpVr=620.8.2"),
			svc("_raop._tcp", "A1B2C3D4E5F6@Living Room", 7000, "am=AppleTV6,2")}},
			KindStreamingStick, "Apple TV 4K", "Living Room", 0.75, "apple-tv"},
		{"iPhone via companion-link", Facts{Vendor: "private address (randomized)", RandomMAC: true, Ports: []uint16{62078}, Services: []Service{
			svc("_companion-link._tcp", "Alice's iPhone", 49152, "rpMd=iPhone14,2", "rpFl=0x20000", "rpVr=510.12.2")}},
			KindPhone, "iPhone 13 Pro", "Alice's iPhone", 0.9, "apple-iphone"},
		{"iPad", Facts{RandomMAC: true, Services: []Service{svc("_companion-link._tcp", "Bob's iPad", 49152, "rpMd=iPad13,1")}},
			KindTablet, "iPad", "Bob's iPad", 0.9, "apple-ipad"},
		{"HomePod mini", Facts{Vendor: "Apple, Inc.", Services: []Service{
			svc("_airplay._tcp", "Bedroom", 7000, "model=AudioAccessory5,1"), svc("_raop._tcp", "AABBCCDDEEFF@Bedroom", 7000, "am=AudioAccessory5,1")}},
			KindSpeaker, "HomePod mini", "Bedroom", 0.6, "apple-homepod"},
		{"MacBook Pro", Facts{Vendor: "Apple, Inc.", Ports: []uint16{22, 445}, Names: names(NameFromMDNS, "Annas-MacBook-Pro.local"), Services: []Service{
			svc("_device-info._tcp", "Anna's MacBook Pro", 0, "model=MacBookPro18,3", "osxvers=23"),
			svc("_smb._tcp", "Anna's MacBook Pro", 445), svc("_ssh._tcp", "Anna's MacBook Pro", 22)}},
			KindLaptop, "MacBook Pro", "Anna's MacBook Pro", 0.8, "apple-macbook"},
		{"HP printer via IPP", Facts{Vendor: "HP Inc.", Ports: []uint16{80, 443, 631, 9100}, Services: []Service{
			svc("_ipp._tcp", "HP LaserJet MFP M428fdw (A1B2C3)", 631, "ty=HP LaserJet MFP M428fdw", "product=(HP LaserJet MFP M428fdw)", "usb_MFG=HP", "usb_MDL=LaserJet MFP M428fdw", "rp=ipp/print", "note=2nd floor", "adminurl=http://NPI1A2B3C.local./"),
			svc("_uscan._tcp", "HP LaserJet MFP M428fdw (A1B2C3)", 8080, "ty=HP LaserJet MFP M428fdw")}},
			KindPrinter, "HP LaserJet MFP M428fdw", "HP LaserJet MFP M428fdw (A1B2C3)", 0.9, "printer-ty"},
		{"Brother printer via IPP", Facts{Vendor: "Brother industries, LTD.", Names: names(NameFromMDNS, "BRN3C2AF4123456.local"), Services: []Service{
			svc("_ipp._tcp", "Brother HL-L2350DW series", 631, "ty=Brother HL-L2350DW series", "product=(Brother HL-L2350DW series)", "usb_MFG=Brother", "usb_MDL=HL-L2350DW series"),
			svc("_printer._tcp", "Brother HL-L2350DW series", 515), svc("_pdl-datastream._tcp", "Brother HL-L2350DW series", 9100)}},
			KindPrinter, "Brother HL-L2350DW", "Brother HL-L2350DW series", 0.9, "printer-ty"},
		{"Epson printer by product only", Facts{Vendor: "Seiko Epson Corporation", Services: []Service{
			svc("_ipp._tcp", "EPSON ET-2750 Series", 631, "product=(EPSON ET-2750 Series)", "usb_MFG=EPSON")}},
			KindPrinter, "EPSON ET-2750", "EPSON ET-2750 Series", 0.9, "printer-product"},
		{"Synology NAS via _http TXT", Facts{Vendor: "Synology Incorporated", Ports: []uint16{22, 80, 139, 443, 445, 5000, 5001}, Services: []Service{
			svc("_http._tcp", "DiskStation", 5000, "vendor=Synology", "model=DS920+", "serial=2030ABCDEF", "version_major=7", "admin_port=5000", "secure_admin_port=5001"),
			svc("_smb._tcp", "DiskStation", 445), svc("_device-info._tcp", "DiskStation", 0, "model=Xserve"), svc("_adisk._tcp", "DiskStation", 9)}},
			KindNAS, "Synology DS920+", "DiskStation", 0.85, "http-synology"},
		{"Synology NAS via UPnP and title", Facts{Vendor: "Synology Incorporated", UPnP: []UPnP{{DeviceType: "urn:schemas-upnp-org:device:Basic:1", Manufacturer: "Synology Inc", ModelName: "DS218j", FriendlyName: "FamilyNAS (DS218j)"}},
			Web: []Web{{Port: 5000, Title: "Synology DiskStation - FamilyNAS", Server: "nginx"}}},
			KindNAS, "Synology DS218j", "FamilyNAS (DS218j)", 0.9, "upnp-synology"},
		{"QNAP NAS via UPnP and title", Facts{Vendor: "QNAP Systems, Inc.", UPnP: []UPnP{{Manufacturer: "QNAP Systems, Inc.", ModelName: "TS-453D", FriendlyName: "NAS453D"}},
			Web: []Web{{Port: 8080, Title: "QTS"}}},
			KindNAS, "QNAP TS-453D", "NAS453D", 0.9, "upnp-qnap"},
		{"Philips Hue bridge", Facts{Vendor: "Philips Lighting BV", Services: []Service{svc("_hue._tcp", "Hue Bridge - 1A2B3C", 443, "bridgeid=001788fffe1a2b3c", "modelid=BSB002")},
			UPnP: []UPnP{{Manufacturer: "Signify", ModelName: "Philips hue bridge 2015", ModelNumber: "BSB002", FriendlyName: "Philips hue (198.18.0.30)"}}},
			KindSmartHomeHub, "Philips Hue Bridge (v2)", "", 0.9, "hue-bridge"},
		{"Raspberry Pi by OUI and ssh", Facts{Vendor: "Raspberry Pi Trading Ltd", Ports: []uint16{22}, SSH: "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", Names: names(NameFromMDNS, "pihole.local")},
			KindComputer, "Raspberry Pi", "", 0.6, "vendor-raspberry-pi"},
		{"older Raspberry Pi OS banner", Facts{Vendor: "Raspberry Pi Foundation", Ports: []uint16{22}, SSH: "SSH-2.0-OpenSSH_7.9p1 Raspbian-10+deb10u2+rpt1"},
			KindComputer, "Raspberry Pi", "", 0.7, "ssh-raspbian"},
		{"Ubiquiti access point", Facts{Vendor: "Ubiquiti Networks Inc.", Ports: []uint16{22}, SSH: "SSH-2.0-dropbear_2019.78", Names: names(NameFromDNS, "UAP-AC-Lite.lan")},
			KindAccessPoint, "", "", 0.5, "vendor-ap"},
		{"FRITZ!Box via UPnP", Facts{Gateway: true, Vendor: "AVM Audiovisuelles Marketing und Computersysteme GmbH", Ports: []uint16{53, 80, 443}, Names: names(NameFromDNS, "fritz.box"),
			UPnP: []UPnP{{DeviceType: "urn:schemas-upnp-org:device:InternetGatewayDevice:2", Manufacturer: "AVM Berlin", ModelName: "FRITZ!Box 7590", ModelNumber: "avm", FriendlyName: "FRITZ!Box 7590"}},
			Web:  []Web{{Port: 80, Title: "FRITZ!Box"}, {Port: 443, TLS: true, Title: "FRITZ!Box", CertSubject: "CN=fritz.box", CertSANs: []string{"fritz.box", "www.fritz.box", "myfritz.box"}}}},
			KindRouter, "FRITZ!Box 7590", "FRITZ!Box 7590", 0.95, "upnp-fritzbox"},
		{"Roku Ultra", Facts{Vendor: "Roku, Inc", Ports: []uint16{8060}, UPnP: []UPnP{{DeviceType: "urn:roku-com:device:player:1-0", Manufacturer: "Roku", ModelName: "Roku Ultra", ModelNumber: "4800X", FriendlyName: "Living Room Roku"}}},
			KindStreamingStick, "Roku Ultra", "Living Room Roku", 0.9, "upnp-roku"},
		{"Amazon Fire TV Stick", Facts{Vendor: "Amazon Technologies Inc.", Services: []Service{svc("_amzn-wplay._tcp", "amzn.dmgr:8C8E47DA", 8009, "n=Fire TV Stick", "s=0", "at=Ab12")},
			UPnP: []UPnP{{DeviceType: "urn:dial-multiscreen-org:device:dial:1", Manufacturer: "Amazon.com, Inc.", ModelName: "AFTMM", FriendlyName: "Fire TV Stick 4K"}}},
			KindStreamingStick, "Fire TV Stick 4K", "Fire TV Stick 4K", 0.9, "amazon-fire-tv"},
		{"PlayStation 5 by UPnP", Facts{Vendor: "Sony Interactive Entertainment Inc.", UPnP: []UPnP{{DeviceType: "urn:dial-multiscreen-org:device:dial:1", Manufacturer: "Sony Interactive Entertainment Inc.", ModelName: "PlayStation 5", FriendlyName: "PS5-123"}}},
			KindGameConsole, "PlayStation 5", "PS5-123", 0.6, "upnp-playstation"},
		{"Xbox by UPnP", Facts{Vendor: "Microsoft", UPnP: []UPnP{{DeviceType: "urn:schemas-upnp-org:device:MediaRenderer:1", Manufacturer: "Microsoft Corporation", ModelName: "Xbox One", FriendlyName: "Xbox-SystemOS"}}},
			KindGameConsole, "Xbox One", "Xbox-SystemOS", 0.6, "upnp-xbox"},
		{"Hikvision camera by title and server", Facts{Vendor: "Hangzhou Hikvision Digital Technology Co.,Ltd.", Ports: []uint16{80, 554}, Web: []Web{{Port: 80, Title: "Hikvision - Login", Server: "App-webs/"}}},
			KindCamera, "Hikvision camera", "", 0.9, "title-camera"},
		{"Home Assistant", Facts{Vendor: "Raspberry Pi Trading Ltd", Ports: []uint16{22, 8123}, Names: names(NameFromMDNS, "homeassistant.local"),
			Services: []Service{svc("_home-assistant._tcp", "Home", 8123, "location_name=Our Home", "uuid=3b1a", "version=2024.1.0", "base_url=http://198.18.0.40:8123")},
			Web:      []Web{{Port: 8123, Title: "Home Assistant"}}},
			KindSmartHomeHub, "Home Assistant", "Our Home", 0.35, "home-assistant"},
		{"Shelly Plus 1PM", Facts{Vendor: "Espressif Inc.", Ports: []uint16{80}, Names: names(NameFromMDNS, "shellyplus1pm-a8032ab12345.local"),
			Services: []Service{svc("_shelly._tcp", "shellyplus1pm-a8032ab12345", 80, "gen=2", "app=Plus1PM", "ver=1.0.8"), svc("_http._tcp", "shellyplus1pm-a8032ab12345", 80)}},
			KindIoT, "Shelly Plus1PM", "", 0.9, "shelly-app"},
		{"ESPHome sensor", Facts{Vendor: "Espressif Inc.", Services: []Service{svc("_esphomelib._tcp", "kitchen-sensor", 6053, "friendly_name=Kitchen sensor", "version=2024.2.0", "platform=ESP32", "board=esp32dev", "network=wifi")}},
			KindIoT, "ESPHome ESP32", "Kitchen sensor", 0.9, "esphome-platform"},
		{"Windows PC by NetBIOS and 445", Facts{Vendor: "Intel Corporate", Ports: []uint16{139, 445, 3389}, Names: names(NameFromNetBIOS, "DESKTOP-7HK2ZQX")},
			KindComputer, "", "", 0.8, "name-windows-desktop"},
		{"Windows laptop", Facts{Vendor: "Intel Corporate", Ports: []uint16{445}, Names: names(NameFromNetBIOS, "LAPTOP-4R2T8QWE")},
			KindLaptop, "", "", 0.6, "name-windows-laptop"},
		{"TP-Link router via UPnP IGD", Facts{Gateway: true, Vendor: "TP-LINK TECHNOLOGIES CO.,LTD.", Ports: []uint16{53, 80},
			UPnP: []UPnP{{DeviceType: "urn:schemas-upnp-org:device:InternetGatewayDevice:1", Manufacturer: "TP-Link", ModelName: "Archer C7", FriendlyName: "Archer C7"}}},
			KindRouter, "TP-Link Archer C7", "Archer C7", 0.9, "upnp-type-igd"},
		{"HomeKit camera", Facts{Vendor: "Espressif Inc.", Services: []Service{svc("_hap._tcp", "Porch Camera 3A2B", 8080, "ci=17", "md=Aqara G2H", "c#=3", "sf=0")}},
			KindCamera, "Aqara G2H", "Porch Camera 3A2B", 0.6, "hap-camera"},
		{"minidlna server", Facts{Ports: []uint16{22}, UPnP: []UPnP{{DeviceType: "urn:schemas-upnp-org:device:MediaServer:1", Manufacturer: "Justin Maggard",
			ModelName: "Windows Media Connect compatible (MiniDLNA)", ModelNumber: "1.3.3", FriendlyName: "Family media", Server: "Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.3"}}},
			KindNAS, "MiniDLNA media server", "Family media", 0.5, "upnp-minidlna"},
		{"OpenWrt router by title and dropbear", Facts{Gateway: true, Ports: []uint16{22, 53, 80}, SSH: "SSH-2.0-dropbear", Web: []Web{{Port: 80, Title: "OpenWrt - LuCI"}}},
			KindRouter, "OpenWrt router", "", 0.7, "title-openwrt"},
		{"HP printer by web server only", Facts{Vendor: "HP Inc.", Ports: []uint16{80, 443}, Web: []Web{{Port: 80, Title: "HP OfficeJet Pro 9010 series", Server: "HP HTTP Server; HP OfficeJet Pro 9010 series - 1KR53A; Serial Number: TH12345"}}},
			KindPrinter, "HP OfficeJet Pro 9010 series", "", 0.8, "title-hp-printer"},
		{"Samsung TV by UPnP", Facts{Vendor: "Samsung Electronics Co.,Ltd", UPnP: []UPnP{{DeviceType: "urn:samsung.com:device:RemoteControlReceiver:1", Manufacturer: "Samsung Electronics", ModelName: "QE65Q80T", FriendlyName: "[TV] Samsung Q80 Series (65)"}}},
			KindTV, "Samsung QE65Q80T", "Samsung Q80 Series (65)", 0.75, "upnp-samsung-tv"},
		{"Android phone by name and random MAC", Facts{RandomMAC: true, Names: names(NameFromDNS, "Galaxy-S21.lan")},
			KindPhone, "", "", 0.5, "name-android"},
		{"Nintendo Switch by OUI", Facts{Vendor: "Nintendo Co.,Ltd"}, KindGameConsole, "", "", 0.6, "vendor-console"},
		{"this machine on a desktop", Facts{Self: true, Vendor: "Intel Corporate", Ports: []uint16{22}}, KindComputer, "", "", 0.9, "flag-self"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := Identify(tc.f)
			if id.Kind != tc.kind || id.Model != tc.model || id.FriendlyName != tc.fn {
				t.Errorf("got %s %q %q (confidence %.2f), want %s %q %q", id.Kind, id.Model, id.FriendlyName, id.Confidence, tc.kind, tc.model, tc.fn)
				for _, e := range id.Evidence {
					t.Log("  ", e)
				}
			}
			if id.Confidence < tc.minConf {
				t.Errorf("confidence %.2f, want at least %.2f", id.Confidence, tc.minConf)
			}
			found := false
			for _, e := range id.Evidence {
				found = found || e.Rule == tc.ruleInPlace
			}
			if !found {
				t.Errorf("rule %s is not among the evidence", tc.ruleInPlace)
			}
		})
	}
}

// The cases the app's guesser passed before identify replaced it.
func TestFormerGuesses(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    Facts
		want Kind
	}{
		{"self on desktop", Facts{Self: true}, KindComputer},
		{"self on phone", Facts{Self: true, Mobile: true}, KindPhone},
		{"gateway", Facts{Gateway: true, Vendor: "Apple"}, KindRouter},
		{"iphone by name", Facts{Names: names(NameFromMDNS, "Johns-iPhone"), Vendor: "Apple, Inc."}, KindPhone},
		{"iphone by port", Facts{Vendor: "Apple, Inc.", Ports: []uint16{62078}}, KindPhone},
		{"macbook", Facts{Names: names(NameFromMDNS, "annas-macbook-air"), Vendor: "Apple, Inc."}, KindLaptop},
		{"apple alone is too little", Facts{Vendor: "Apple, Inc."}, KindUnknown},
		{"brother printer", Facts{Names: names(NameFromNetBIOS, "BRN3C2AF4"), Vendor: "Brother Industries"}, KindPrinter},
		{"hp printer by ports", Facts{Vendor: "Hewlett Packard", Ports: []uint16{80, 631, 9100}}, KindPrinter},
		{"mikrotik", Facts{Vendor: "Routerboard.com"}, KindRouter},
		{"roku", Facts{Vendor: "Roku, Inc"}, KindStreamingStick},
		{"chromecast", Facts{Names: names(NameFromMDNS, "chromecast"), Vendor: "Google, Inc.", Ports: []uint16{8008, 8009}}, KindStreamingStick},
		{"windows pc", Facts{Names: names(NameFromNetBIOS, "desktop-7hk2"), Ports: []uint16{135, 445, 3389}}, KindComputer},
		{"label decides", Facts{Vendor: "Espressif", Names: names(NameFromLabel, "living room tv")}, KindTV},
		{"nothing known", Facts{}, KindUnknown},
		{"tie is unknown", Facts{Ports: []uint16{22, 7000}}, KindUnknown},
	} {
		if got := Identify(tc.f).Kind; got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCombine(t *testing.T) {
	ev := func(pairs ...any) []Evidence {
		var out []Evidence
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, Evidence{Kind: pairs[i].(Kind), Weight: pairs[i+1].(float64)})
		}
		return out
	}
	for _, tc := range []struct {
		name string
		ev   []Evidence
		kind Kind
		conf float64
	}{
		{"one fact", ev(KindPrinter, 0.9), KindPrinter, 0.9},
		{"two agree", ev(KindPrinter, 0.5, KindPrinter, 0.5), KindPrinter, 0.75},
		{"a rival discounts", ev(KindPrinter, 0.9, KindComputer, 0.5), KindPrinter, 0.45},
		{"a tie is unknown", ev(KindPrinter, 0.5, KindComputer, 0.5), KindUnknown, 0},
		{"too weak", ev(KindPhone, 0.15), KindUnknown, 0},
		{"parent supports child", ev(KindLaptop, 0.5, KindComputer, 0.5), KindLaptop, 0.75},
		{"parent alone", ev(KindComputer, 0.5), KindComputer, 0.5},
		{"siblings share the parent; the rival counts its own evidence", ev(KindNAS, 0.6, KindLaptop, 0.6, KindComputer, 0.5), KindLaptop, 0.32},
		{"a weak child folds into its parent", ev(KindNAS, 0.6, KindLaptop, 0.3, KindComputer, 0.5), KindNAS, 0.8},
		{"the parent's stronger evidence wins", ev(KindRouter, 0.7, KindAccessPoint, 0.45), KindRouter, 0.84},
		{"a rival that is the parent's sibling", ev(KindNAS, 0.9, KindPrinter, 0.5), KindNAS, 0.45},
		{"model-only evidence counts for nothing", ev(KindUnknown, 0.9, KindIoT, 0.5), KindIoT, 0.5},
	} {
		k, c := combine(tc.ev)
		if k != tc.kind || c != tc.conf {
			t.Errorf("%s: %s %.2f, want %s %.2f", tc.name, k, c, tc.kind, tc.conf)
		}
	}
}

func TestEvidenceString(t *testing.T) {
	id := Identify(Facts{Services: []Service{svc("_googlecast._tcp", "x", 8009, "md=Chromecast Ultra", "fn=Living Room TV")}})
	if len(id.Evidence) == 0 {
		t.Fatal("no evidence")
	}
	if got, want := id.Evidence[0].String(), `_googlecast._tcp md=Chromecast Ultra → streaming stick, model "Chromecast Ultra", name "Living Room TV", weight 0.9`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	id = Identify(Facts{Services: []Service{svc("_companion-link._tcp", "Alice's iPhone", 1, "rpMd=iPhone14,2")}})
	if got := id.Evidence[0].String(); got != `_companion-link._tcp rpMd=iPhone14,2 → phone, model "iPhone 13 Pro", weight 0.9` {
		t.Errorf("TXT key spelling: %s", got)
	}
	for f, want := range map[string]Facts{
		"the default gateway":                       {Gateway: true},
		"maker Roku, Inc":                           {Vendor: "Roku, Inc"},
		"port 9100 open":                            {Ports: []uint16{9100}},
		"name fritz.box (dns)":                      {Names: names(NameFromDNS, "fritz.box")},
		"web :80 title=OpenWrt - LuCI":              {Web: []Web{{Port: 80, Title: "OpenWrt - LuCI"}}},
		"TLS certificate :443 subject=CN=fritz.box": {Web: []Web{{Port: 443, TLS: true, CertSubject: "CN=fritz.box"}}},
		"UPnP modelName=FRITZ!Box 7590":             {UPnP: []UPnP{{ModelName: "FRITZ!Box 7590"}}},
		"SSH banner SSH-2.0-ROSSSH":                 {SSH: "SSH-2.0-ROSSSH"},
	} {
		id := Identify(want)
		if len(id.Evidence) == 0 || id.Evidence[0].Fact != f {
			t.Errorf("fact %q: got %+v", f, id.Evidence)
		}
	}
}

func TestServices(t *testing.T) {
	id := Identify(Facts{
		Services: []Service{
			svc("_ipp._tcp.local.", "Printer", 631, "ty=Brother HL-L2350DW series", "UUID=e3248000-80ce-11db-8000-30055c773bcf", "adminurl=http://x/"),
			svc("_http._tcp", "Console", 8080, "path=/admin/"),
		},
		UPnP: []UPnP{{DeviceType: "urn:schemas-upnp-org:device:MediaServer:1", FriendlyName: "Media", Port: 8200}},
		Web:  []Web{{Port: 8080, Title: "dup"}, {Port: 443, TLS: true, Title: "Secure console"}},
	})
	b, _ := json.Marshal(id.Services)
	want := `[{"type":"_ipp._tcp","name":"Printer","port":631,"txt":{"adminurl":"http://x/","ty":"Brother HL-L2350DW series"}},` +
		`{"type":"_http._tcp","name":"Console","port":8080,"txt":{"path":"/admin/"}},` +
		`{"type":"upnp:MediaServer:1","name":"Media","port":8200},{"type":"https","name":"Secure console","port":443}]`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	a4, a6 := netip.MustParseAddr("198.18.0.5"), netip.MustParseAddr("fe80::1%veth0")
	for _, tc := range []struct {
		s    Service
		addr netip.Addr
		want string
	}{
		{id.Services[0], a4, "http://198.18.0.5:631/"},
		{id.Services[1], a4, "http://198.18.0.5:8080/admin/"},
		{id.Services[2], a4, ""},
		{id.Services[3], a6, "https://[fe80::1%25veth0]:443/"},
		{svc("_http._tcp", "x", 80, "path=//evil.example/"), a4, "http://198.18.0.5:80/"},
		{svc("_http._tcp", "x", 80, "path=/a b"), a4, "http://198.18.0.5:80/"},
		{svc("_ssh._tcp", "x", 22), a4, ""},
		{svc("_http._tcp", "x", 0), a4, ""},
	} {
		if got := tc.s.URL(tc.addr); got != tc.want {
			t.Errorf("URL(%+v) = %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestKinds(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Kinds() {
		if seen[k.String()] || k.Label() == "" {
			t.Errorf("kind %d: %q", k, k.String())
		}
		seen[k.String()] = true
		var back Kind
		if err := back.UnmarshalText([]byte(k.String())); err != nil || back != k {
			t.Errorf("%s does not read back", k)
		}
	}
	if len(seen) != 16 || Kind(99).String() != "unknown" || KindLaptop.Parent() != KindComputer || KindPhone.Parent() != KindUnknown {
		t.Error("kinds")
	}
	if _, err := ParseKind("toaster"); err == nil {
		t.Error("toaster is a kind")
	}
}
