package daemons

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"netscanner/internal/testnet"
)

// SSHDSpec configures one OpenSSH server.
type SSHDSpec struct {
	// Addr is the address it listens on; Port its port (zero means 22).
	Addr netip.Addr
	Port int
	// VersionAddendum is appended to its identification line, after
	// Debian's own "Debian-..." comment; empty adds nothing.
	VersionAddendum string
}

// StartSSHD runs OpenSSH's sshd in ns in the foreground (-D, logging to
// stderr) with its own configuration and an ECDSA host key made here,
// in a private mount namespace whose /run is a tmpfs holding the
// privilege separation directory it insists on (/run/sshd). Nobody can
// log in: every authentication method is off. It returns once the port
// is open.
func StartSSHD(t testing.TB, ns *testnet.NS, spec SSHDSpec) *Daemon {
	t.Helper()
	if spec.Port == 0 {
		spec.Port = 22
	}
	dirs := NewDirs(t, "sshd")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("daemons: sshd: %v", err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatalf("daemons: sshd: %v", err)
	}
	// sshd refuses a host key that others may read.
	hostKey := filepath.Join(dirs.Config, "ssh_host_ecdsa_key")
	if err := os.WriteFile(hostKey, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatalf("daemons: sshd: %v", err)
	}
	listen := spec.Addr.String()
	if spec.Addr.Is6() {
		listen = "[" + listen + "]"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Port %d\nListenAddress %s\nHostKey %s\nPidFile none\n", spec.Port, listen, hostKey)
	b.WriteString("UsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication no\n")
	b.WriteString("HostbasedAuthentication no\nAuthorizedKeysFile none\nPermitRootLogin no\nAllowUsers nobody-at-all\n")
	b.WriteString("LogLevel INFO\nMaxStartups 100:30:200\n")
	if spec.VersionAddendum != "" {
		fmt.Fprintf(&b, "VersionAddendum %s\n", spec.VersionAddendum)
	}
	conf := WriteFile(t, dirs.Config, "sshd_config", b.String())
	return Start(t, Spec{
		Name: "sshd",
		NS:   ns,
		Dirs: dirs,
		// sshd must be started by its absolute path (it re-executes
		// itself for each connection).
		Argv:   []string{"/usr/sbin/sshd", "-D", "-e", "-f", conf},
		Mounts: []Mount{{Target: "/run"}, {Target: "/run/sshd", Mkdir: true}},
		Ready:  PortOpen(fmt.Sprintf("%s:%d", listen, spec.Port)),
	})
}
