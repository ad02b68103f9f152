package daemons

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"netscanner/internal/testnet"
)

// MiniDLNASpec configures one minidlna (ReadyMedia) UPnP media server.
type MiniDLNASpec struct {
	// Interface is the one it serves on, and Addr its IPv4 address
	// there: it answers SSDP on that interface and serves its
	// description at http://Addr:Port/rootDesc.xml.
	Interface string
	Addr      netip.Addr
	// Port is its HTTP port; zero means 8200.
	Port int
	// FriendlyName, ModelName, ModelNumber and Serial go into its
	// device description.
	FriendlyName, ModelName, ModelNumber, Serial string
}

// StartMiniDLNA runs minidlnad in ns in the foreground with its own
// configuration, media, database, log and pid paths, and returns once its
// HTTP port is open and its SSDP socket bound.
func StartMiniDLNA(t testing.TB, ns *testnet.NS, spec MiniDLNASpec) *Daemon {
	t.Helper()
	if spec.Port == 0 {
		spec.Port = 8200
	}
	dirs := NewDirs(t, "minidlna")
	media := filepath.Join(dirs.State, "media")
	WriteFile(t, media, "README.txt", "nothing to see\n")
	var b strings.Builder
	fmt.Fprintf(&b, "port=%d\nnetwork_interface=%s\nmedia_dir=%s\ndb_dir=%s\nlog_dir=%s\n",
		spec.Port, spec.Interface, media, filepath.Join(dirs.State, "db"), dirs.Log)
	fmt.Fprintf(&b, "friendly_name=%s\nmodel_name=%s\nmodel_number=%s\nserial=%s\n",
		spec.FriendlyName, spec.ModelName, spec.ModelNumber, spec.Serial)
	b.WriteString("inotify=no\nnotify_interval=60\nenable_tivo=no\nstrict_dlna=no\nlog_level=general,artwork,database,inotify,scanner,metadata,http,ssdp,tivo=warn\n")
	conf := WriteFile(t, dirs.Config, "minidlna.conf", b.String())
	return Start(t, Spec{
		Name: "minidlnad",
		NS:   ns,
		Dirs: dirs,
		// -S: stay in the foreground, as under systemd.
		Argv:     []string{"minidlnad", "-S", "-f", conf, "-P", filepath.Join(dirs.Run, "minidlna.pid")},
		LogFiles: []string{"minidlna.log"},
		Ready:    All(PortOpen(netip.AddrPortFrom(spec.Addr, uint16(spec.Port)).String()), UDPBound(1900)),
	})
}
