package ssdp

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"netscanner/internal/testnet"
)

var hostileSpecs = []testnet.BridgedSpec{
	{Label: "victim", MAC: "00:11:22:00:01:10", Addr4: "198.18.100.10"},
	{Label: "liar", MAC: "00:11:22:00:01:11", Addr4: "198.18.100.11"},
	{Label: "redir", MAC: "00:11:22:00:01:12", Addr4: "198.18.100.12"},
	{Label: "huge", MAC: "00:11:22:00:01:13", Addr4: "198.18.100.13"},
	{Label: "bomb", MAC: "00:11:22:00:01:14", Addr4: "198.18.100.14"},
	{Label: "slow", MAC: "00:11:22:00:01:15", Addr4: "198.18.100.15"},
	{Label: "named", MAC: "00:11:22:00:01:16", Addr4: "198.18.100.16"},
	{Label: "garbage", MAC: "00:11:22:00:01:17", Addr4: "198.18.100.17"},
	{Label: "outside", MAC: "00:11:22:00:01:18", Addr4: "198.18.100.18"},
	{Label: "tv", MAC: "00:11:22:00:01:19", Addr4: "198.18.100.19"},
}

// answer is an M-SEARCH answer with the given LOCATION and ST.
func answer(loc, st string) []byte {
	return fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\nLOCATION: %s\r\nSERVER: Linux/4.9 UPnP/1.0 Test/1\r\nST: %s\r\nUSN: uuid:1234::%s\r\n\r\n", loc, st, st)
}

func isSearch(req []byte) bool { return strings.HasPrefix(string(req), "M-SEARCH * HTTP/1.1\r\n") }

// onSearch answers every M-SEARCH over IPv4 with the given datagrams.
func onSearch(replies ...[]byte) testnet.SSDPHandler {
	return func(req []byte, from netip.AddrPort) []testnet.SSDPReply {
		if !isSearch(req) || from.Addr().Is6() {
			return nil
		}
		var out []testnet.SSDPReply
		for i, r := range replies {
			out = append(out, testnet.SSDPReply{Raw: r, After: time.Duration(i) * 20 * time.Millisecond})
		}
		return out
	}
}

const tvXML = `<?xml version="1.0" encoding="ISO-8859-1"?>
<root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>
<device><deviceType>urn:schemas-upnp-org:device:MediaRenderer:1</deviceType>
<friendlyName>[TV] Samsung Q60 Series (55)` + "\xe9" + `</friendlyName>
<manufacturer>Samsung Electronics</manufacturer><modelName>QE55Q60TAUXXU</modelName><modelNumber>AllShare1.0</modelNumber>
<modelDescription>Samsung&#x202E;&#x200B; TV</modelDescription>
<UDN>uuid:0ba6ae80-0001</UDN>
<deviceList><device><deviceType>urn:dial-multiscreen-org:device:dialreceiver:1</deviceType><friendlyName>DIAL</friendlyName>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:Nested:1</deviceType></device></deviceList></device></deviceList>
</device></root>`

const bombXML = `<?xml version="1.0"?>
<!DOCTYPE root [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<root><device><friendlyName>&d;&d;&d;&d;&d;&d;&d;&d;</friendlyName></device></root>`

