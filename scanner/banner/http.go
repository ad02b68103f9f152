package banner

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
)

// maxRedirects is how many redirects a web probe follows, each to the
// address probed: a device's root page often sends the browser on to its
// login page (or from http to https), where the title is.
const maxRedirects = 2

// Web is what a web server on one port said about itself.
type Web struct {
	Port uint16
	// TLS: the port spoke TLS (the first request, before any redirect).
	TLS bool
	// Status is the HTTP status of the last response read; 0 if none.
	Status int
	// Title is the last page's <title>, cleaned; "" if none.
	Title string
	// Server is the first response's Server header, cleaned.
	Server string
	// Cert is the TLS certificate the server showed; nil without TLS.
	Cert *Cert
}

// Cert is what is kept of a TLS certificate: its names, nothing more.
type Cert struct {
	// Subject is the subject's distinguished name, as
	// "CN=DiskStation,O=Synology Inc.".
	Subject string
	// SANs are its subject alternative names: DNS names, then IP
	// addresses, then e-mail addresses and URIs, at most MaxSANs.
	SANs []string
}

// HTTP fetches the root page of the web server at addr, over TLS when
// useTLS is set, and returns its title, its Server header and, over TLS,
// the certificate's names. It follows at most two redirects, and only to
// the same address (any port, http or https); a redirect elsewhere ends
// the probe with what was learned so far. The Web returned holds what was
// learned even when err is not nil (a certificate read before a failed
// request, say).
func (p *Prober) HTTP(ctx context.Context, addr netip.AddrPort, useTLS bool) (Web, error) {
	w := Web{Port: addr.Port(), TLS: useTLS}
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	u := &url.URL{Scheme: scheme, Host: addr.String(), Path: "/"}
	for hop := 0; ; hop++ {
		res, err := p.fetch(ctx, addr.Addr(), u, &w)
		if err != nil {
			return w, err
		}
		w.Status = res.status
		if hop == 0 {
			w.Server = Clean(res.server, MaxHeaderLen)
		}
		if res.status < 300 || res.status > 399 || res.location == "" || hop == maxRedirects {
			w.Title = ParseTitle(res.body)
			return w, nil
		}
		next, err := u.Parse(res.location)
		if err != nil || !sameHost(next, addr.Addr()) {
			// Off-host or unreadable: the redirect page's own title, if it
			// has one, is all there is.
			w.Title = ParseTitle(res.body)
			return w, nil
		}
		u = next
	}
}

// sameHost reports whether u points at a, by address: a redirect that
// names the device by host name is not followed, since the name could
// resolve anywhere.
func sameHost(u *url.URL, a netip.Addr) bool {
	if u.Scheme != "http" && u.Scheme != "https" {
		return false
	}
	h, err := netip.ParseAddr(u.Hostname())
	return err == nil && h.WithZone("") == a.WithZone("")
}

// response is the part of an HTTP response a probe keeps.
type response struct {
	status   int
	server   string
	location string
	body     []byte
}

// fetch sends one GET for u to addr (the URL's host is only the Host
// header) and reads the response, within MaxBytes in all.
func (p *Prober) fetch(ctx context.Context, addr netip.Addr, u *url.URL, w *Web) (response, error) {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	target := net.JoinHostPort(addr.String(), port)
	conn, stop, err := p.dial(ctx, target)
	if err != nil {
		return response{}, fmt.Errorf("banner: connect %s: %w", target, err)
	}
	defer stop()
	var rw io.ReadWriter = conn
	if u.Scheme == "https" {
		tc := tls.Client(conn, insecureTLS())
		if err := tc.HandshakeContext(ctx); err != nil {
			return response{}, fmt.Errorf("banner: TLS handshake with %s: %w", target, err)
		}
		if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 && w.Cert == nil {
			w.Cert = certNames(certs[0])
		}
		rw = tc
	}
	host := u.Host
	if h, err := netip.ParseAddr(u.Hostname()); err == nil && h.Zone() != "" {
		// A zone means nothing to the server, and is not valid in a Host header.
		host = net.JoinHostPort(h.WithZone("").String(), port)
	}
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + host +
		"\r\nUser-Agent: netscanner\r\nAccept: text/html\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(rw, req); err != nil {
		return response{}, fmt.Errorf("banner: send to %s: %w", target, err)
	}
	return readResponse(rw, p.maxBytes())
}

// readResponse reads one HTTP response from r, at most max bytes of it:
// headers that do not fit are an error, a body that does not fit is cut.
func readResponse(r io.Reader, max int) (response, error) {
	lim := &io.LimitedReader{R: r, N: int64(max)}
	br := bufio.NewReaderSize(lim, 4096)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		if lim.N == 0 {
			return response{}, fmt.Errorf("%w: headers past %d bytes", ErrTooLarge, max)
		}
		return response{}, fmt.Errorf("%w: %w", ErrNotHTTP, err)
	}
	defer res.Body.Close()
	out := response{status: res.StatusCode, server: res.Header.Get("Server"), location: res.Header.Get("Location")}
	// A body cut by the byte limit, the deadline or a reset still holds
	// the head of the page, where the title is.
	out.body, _ = io.ReadAll(res.Body)
	return out, nil
}

// insecureTLS is a client configuration that accepts any certificate and
// any version or cipher a device may still use: the probe keeps only the
// certificate's names, and sends nothing secret.
func insecureTLS() *tls.Config {
	var suites []uint16
	for _, s := range tls.CipherSuites() {
		suites = append(suites, s.ID)
	}
	for _, s := range tls.InsecureCipherSuites() {
		suites = append(suites, s.ID)
	}
	return &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // names only, see above
		MinVersion:         tls.VersionTLS10,
		CipherSuites:       suites,
	}
}

// certNames keeps a certificate's subject and alternative names, cleaned
// and bounded.
func certNames(c *x509.Certificate) *Cert {
	out := &Cert{Subject: Clean(c.Subject.String(), MaxNameLen)}
	add := func(s string) {
		if s = Clean(s, MaxNameLen); s != "" && len(out.SANs) < MaxSANs {
			out.SANs = append(out.SANs, s)
		}
	}
	for _, n := range c.DNSNames {
		add(n)
	}
	for _, ip := range c.IPAddresses {
		add(ip.String())
	}
	for _, e := range c.EmailAddresses {
		add(e)
	}
	for _, u := range c.URIs {
		add(u.String())
	}
	return out
}

// WebPort reports whether a scan reads a web page from a TCP port, and
// whether that port speaks TLS: the common web ports and the consoles of
// home devices (Synology's 5000 and 5001, Home Assistant's 8123, CUPS and
// printers' 631, a Chromecast's 8008).
func WebPort(port uint16) (web, useTLS bool) {
	switch port {
	case 80, 631, 5000, 8000, 8008, 8080, 8123:
		return true, false
	case 443, 5001, 8443:
		return true, true
	}
	return false, false
}
