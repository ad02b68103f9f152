package ssdp

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestParseResponse(t *testing.T) {
	ok := "HTTP/1.1 200 OK\r\nCache-Control: max-age=1800\r\nlocation:  http://198.18.0.2:8200/rootDesc.xml \r\nServer: Linux UPnP/1.0 MiniDLNA/1.3.0\r\n" +
		"St: upnp:rootdevice\r\nUSN: uuid:4d696e69::upnp:rootdevice\r\nLOCATION: http://198.18.0.9/other.xml\r\n\r\n"
	r, err := ParseResponse([]byte(ok))
	if err != nil || r.Location != "http://198.18.0.2:8200/rootDesc.xml" || r.Server != "Linux UPnP/1.0 MiniDLNA/1.3.0" ||
		r.ST != "upnp:rootdevice" || r.USN != "uuid:4d696e69::upnp:rootdevice" {
		t.Errorf("ParseResponse = %+v, %v", r, err)
	}
	// Bare LF line ends, as some devices send.
	if r, err := ParseResponse([]byte("HTTP/1.1 200 OK\nLOCATION: http://198.18.0.2/\n\n")); err != nil || r.Location != "http://198.18.0.2/" {
		t.Errorf("LF answer: %+v, %v", r, err)
	}
	for _, bad := range []string{
		"",
		"NOTIFY * HTTP/1.1\r\nLOCATION: http://198.18.0.2/\r\n\r\n",
		"M-SEARCH * HTTP/1.1\r\nLOCATION: http://198.18.0.2/\r\n\r\n",
		"HTTP/1.1 404 Not Found\r\nLOCATION: http://198.18.0.2/\r\n\r\n",
		"HTTP/1.1 200 OK\r\nST: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
		"HTTP/1.1 200 OK\r\nLOCATION: http://198.18.0.2/\r\n" + strings.Repeat("X: y\r\n", maxHeaders) + "\r\n",
		"HTTP/1.1 200 OK\r\nLOCATION: " + strings.Repeat("x", maxDatagram) + "\r\n\r\n",
	} {
		if r, err := ParseResponse([]byte(bad)); err == nil {
			t.Errorf("ParseResponse(%.60q) = %+v, want an error", bad, r)
		}
	}
	// Control characters in a header are cleaned away.
	if r, _ := ParseResponse([]byte("HTTP/1.1 200 OK\r\nLOCATION: http://198.18.0.2/\r\nSERVER: evil\x1b[2J\u202e\r\n\r\n")); r.Server != "evil[2J" {
		t.Errorf("SERVER %q", r.Server)
	}
}

func TestCheckLocation(t *testing.T) {
	from := netip.MustParseAddr("198.18.0.2")
	ll := netip.MustParseAddr("fe80::1").WithZone("eth0")
	for _, c := range []struct {
		loc     string
		from    netip.Addr
		to      string
		foreign bool
	}{
		{"http://198.18.0.2:8200/rootDesc.xml", from, "198.18.0.2:8200", false},
		{"http://198.18.0.2/d.xml", from, "198.18.0.2:80", false},
		{"http://[fe80::1]:49152/d.xml", ll, "[fe80::1%eth0]:49152", false},
		{"http://[fe80::1%25eth1]:49152/d.xml", ll, "[fe80::1%eth0]:49152", false}, // the zone named is ignored: the link is the answer's
		{"http://198.18.0.3:8200/d.xml", from, "", true},
		{"http://printer.local:8200/d.xml", from, "", true},
		{"http://[::ffff:198.18.0.3]/", from, "", true},
		{"https://198.18.0.2/d.xml", from, "", false},
		{"http://u:p@198.18.0.2/d.xml", from, "", false},
		{"http://198.18.0.2:0/d.xml", from, "", false},
		{"http://198.18.0.2:99999/d.xml", from, "", false},
		{"ftp://198.18.0.2/", from, "", false},
		{"::not a url", from, "", false},
	} {
		_, to, err := checkLocation(c.loc, c.from)
		switch {
		case c.to != "" && (err != nil || to.String() != c.to):
			t.Errorf("checkLocation(%q, %s) = %s, %v; want %s", c.loc, c.from, to, err, c.to)
		case c.to == "" && err == nil:
			t.Errorf("checkLocation(%q, %s) = %s, want an error", c.loc, c.from, to)
		case c.to == "" && errors.Is(err, ErrForeignLocation) != c.foreign:
			t.Errorf("checkLocation(%q, %s): %v, foreign %v", c.loc, c.from, err, c.foreign)
		}
	}
}

func TestParseDescription(t *testing.T) {
	d, err := ParseDescription(strings.NewReader(`<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device>
<deviceType>urn:schemas-upnp-org:device:MediaServer:1</deviceType><friendlyName>  DS920  </friendlyName>
<manufacturer>Synology</manufacturer><modelName>DS920+</modelName><modelNumber>DS920+ 7.2</modelNumber>
<UDN>uuid:73796E6F</UDN></device></root>`))
	if err != nil || d.FriendlyName != "DS920" || d.Manufacturer != "Synology" || d.ModelName != "DS920+" || d.ModelNumber != "DS920+ 7.2" ||
		d.DeviceType != "urn:schemas-upnp-org:device:MediaServer:1" || d.UDN != "uuid:73796E6F" || len(d.Embedded) != 0 {
		t.Errorf("ParseDescription = %+v, %v", d, err)
	}
	// Embedded devices, flattened and capped, however deep.
	deep := "<root><device><friendlyName>top</friendlyName>"
	for range 30 {
		deep += "<deviceList><device><friendlyName>sub</friendlyName>"
	}
	for range 30 {
		deep += "</device></deviceList>"
	}
	deep += "</device></root>"
	if d, err := ParseDescription(strings.NewReader(deep)); err != nil || len(d.Embedded) != maxDepth {
		t.Errorf("deep: %d embedded, %v", len(d.Embedded), err)
	}
	wide := "<root><device><friendlyName>top</friendlyName><deviceList>" + strings.Repeat("<device><modelName>m</modelName></device>", 40) + "</deviceList></device></root>"
	if d, err := ParseDescription(strings.NewReader(wide)); err != nil || len(d.Embedded) != MaxEmbedded {
		t.Errorf("wide: %d embedded, %v", len(d.Embedded), err)
	}
	for name, bad := range map[string]string{
		"empty":    "",
		"not root": "<scpd><device><friendlyName>x</friendlyName></device></scpd>",
		"no info":  "<root><device></device></root>",
		"control":  "<root><device><friendlyName>a\x1bb</friendlyName></device></root>",
		"entity":   `<!DOCTYPE root [<!ENTITY x "boom">]><root><device><friendlyName>&x;</friendlyName></device></root>`,
		"external": `<!DOCTYPE root [<!ENTITY x SYSTEM "file:///etc/passwd">]><root><device><friendlyName>&x;</friendlyName></device></root>`,
		"charset":  `<?xml version="1.0" encoding="Shift_JIS"?><root><device><friendlyName>x</friendlyName></device></root>`,
		"too big":  "<root><device><friendlyName>" + strings.Repeat("x", MaxDescription) + "</friendlyName></device></root>",
		"unclosed": "<root><device><friendlyName>x",
	} {
		if d, err := ParseDescription(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: ParseDescription = %+v, want an error", name, d)
		}
	}
}
