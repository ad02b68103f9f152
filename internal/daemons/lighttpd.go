package daemons

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"html"
	"math/big"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"netscanner/internal/testnet"
)

// LighttpdSpec configures one lighttpd web server: a page with a title
// over http, and the same page over https with a self-signed certificate,
// as a device's web console serves it.
type LighttpdSpec struct {
	// Addr is the address it listens on (IPv4 or IPv6).
	Addr netip.Addr
	// HTTPPort and HTTPSPort are its ports; zero means 80 and 443, and
	// -1 turns that listener off.
	HTTPPort, HTTPSPort int
	// Title is the <title> of its index page.
	Title string
	// ServerTag replaces the Server header ("lighttpd/1.4.69" when
	// empty).
	ServerTag string
	// CertSubject is the certificate's subject; CertNames its DNS
	// alternative names (Addr is added as an IP name).
	CertSubject pkix.Name
	CertNames   []string
}

// StartLighttpd runs lighttpd in ns in the foreground (-D) with its own
// configuration, document root, certificate and error log, and returns
// once its ports are open. The certificate and key are made here, with
// crypto/x509: no openssl command is needed.
func StartLighttpd(t testing.TB, ns *testnet.NS, spec LighttpdSpec) *Daemon {
	t.Helper()
	if spec.HTTPPort == 0 {
		spec.HTTPPort = 80
	}
	if spec.HTTPSPort == 0 {
		spec.HTTPSPort = 443
	}
	dirs := NewDirs(t, "lighttpd")
	www := filepath.Join(dirs.State, "www")
	WriteFile(t, www, "index.html", fmt.Sprintf("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head>\n<body><h1>%s</h1></body></html>\n",
		html.EscapeString(spec.Title), html.EscapeString(spec.Title)))
	var b strings.Builder
	q := func(s string) string {
		return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
	}
	host := spec.Addr.String()
	if spec.Addr.Is6() {
		host = "[" + host + "]"
	}
	fmt.Fprintf(&b, "server.document-root = %s\nserver.errorlog = %s\nindex-file.names = ( \"index.html\" )\n",
		q(www), q(filepath.Join(dirs.Log, "error.log")))
	b.WriteString("mimetype.assign = ( \".html\" => \"text/html; charset=utf-8\" )\nserver.modules += ( \"mod_openssl\" )\n")
	if spec.ServerTag != "" {
		fmt.Fprintf(&b, "server.tag = %s\n", q(spec.ServerTag))
	}
	var ready []Check
	listeners := 0
	if spec.HTTPPort > 0 {
		fmt.Fprintf(&b, "server.bind = %s\nserver.port = %d\n", q(spec.Addr.String()), spec.HTTPPort)
		ready = append(ready, PortOpen(fmt.Sprintf("%s:%d", host, spec.HTTPPort)))
		listeners++
	}
	if spec.HTTPSPort > 0 {
		certPEM, keyPEM, err := SelfSignedCert(spec.CertSubject, spec.CertNames, []netip.Addr{spec.Addr})
		if err != nil {
			t.Fatalf("daemons: lighttpd: %v", err)
		}
		cert := WriteFile(t, dirs.Config, "cert.pem", string(certPEM))
		key := WriteFile(t, dirs.Config, "key.pem", string(keyPEM))
		if listeners == 0 {
			// lighttpd always binds server.port; give it the TLS one.
			fmt.Fprintf(&b, "server.bind = %s\nserver.port = %d\nssl.engine = \"enable\"\nssl.pemfile = %s\nssl.privkey = %s\n",
				q(spec.Addr.String()), spec.HTTPSPort, q(cert), q(key))
		} else {
			fmt.Fprintf(&b, "$SERVER[\"socket\"] == %s {\n  ssl.engine = \"enable\"\n  ssl.pemfile = %s\n  ssl.privkey = %s\n}\n",
				q(fmt.Sprintf("%s:%d", host, spec.HTTPSPort)), q(cert), q(key))
		}
		ready = append(ready, PortOpen(fmt.Sprintf("%s:%d", host, spec.HTTPSPort)))
	}
	conf := WriteFile(t, dirs.Config, "lighttpd.conf", b.String())
	return Start(t, Spec{
		Name:     "lighttpd",
		NS:       ns,
		Dirs:     dirs,
		Argv:     []string{"lighttpd", "-D", "-f", conf},
		LogFiles: []string{"error.log"},
		Ready:    All(ready...),
	})
}

// SelfSignedCert makes a self-signed ECDSA P-256 certificate for subject
// with the given DNS and IP alternative names, valid from an hour ago for
// a day, as PEM blocks: the certificate and its private key (SEC 1,
// "EC PRIVATE KEY", which lighttpd's OpenSSL and OpenSSH both read).
func SelfSignedCert(subject pkix.Name, dnsNames []string, ips []netip.Addr) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               subject,
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		DNSNames:              dnsNames,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, a := range ips {
		if a.IsValid() {
			tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(a.WithZone("").AsSlice()))
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("daemons: certificate: %w", err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("daemons: key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}
