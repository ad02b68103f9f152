package ssdp

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseResponse: any datagram is an answer with a LOCATION, or an
// error; kept strings are valid UTF-8 without line breaks.
func FuzzParseResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nLOCATION: http://198.18.0.2:8200/rootDesc.xml\r\nSERVER: x\r\nST: upnp:rootdevice\r\nUSN: uuid:1\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\nlocation:\x00\xff\n"))
	f.Add([]byte("NOTIFY * HTTP/1.1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseResponse(b)
		if err != nil {
			return
		}
		for _, s := range []string{r.Location, r.Server, r.ST, r.USN} {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n\x00") {
				t.Errorf("field %q", s)
			}
		}
		if r.Location == "" {
			t.Error("answer without LOCATION taken")
		}
	})
}

// FuzzCheckLocation: an accepted LOCATION always leads to the answering
// address.
func FuzzCheckLocation(f *testing.F) {
	f.Add("http://198.18.0.2:8200/rootDesc.xml")
	f.Add("http://[fe80::1%25eth0]:80/")
	f.Add("http://198.18.0.2@198.18.0.3/")
	f.Fuzz(func(t *testing.T, loc string) {
		for _, from := range []netip.Addr{netip.MustParseAddr("198.18.0.2"), netip.MustParseAddr("fe80::1").WithZone("eth0")} {
			_, to, err := checkLocation(loc, from)
			if err == nil && to.Addr() != from {
				t.Errorf("checkLocation(%q, %s) leads to %s", loc, from, to)
			}
		}
	})
}

// FuzzParseDescription: any document is read within the bounds, or
// refused.
func FuzzParseDescription(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0"?><root><device><friendlyName>TV</friendlyName><deviceList><device><modelName>m</modelName></device></deviceList></device></root>`))
	f.Add([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><root><device><manufacturer>` + "\xe9" + `</manufacturer></device></root>`))
	f.Add([]byte(`<!DOCTYPE root [<!ENTITY a "aaaa">]><root><device><friendlyName>&a;</friendlyName></device></root>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDescription(bytes.NewReader(b))
		if err != nil {
			if len(b) > MaxDescription && !errors.Is(err, ErrTooLarge) {
				t.Errorf("oversized document: %v", err)
			}
			return
		}
		if len(d.Embedded) > MaxEmbedded {
			t.Errorf("%d embedded", len(d.Embedded))
		}
		for i, x := range append([]Description{*d}, d.Embedded...) {
			for _, s := range []string{x.DeviceType, x.FriendlyName, x.Manufacturer, x.ModelName, x.ModelNumber, x.ModelDescription, x.UDN} {
				if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n\x00\u202e") {
					t.Errorf("field %q", s)
				}
			}
			if i > 0 && len(x.Embedded) != 0 {
				t.Error("embedded device with its own embedded list")
			}
		}
	})
}
