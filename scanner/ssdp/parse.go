package ssdp

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"netscanner/scanner/names"
)

// maxHeaders caps the header lines of an answer read.
const maxHeaders = 32

// ParseResponse reads one answer to an M-SEARCH: an HTTP/1.1 200 status
// line, then header lines. Header names are compared case-insensitively;
// the first of a repeated header counts. It fails for anything that is not
// such an answer (a NOTIFY, a request, another status), for more than
// maxHeaders headers, and for an answer without LOCATION.
func ParseResponse(b []byte) (Response, error) {
	if len(b) > maxDatagram {
		return Response{}, fmt.Errorf("ssdp: answer longer than %d bytes", maxDatagram)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 1024), maxDatagram)
	if !sc.Scan() {
		return Response{}, errors.New("ssdp: empty answer")
	}
	status := strings.Fields(sc.Text())
	if len(status) < 2 || !strings.EqualFold(status[0], "HTTP/1.1") && !strings.EqualFold(status[0], "HTTP/1.0") || status[1] != "200" {
		return Response{}, fmt.Errorf("ssdp: not an M-SEARCH answer: %q", names.Clean(sc.Text()))
	}
	var r Response
	seen := map[string]bool{}
	n := 0
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			break
		}
		if n++; n > maxHeaders {
			return Response{}, fmt.Errorf("ssdp: more than %d headers", maxHeaders)
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return Response{}, fmt.Errorf("ssdp: malformed header line %q", names.Clean(line))
		}
		k = strings.ToUpper(strings.TrimSpace(k))
		if seen[k] {
			continue
		}
		seen[k] = true
		v = names.Clean(v)
		switch k {
		case "LOCATION":
			r.Location = v
		case "SERVER":
			r.Server = v
		case "ST":
			r.ST = v
		case "USN":
			r.USN = v
		}
	}
	if err := sc.Err(); err != nil {
		return Response{}, fmt.Errorf("ssdp: %w", err)
	}
	if r.Location == "" {
		return Response{}, errors.New("ssdp: answer without LOCATION")
	}
	return r, nil
}

// checkLocation parses loc and checks that it is an http URL whose host is
// the IP address from (zones aside) with a port; it returns the address
// and port to connect to: from's, with the URL's port.
func checkLocation(loc string, from netip.Addr) (*url.URL, netip.AddrPort, error) {
	u, err := url.Parse(loc)
	if err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("ssdp: LOCATION %q: %w", loc, err)
	}
	if u.Scheme != "http" || u.User != nil || u.Opaque != "" {
		return nil, netip.AddrPort{}, fmt.Errorf("ssdp: LOCATION %q: want an http URL", loc)
	}
	host := u.Hostname()
	a, err := netip.ParseAddr(host)
	if err != nil || a.Unmap().WithZone("") != from.WithZone("") {
		return nil, netip.AddrPort{}, fmt.Errorf("%w: %q from %s", ErrForeignLocation, loc, from)
	}
	port := 80
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return nil, netip.AddrPort{}, fmt.Errorf("ssdp: LOCATION %q: bad port", loc)
		}
	}
	return u, netip.AddrPortFrom(from, uint16(port)), nil
}

// xmlDevice is the part of a UPnP device description read.
type xmlDevice struct {
	DeviceType       string      `xml:"deviceType"`
	FriendlyName     string      `xml:"friendlyName"`
	Manufacturer     string      `xml:"manufacturer"`
	ModelName        string      `xml:"modelName"`
	ModelNumber      string      `xml:"modelNumber"`
	ModelDescription string      `xml:"modelDescription"`
	UDN              string      `xml:"UDN"`
	Devices          []xmlDevice `xml:"deviceList>device"`
}

// ParseDescription reads a UPnP device description (the XML a LOCATION
// serves), at most MaxDescription bytes of it, in UTF-8, US-ASCII or
// ISO-8859-1. Element names are matched whatever their namespace. Entities
// other than XML's five are refused, so no document expands.
func ParseDescription(r io.Reader) (*Description, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxDescription+1))
	if err != nil {
		return nil, fmt.Errorf("ssdp: description: %w", err)
	}
	if len(data) > MaxDescription {
		return nil, ErrTooLarge
	}
	var root struct {
		XMLName xml.Name  `xml:"root"`
		Device  xmlDevice `xml:"device"`
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = charsetReader
	if err := d.Decode(&root); err != nil {
		return nil, fmt.Errorf("ssdp: description: %w", err)
	}
	desc := root.Device.clean()
	var walk func(devs []xmlDevice, depth int)
	walk = func(devs []xmlDevice, depth int) {
		for _, sub := range devs {
			if len(desc.Embedded) >= MaxEmbedded || depth > maxDepth {
				return
			}
			desc.Embedded = append(desc.Embedded, sub.clean())
			walk(sub.Devices, depth+1)
		}
	}
	walk(root.Device.Devices, 1)
	if desc.DeviceType == "" && desc.FriendlyName == "" && desc.ModelName == "" && desc.Manufacturer == "" {
		return nil, errors.New("ssdp: description names no device")
	}
	return &desc, nil
}

func (x xmlDevice) clean() Description {
	return Description{
		DeviceType:       names.Clean(x.DeviceType),
		FriendlyName:     names.Clean(x.FriendlyName),
		Manufacturer:     names.Clean(x.Manufacturer),
		ModelName:        names.Clean(x.ModelName),
		ModelNumber:      names.Clean(x.ModelNumber),
		ModelDescription: names.Clean(x.ModelDescription),
		UDN:              names.Clean(x.UDN),
	}
}

// charsetReader reads the encodings device descriptions come in besides
// UTF-8: US-ASCII (a subset) and ISO-8859-1 (each byte is its code point).
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "latin1", "latin-1", "iso8859-1":
		data, err := io.ReadAll(io.LimitReader(in, MaxDescription))
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		for _, c := range data {
			b.WriteRune(rune(c))
		}
		return strings.NewReader(b.String()), nil
	}
	return nil, fmt.Errorf("ssdp: description in unsupported encoding %q", names.Clean(label))
}
