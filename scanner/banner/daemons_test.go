package banner_test

import (
	"context"
	"crypto/x509/pkix"
	"net"
	"net/netip"
	"strings"
	"testing"

	"netscanner/internal/daemons"
	"netscanner/internal/testnet"
	"netscanner/scanner/banner"
)

// inNS returns a dialer whose sockets live in ns.
func inNS(ns *testnet.NS) banner.DialFunc {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		var (
			c   net.Conn
			err error
		)
		if nerr := testnet.Do(ns.Name, func() { c, err = (&net.Dialer{}).DialContext(ctx, network, address) }); nerr != nil {
			return nil, nerr
		}
		return c, err
	}
}

// TestRealDaemons reads the banners of Debian's lighttpd (a page title
// over http, and a self-signed certificate made by the test over https)
// and OpenSSH's sshd (its identification line), each in its own host
// namespace on a bridged LAN, from the scanner's namespace.
func TestRealDaemons(t *testing.T) {
	lan := testnet.NewBridged(t,
		testnet.BridgedSpec{Label: "web", MAC: "00:11:32:00:00:14", Addr4: "198.18.100.20"},
		testnet.BridgedSpec{Label: "ssh", MAC: "dc:a6:32:00:00:16", Addr4: "198.18.100.22", Addr6: "2001:db8:100::16"},
	)
	web, ssh := lan.Host("web"), lan.Host("ssh")
	daemons.StartLighttpd(t, web.NS, daemons.LighttpdSpec{
		Addr:        web.Addr4,
		Title:       "Synology DiskStation & <Friends>",
		CertSubject: pkix.Name{CommonName: "diskstation", Organization: []string{"Synology Inc."}},
		CertNames:   []string{"diskstation.local", "nas.example"},
	})
	daemons.StartSSHD(t, ssh.NS, daemons.SSHDSpec{Addr: ssh.Addr6})
	p := &banner.Prober{Dial: inNS(lan.Scanner)}
	ctx := context.Background()

	w, err := p.HTTP(ctx, netip.AddrPortFrom(web.Addr4, 80), false)
	if err != nil {
		t.Fatal(err)
	}
	if w.Title != "Synology DiskStation & <Friends>" || !strings.HasPrefix(w.Server, "lighttpd/") || w.Status != 200 || w.Cert != nil {
		t.Errorf("http: %+v", w)
	}
	w, err = p.HTTP(ctx, netip.AddrPortFrom(web.Addr4, 443), true)
	if err != nil {
		t.Fatal(err)
	}
	if w.Title != "Synology DiskStation & <Friends>" || w.Cert == nil {
		t.Fatalf("https: %+v", w)
	}
	if w.Cert.Subject != "CN=diskstation,O=Synology Inc." || strings.Join(w.Cert.SANs, " ") != "diskstation.local nas.example 198.18.100.20" {
		t.Errorf("certificate: %+v", *w.Cert)
	}
	// http on the TLS port is an error, not a hang or a made-up title.
	if w, err := p.HTTP(ctx, netip.AddrPortFrom(web.Addr4, 443), false); err == nil && w.Title != "" {
		t.Errorf("plain http to the TLS port: %+v", w)
	}

	s, err := p.SSH(ctx, netip.AddrPortFrom(ssh.Addr6, 22))
	if err != nil {
		t.Fatal(err)
	}
	if s.Proto != "2.0" || !strings.HasPrefix(s.Software, "OpenSSH_") || !strings.HasPrefix(s.Line, "SSH-2.0-OpenSSH_") {
		t.Errorf("ssh: %+v", s)
	}
	t.Logf("sshd says %q; lighttpd says %q", s.Line, w.Server)
	// A closed port is a prompt error.
	if _, err := p.SSH(ctx, netip.AddrPortFrom(ssh.Addr6, 2222)); err == nil {
		t.Error("ssh on a closed port")
	}
}