// TestHostileLAN searches a LAN of responders that point their LOCATION at
// another host or at a name, redirect elsewhere, serve oversized, entity
// bomb or endless descriptions, or send garbage: none is fetched from the
// wrong host, none is credited, and the round stays bounded.
func TestHostileLAN(t *testing.T) {
	lan := testnet.NewBridged(t, hostileSpecs...)
	h := func(label string) *testnet.BridgedHost { return lan.Host(label) }
	url := func(label, path string) string { return fmt.Sprintf("http://%s:8080%s", h(label).Addr4, path) }
	serve := func(label string, fn http.HandlerFunc) *testnet.HTTPServer {
		return testnet.StartHTTP(t, h(label).NS, h(label).Addr4.String()+":8080", fn)
	}
	xmlHandler := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprint(w, body)
		}
	}

	// The victim serves a description, but answers no search: nothing
	// may fetch it on anyone's word.
	victimHTTP := serve("victim", xmlHandler(tvXML))
	// liar says its description is on the victim.
	testnet.StartSSDPResponder(t, h("liar").NS, h("liar").If, onSearch(answer(url("victim", "/desc.xml"), "upnp:rootdevice")))
	// redir's description redirects to the victim.
	redirHTTP := serve("redir", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, url("victim", "/desc.xml"), http.StatusFound)
	})
	testnet.StartSSDPResponder(t, h("redir").NS, h("redir").If, onSearch(answer(url("redir", "/desc.xml"), "upnp:rootdevice")))
	// huge serves more than MaxDescription.
	serve("huge", xmlHandler("<root><device><friendlyName>"+strings.Repeat("H", MaxDescription)+"</friendlyName></device></root>"))
	testnet.StartSSDPResponder(t, h("huge").NS, h("huge").If, onSearch(answer(url("huge", "/d.xml"), "upnp:rootdevice")))
	// bomb serves an entity expansion bomb.
	serve("bomb", xmlHandler(bombXML))
	testnet.StartSSDPResponder(t, h("bomb").NS, h("bomb").If, onSearch(answer(url("bomb", "/d.xml"), "upnp:rootdevice")))
	// slow never finishes its answer.
	serve("slow", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<root><device>")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	testnet.StartSSDPResponder(t, h("slow").NS, h("slow").If, onSearch(answer(url("slow", "/d.xml"), "upnp:rootdevice")))
	// named gives a host name, which cannot be checked.
	testnet.StartSSDPResponder(t, h("named").NS, h("named").If, onSearch(answer("http://printer.local:8080/d.xml", "upnp:rootdevice")))
	// garbage sends what is no answer, one oversized.
	testnet.StartSSDPResponder(t, h("garbage").NS, h("garbage").If, onSearch(
		[]byte("NOTIFY * HTTP/1.1\r\nLOCATION: http://198.18.100.17/\r\n\r\n"),
		[]byte("HTTP/1.1 404 Not Found\r\nLOCATION: http://198.18.100.17/\r\n\r\n"),
		[]byte("HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\n\r\n"),
		[]byte("HTTP/1.1 200 OK\r\nLOCATION: http://198.18.100.17/\r\n"+strings.Repeat("X-PAD: x\r\n", 40)+"\r\n"),
		append([]byte("HTTP/1.1 200 OK\r\nLOCATION: http://198.18.100.17/\r\nX: "), make([]byte, maxDatagram)...),
	))
	// outside answers well, but is not scanned.
	outsideHTTP := serve("outside", xmlHandler(tvXML))
	testnet.StartSSDPResponder(t, h("outside").NS, h("outside").If, onSearch(answer(url("outside", "/d.xml"), "upnp:rootdevice")))
	// tv is honest, in ISO-8859-1, with embedded devices, formatting
	// characters (bidi overrides) and several answers with the same
	// location. (Control characters are not XML: such a document is
	// refused, as the fuzz test's seeds show.)
	// Over IPv6 it answers from its link-local address, with a LOCATION
	// there.
	tvHTTP := serve("tv", xmlHandler(tvXML))
	tv6HTTP := testnet.StartHTTP(t, h("tv").NS, "[::]:8081", xmlHandler(tvXML))
	tv4 := onSearch(
		answer(url("tv", "/dmr.xml"), "upnp:rootdevice"),
		answer(url("tv", "/dmr.xml"), "urn:schemas-upnp-org:device:MediaRenderer:1"),
		answer(url("tv", "/dmr.xml"), "urn:dial-multiscreen-org:service:dial:1"),
	)
	testnet.StartSSDPResponder(t, h("tv").NS, h("tv").If, func(req []byte, from netip.AddrPort) []testnet.SSDPReply {
		if isSearch(req) && from.Addr().Is6() && strings.Contains(string(req), "HOST: [FF02::C]:1900\r\n") {
			return []testnet.SSDPReply{{Raw: answer(fmt.Sprintf("http://[%s]:8081/dmr.xml", h("tv").LinkLocal), "upnp:rootdevice")}}
		}
		return tv4(req, from)
	})

	scanned := lanScanned(lan)
	start := time.Now()
	b := searchIn(t, lan.Scanner, Config{Scanned: func(a netip.Addr) bool { return a != h("outside").Addr4 && scanned(a) }})
	took := time.Since(start)
	st := b.Stats()
	all := b.All()
	t.Logf("round %v, stats %+v", took, st)
	for a, d := range all {
		t.Logf("%s: %+v", a, d)
	}

	tv, ok := all[h("tv").Addr4]
	if !ok || len(tv.Descriptions) != 1 || len(tv.Types) != 3 || len(tv.Locations) != 1 || tvHTTP.Requests() != 1 {
		t.Fatalf("tv: %+v (fetched %d times)", tv, tvHTTP.Requests())
	}
	d := tv.Descriptions[0]
	if d.FriendlyName != "[TV] Samsung Q60 Series (55)é" || d.Manufacturer != "Samsung Electronics" || d.ModelName != "QE55Q60TAUXXU" ||
		d.ModelDescription != "Samsung TV" || d.DeviceType != "urn:schemas-upnp-org:device:MediaRenderer:1" {
		t.Errorf("tv description: %+v", d)
	}
	tv6, ok := b.Device(h("tv").LinkLocal.WithZone(lan.ScannerIf))
	if !ok || len(tv6.Descriptions) != 1 || tv6.Descriptions[0].ModelName != "QE55Q60TAUXXU" || tv6HTTP.Requests() != 1 {
		t.Errorf("tv over IPv6: %+v (fetched %d times)", tv6, tv6HTTP.Requests())
	}
	if len(d.Embedded) != 2 || d.Embedded[0].FriendlyName != "DIAL" || d.Embedded[1].DeviceType != "urn:schemas-upnp-org:device:Nested:1" {
		t.Errorf("tv embedded: %+v", d.Embedded)
	}

	if victimHTTP.Requests() != 0 || outsideHTTP.Requests() != 0 {
		t.Errorf("fetched from the victim %d times, from the unscanned host %d times", victimHTTP.Requests(), outsideHTTP.Requests())
	}
	wantErr := func(label string, target error, text string) {
		t.Helper()
		d, ok := all[h(label).Addr4]
		if !ok || len(d.Descriptions) != 0 || len(d.Errs) != 1 {
			t.Errorf("%s: %+v", label, d)
			return
		}
		if target != nil && !errors.Is(d.Errs[0], target) || !strings.Contains(d.Errs[0].Error(), text) {
			t.Errorf("%s: error %v, want %v (%q)", label, d.Errs[0], target, text)
		}
	}
	wantErr("liar", ErrForeignLocation, "")
	wantErr("named", ErrForeignLocation, "")
	wantErr("redir", ErrRedirect, "")
	wantErr("huge", ErrTooLarge, "")
	wantErr("bomb", nil, "entity")
	wantErr("slow", nil, "deadline")
	if redirHTTP.Requests() != 1 {
		t.Errorf("redir asked %d times", redirHTTP.Requests())
	}
	if _, ok := all[h("garbage").Addr4]; ok || st.Rejected < 5 || st.NotScanned < 1 || st.Refused != 2 {
		t.Errorf("garbage %v; stats %+v", ok, st)
	}
	if len(all) != 8 {
		t.Errorf("%d devices, want tv (twice), liar, named, redir, huge, bomb and slow", len(all))
	}
	// The slow fetch ends at FetchTimeout, inside the round.
	if max := DefaultMX + listenMargin + DefaultFetchTimeout + 300*time.Millisecond; took > max {
		t.Errorf("round took %v, more than %v", took, max)
	}
}
