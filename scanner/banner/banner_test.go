package banner

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// selfSigned makes a certificate as a device makes its own: self-signed,
// for a common name and some alternative names.
func selfSigned(t *testing.T, cn string, dns []string, ips []net.IP) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"Synology Inc."}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     dns,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// serve answers every connection on a loopback listener with handle, and
// returns the listener's address.
func serve(t *testing.T, ln net.Listener, handle func(net.Conn)) netip.AddrPort {
	t.Helper()
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String())
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// httpServer serves h with net/http on a loopback port, over TLS with
// cert when it is not nil.
func httpServer(t *testing.T, h http.Handler, cert *tls.Certificate) netip.AddrPort {
	t.Helper()
	ln := listen(t)
	if cert != nil {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*cert}})
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return netip.MustParseAddrPort(ln.Addr().String())
}

func TestHTTPTitleAndServer(t *testing.T) {
	addr := httpServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "lighttpd/1.4.69")
		fmt.Fprint(w, "<!doctype html><html><head><title>Synology &amp; DiskStation\n  DS920+</title></head><body>x</body></html>")
	}), nil)
	web, err := (&Prober{}).HTTP(context.Background(), addr, false)
	if err != nil {
		t.Fatal(err)
	}
	if web.Title != "Synology & DiskStation DS920+" || web.Server != "lighttpd/1.4.69" || web.Status != 200 || web.Cert != nil || web.TLS {
		t.Fatalf("got %+v", web)
	}
}

func TestHTTPSCertificateNames(t *testing.T) {
	cert := selfSigned(t, "DiskStation", []string{"diskstation.local", "nas.example"}, []net.IP{net.ParseIP("198.18.0.9")})
	addr := httpServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<title>DSM</title>")
	}), &cert)
	web, err := (&Prober{}).HTTP(context.Background(), addr, true)
	if err != nil {
		t.Fatal(err)
	}
	if web.Title != "DSM" || !web.TLS || web.Cert == nil {
		t.Fatalf("got %+v", web)
	}
	if web.Cert.Subject != "CN=DiskStation,O=Synology Inc." {
		t.Errorf("subject %q", web.Cert.Subject)
	}
	if got := strings.Join(web.Cert.SANs, " "); got != "diskstation.local nas.example 198.18.0.9" {
		t.Errorf("SANs %q", got)
	}
}

// A TLS port whose server speaks no HTTP still yields its certificate.
func TestHTTPSCertificateWithoutHTTP(t *testing.T) {
	cert := selfSigned(t, "printer", nil, nil)
	ln := tls.NewListener(listen(t), &tls.Config{Certificates: []tls.Certificate{cert}})
	addr := serve(t, ln, func(c net.Conn) {
		c.(*tls.Conn).Handshake()
		io.WriteString(c, "220 not http\r\n")
	})
	web, err := (&Prober{}).HTTP(context.Background(), addr, true)
	if !errors.Is(err, ErrNotHTTP) {
		t.Fatalf("err %v", err)
	}
	if web.Cert == nil || web.Cert.Subject != "CN=printer,O=Synology Inc." {
		t.Fatalf("got %+v", web)
	}
}

func TestHTTPRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "first")
		http.Redirect(w, r, "/login.html", http.StatusFound)
	})
	mux.HandleFunc("/login.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "second")
		fmt.Fprint(w, "<title>FRITZ!Box</title>")
	})
	addr := httpServer(t, mux, nil)
	web, err := (&Prober{}).HTTP(context.Background(), addr, false)
	if err != nil {
		t.Fatal(err)
	}
	if web.Title != "FRITZ!Box" || web.Server != "first" || web.Status != 200 {
		t.Fatalf("got %+v", web)
	}
}

// A redirect to another address, or by name, is not followed; nor is an
// endless chain on the same one.
func TestHTTPRedirectsStayOnHost(t *testing.T) {
	other := httpServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the other host was asked for %s", r.URL)
	}), nil)
	for _, loc := range []string{
		"http://127.0.0.2:" + fmt.Sprint(other.Port()) + "/",
		"http://localhost:" + fmt.Sprint(other.Port()) + "/",
		"//[::1]:" + fmt.Sprint(other.Port()) + "/",
		"file:///etc/passwd",
	} {
		addr := httpServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", loc)
			w.WriteHeader(http.StatusMovedPermanently)
			fmt.Fprint(w, "<title>Moved</title>")
		}), nil)
		web, err := (&Prober{}).HTTP(context.Background(), addr, false)
		if err != nil {
			t.Fatal(loc, err)
		}
		if web.Status != 301 || web.Title != "Moved" {
			t.Errorf("%s: got %+v", loc, web)
		}
	}
	hits := 0
	loop := httpServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		http.Redirect(w, r, fmt.Sprintf("/%d", hits), http.StatusFound)
	}), nil)
	web, err := (&Prober{}).HTTP(context.Background(), loop, false)
	if err != nil || web.Status != 302 || hits != maxRedirects+1 {
		t.Fatalf("loop: %+v %v, %d requests", web, err, hits)
	}
}

