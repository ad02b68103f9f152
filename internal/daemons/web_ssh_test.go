package daemons

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"netscanner/internal/testnet"
)

// veth gives ns an interface with addr, for a daemon to listen on.
func veth(t *testing.T, ns *testnet.NS, addr string) netip.Addr {
	t.Helper()
	ns.Run("ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1")
	ns.Run("ip", "link", "set", "d1", "up")
	ns.Run("ip", "link", "set", "d0", "up")
	ns.Run("ip", "addr", "add", addr+"/24", "dev", "d0")
	return netip.MustParseAddr(addr)
}

// TestLighttpd starts the real lighttpd and reads its page over http and
// its self-signed certificate over https.
func TestLighttpd(t *testing.T) {
	ns := testnet.NewNS(t, "httpd")
	a := veth(t, ns, "198.18.7.4")
	StartLighttpd(t, ns, LighttpdSpec{Addr: a, Title: "Test <page>", CertSubject: pkix.Name{CommonName: "device.test"}, CertNames: []string{"device.test"}})
	out := ns.Run("curl", "-s", "--max-time", "2", "http://198.18.7.4/")
	if !strings.Contains(out, "<title>Test &lt;page&gt;</title>") {
		t.Errorf("page:\n%s", out)
	}
	var state tls.ConnectionState
	ns.Do(func() {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", "198.18.7.4:443", &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		state = c.ConnectionState()
		c.Close()
	})
	if len(state.PeerCertificates) == 0 || state.PeerCertificates[0].Subject.CommonName != "device.test" ||
		len(state.PeerCertificates[0].IPAddresses) != 1 {
		t.Errorf("certificate %+v", state.PeerCertificates)
	}
}

// TestSelfSignedCert makes a certificate that parses with the names asked.
func TestSelfSignedCert(t *testing.T) {
	certPEM, keyPEM, err := SelfSignedCert(pkix.Name{CommonName: "x"}, []string{"a.test"}, []netip.Addr{netip.MustParseAddr("198.18.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(certPEM)
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil || c.Subject.CommonName != "x" || c.DNSNames[0] != "a.test" || !c.IPAddresses[0].Equal(net.ParseIP("198.18.0.1")) {
		t.Fatalf("%v %+v", err, c)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Error(err)
	}
}

// TestSSHD starts the real sshd and reads its identification line.
func TestSSHD(t *testing.T) {
	ns := testnet.NewNS(t, "sshd")
	a := veth(t, ns, "198.18.7.5")
	d := StartSSHD(t, ns, SSHDSpec{Addr: a, VersionAddendum: "netscanner-test"})
	var line string
	ns.Do(func() {
		c, err := net.DialTimeout("tcp", "198.18.7.5:22", 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		line, _ = bufio.NewReader(c).ReadString('\n')
	})
	if !strings.HasPrefix(line, "SSH-2.0-OpenSSH_") || !strings.Contains(line, "netscanner-test") {
		t.Errorf("banner %q\nlog:\n%s", line, d.Log())
	}
}
