package daemons

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"netscanner/internal/testnet"
)

// AvahiService is one service avahi-daemon publishes from a static service
// file (avahi.service(5)).
type AvahiService struct {
	Name string   // instance name, such as "Office Printer"
	Type string   // such as "_ipp._tcp"
	Port int      // the port the service says it listens on
	TXT  []string // TXT record strings, "key=value" each
}

// AvahiSpec configures one avahi-daemon.
type AvahiSpec struct {
	// HostName is the name it claims, without ".local"; it publishes
	// an A or AAAA record for it with each of its addresses.
	HostName string
	// Services are its static services, one file each.
	Services []AvahiService
	// Interfaces, if set, are the only ones it uses (allow-interfaces).
	Interfaces []string
	// NoIPv6 turns IPv6 off (use-ipv6=no); by default it uses both.
	NoIPv6 bool
}

// StartAvahi runs avahi-daemon in ns without D-Bus, with its own
// configuration and static service files, and a private mount namespace
// in which /run is a tmpfs and /etc/avahi/services is the
// test's directory. It returns once the daemon has announced its host name
// and established every service.
func StartAvahi(t testing.TB, ns *testnet.NS, spec AvahiSpec) *Daemon {
	t.Helper()
	dirs := NewDirs(t, "avahi")
	services := filepath.Join(dirs.Config, "services")
	WriteFile(t, services, ".keep", "")
	var ready []Check
	for i, s := range spec.Services {
		WriteFile(t, services, fmt.Sprintf("s%d.service", i), avahiServiceFile(s))
		ready = append(ready, LogLine(fmt.Sprintf("Service \"%s\" (/etc/avahi/services/s%d.service) successfully established.", s.Name, i)))
	}
	conf := WriteFile(t, dirs.Config, "avahi-daemon.conf", avahiConf(spec))
	return Start(t, Spec{
		Name: "avahi-daemon",
		NS:   ns,
		Dirs: dirs,
		// Foreground, logging to stderr; no chroot, whose helper would
		// look for the services at the real path before our mount.
		Argv: []string{"avahi-daemon", "-f", conf, "--no-chroot", "--no-rlimits", "--no-proc-title"},
		Mounts: []Mount{
			// /run/avahi-daemon does not exist outside systemd's
			// RuntimeDirectory: a tmpfs /run of its own holds it.
			{Target: "/run"},
			{Target: "/run/avahi-daemon", Mkdir: true},
			{Target: "/etc/avahi/services", Source: services},
		},
		Ready: All(append([]Check{LogLine("Server startup complete.")}, ready...)...),
	})
}

func avahiConf(spec AvahiSpec) string {
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[server]\nhost-name=%s\ndomain-name=local\nuse-ipv4=yes\nuse-ipv6=%s\nenable-dbus=no\n", spec.HostName, yes(!spec.NoIPv6))
	if len(spec.Interfaces) > 0 {
		fmt.Fprintf(&b, "allow-interfaces=%s\n", strings.Join(spec.Interfaces, ","))
	}
	b.WriteString("ratelimit-interval-usec=1000000\nratelimit-burst=1000\n")
	b.WriteString("[wide-area]\nenable-wide-area=no\n")
	b.WriteString("[publish]\npublish-addresses=yes\npublish-hinfo=no\npublish-workstation=no\npublish-domain=no\n")
	b.WriteString("[reflector]\nenable-reflector=no\n")
	return b.String()
}

func avahiServiceFile(s AvahiService) string {
	esc := func(v string) string {
		var b bytes.Buffer
		_ = xml.EscapeText(&b, []byte(v))
		return b.String()
	}
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" standalone='no'?>\n<!DOCTYPE service-group SYSTEM \"avahi-service.dtd\">\n<service-group>\n")
	fmt.Fprintf(&b, "  <name>%s</name>\n  <service>\n    <type>%s</type>\n    <port>%d</port>\n", esc(s.Name), esc(s.Type), s.Port)
	for _, txt := range s.TXT {
		fmt.Fprintf(&b, "    <txt-record>%s</txt-record>\n", esc(txt))
	}
	b.WriteString("  </service>\n</service-group>\n")
	return b.String()
}