// Hostile servers: headers without end, a body without end, silence, and
// a server that drips bytes. Each probe ends within its bounds.
func TestHTTPHostile(t *testing.T) {
	p := &Prober{Timeout: 300 * time.Millisecond, MaxBytes: 8192}
	cases := map[string]struct {
		handle func(net.Conn)
		want   error
		title  string
	}{
		"endless headers": {handle: func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\n")
			for range 10000 {
				if _, err := io.WriteString(c, "X-Junk: aaaaaaaaaaaaaaaaaaaaaaaa\r\n"); err != nil {
					return
				}
			}
		}, want: ErrTooLarge},
		"endless body": {handle: func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\n\r\n<title>big")
			for range 10000 {
				if _, err := io.WriteString(c, strings.Repeat("a", 100)); err != nil {
					return
				}
			}
		}, title: "big" + strings.Repeat("a", MaxTitleLen-3)},
		"silent": {handle: func(c net.Conn) { io.Copy(io.Discard, c) }, want: ErrNotHTTP},
		"drip": {handle: func(c net.Conn) {
			for _, b := range []byte("HTTP/1.1 200 OK\r\n\r\n<title>slow</title>") {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}, want: ErrNotHTTP},
		"not http": {handle: func(c net.Conn) { io.WriteString(c, "SSH-2.0-OpenSSH_9.2\r\n") }, want: ErrNotHTTP},
		"escape codes": {handle: func(c net.Conn) {
			bufio.NewReader(c).ReadString('\n')
			io.WriteString(c, "HTTP/1.1 200 OK\r\nServer: evil\xff\tx\r\nContent-Length: 30\r\n\r\n<title>\x1b]0;pwn\x07ok</title>")
		}, title: "]0;pwn ok"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			addr := serve(t, listen(t), tc.handle)
			start := time.Now()
			web, err := p.HTTP(context.Background(), addr, false)
			if d := time.Since(start); d > 2*p.Timeout+100*time.Millisecond {
				t.Errorf("took %v", d)
			}
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("err %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if web.Title != tc.title {
				t.Errorf("title %q, want %q", web.Title, tc.title)
			}
			if strings.ContainsAny(web.Server+web.Title, "\x1b\x07\t") || !utf8.ValidString(web.Server) {
				t.Errorf("control characters kept: %+v", web)
			}
		})
	}
}

// A cancelled context ends a probe at once, whatever the server does.
func TestHTTPCancel(t *testing.T) {
	addr := serve(t, listen(t), func(c net.Conn) { io.Copy(io.Discard, c) })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := (&Prober{Timeout: 10 * time.Second}).HTTP(ctx, addr, false)
	if err == nil || time.Since(start) > time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
}

func TestSSH(t *testing.T) {
	cases := map[string]struct {
		send string
		want SSH
		err  error
	}{
		"openssh": {send: "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n",
			want: SSH{Line: "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", Proto: "2.0", Software: "OpenSSH_9.2p1", Comment: "Debian-2+deb12u3"}},
		"preamble": {send: "Welcome\r\nauthorised users only\r\nSSH-1.99-Cisco-1.25\r\n",
			want: SSH{Line: "SSH-1.99-Cisco-1.25", Proto: "1.99", Software: "Cisco-1.25"}},
		"bare lf, closed": {send: "SSH-2.0-dropbear_2022.83",
			want: SSH{Line: "SSH-2.0-dropbear_2022.83", Proto: "2.0", Software: "dropbear_2022.83"}},
		"too long":      {send: "SSH-2.0-" + strings.Repeat("x", 300) + "\r\n", err: ErrTooLarge},
		"endless lines": {send: strings.Repeat("hello\r\n", 2000), err: ErrNotSSH},
		"not ssh":       {send: "HTTP/1.1 400 Bad Request\r\n\r\n", err: ErrNotSSH},
		"no software":   {send: "SSH-2.0-\r\n", err: ErrNotSSH},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			addr := serve(t, listen(t), func(c net.Conn) { io.WriteString(c, tc.send) })
			got, err := (&Prober{Timeout: time.Second}).SSH(context.Background(), addr)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestParseTitle(t *testing.T) {
	cases := map[string]string{
		"<title>Home Assistant</title>":                                "Home Assistant",
		"<TITLE>HP LaserJet   MFP\tM428fdw</TITLE>":                    "HP LaserJet MFP M428fdw",
		"<title>unclosed":                                              "unclosed",
		"<script>var s='<title>no</title>'</script><title>yes</title>": "yes",
		"<!-- <title>no</title> --><title>yes</title>":                 "yes",
		"<div title='<title>no</title>'></div>":                        "",
		"<title><b>bold</b> &lt;x&gt;</title>":                         "<b>bold</b> <x>",
		"<title></title><title>second</title>":                         "",
		"<svg><title>icon</title></svg>":                               "icon",
		"no html at all":                                               "",
		"<meta charset=iso-8859-1><title>Gr\xfc\xdfe</title>":          "Grüße",
		"<meta charset=utf-8><title>Gr\xc3\xbc\xc3\x9fe \xff</title>":  "Grüße \uFFFD",
		"<title>" + strings.Repeat("ab ", 500) + "</title>":            strings.Repeat("ab ", MaxTitleLen/3+1)[:MaxTitleLen],
	}
	for in, want := range cases {
		if got := ParseTitle([]byte(in)); got != want {
			t.Errorf("ParseTitle(%.60q) = %q, want %q", in, got, want)
		}
	}
}

func TestWebPort(t *testing.T) {
	for port, want := range map[uint16][2]bool{80: {true, false}, 443: {true, true}, 5001: {true, true}, 22: {false, false}, 8123: {true, false}} {
		if web, tls := WebPort(port); web != want[0] || tls != want[1] {
			t.Errorf("WebPort(%d) = %v %v", port, web, tls)
		}
	}
}
