package scanner_test

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"netscanner/internal/daemons"
	"netscanner/internal/testnet"
)

// identHost is the identity part of a line of `netscanner scan --json`.
type identHost struct {
	IP           string `json:"ip"`
	Kind         string `json:"kind"`
	Model        string `json:"model"`
	FriendlyName string `json:"friendly_name"`
	Services     []struct {
		Type string            `json:"type"`
		Name string            `json:"name"`
		Port uint16            `json:"port"`
		TXT  map[string]string `json:"txt"`
	} `json:"services"`
	Evidence []struct {
		Source string  `json:"source"`
		Fact   string  `json:"fact"`
		Rule   string  `json:"rule"`
		Weight float64 `json:"weight"`
	} `json:"evidence"`
	Confidence float64  `json:"confidence"`
	Reasons    []string `json:"reasons"`
}

// TestIdentifyLAN is the end-to-end test of identification: a bridged
// LAN of five hosts, each running a real daemon from Debian in its own
// namespace with its own configuration and state: avahi-daemon (without
// D-Bus, static service files) publishing a printer (_ipp._tcp with ty,
// product and the IEEE 1284 ids) and, on another host, a Chromecast's
// _googlecast._tcp (md and fn); minidlna (UPnP friendlyName); lighttpd
// (a page title and a self-signed certificate made by the test); and
// OpenSSH's sshd (its banner). `netscanner scan --json`, the headless
// binary, runs in the scanner's namespace as root (raw sockets) and as
// nobody (ICMP datagram sockets), and must report each device's kind,
// model and friendly name, with the evidence, and attach every service to
// the host that announced it.
func TestIdentifyLAN(t *testing.T) {
	lan := testnet.NewBridged(t,
		testnet.BridgedSpec{Label: "printer", MAC: "30:05:5c:00:00:14", Addr4: "198.18.100.20"},
		testnet.BridgedSpec{Label: "cast", MAC: "f4:f5:d8:00:00:15", Addr4: "198.18.100.21"},
		testnet.BridgedSpec{Label: "dlna", MAC: "24:5e:be:00:00:16", Addr4: "198.18.100.22"},
		testnet.BridgedSpec{Label: "web", MAC: "3c:a6:2f:00:00:17", Addr4: "198.18.100.23"},
		testnet.BridgedSpec{Label: "ssh", MAC: "dc:a6:32:00:00:18", Addr4: "198.18.100.24"},
	)
	lan.Scanner.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	printer, cast, dlna, web, ssh := lan.Host("printer"), lan.Host("cast"), lan.Host("dlna"), lan.Host("web"), lan.Host("ssh")
	daemons.StartAvahi(t, printer.NS, daemons.AvahiSpec{HostName: "brother-hl", NoIPv6: true, Services: []daemons.AvahiService{
		{Name: "Brother HL-L2350DW series", Type: "_ipp._tcp", Port: 631, TXT: []string{
			"txtvers=1", "ty=Brother HL-L2350DW series", "product=(Brother HL-L2350DW series)", "usb_MFG=Brother",
			"usb_MDL=HL-L2350DW series", "note=Upstairs office", "rp=ipp/print", "UUID=e3248000-80ce-11db-8000-30055c000014"}},
		{Name: "Brother HL-L2350DW series", Type: "_pdl-datastream._tcp", Port: 9100, TXT: []string{"ty=Brother HL-L2350DW series"}},
	}})
	daemons.StartAvahi(t, cast.NS, daemons.AvahiSpec{HostName: "Chromecast-Ultra-4b1b7f2a", NoIPv6: true, Services: []daemons.AvahiService{
		{Name: "Chromecast-Ultra-4b1b7f2ab9a0ec2d", Type: "_googlecast._tcp", Port: 8009, TXT: []string{
			"id=4b1b7f2ab9a0ec2d", "md=Chromecast Ultra", "fn=Living Room TV", "ve=05", "ca=4101", "ic=/setup/icon.png"}},
	}})
	daemons.StartMiniDLNA(t, dlna.NS, daemons.MiniDLNASpec{Interface: dlna.If, Addr: dlna.Addr4,
		FriendlyName: "Family media", ModelName: "Windows Media Connect compatible (MiniDLNA)", ModelNumber: "1.3.3", Serial: "12345"})
	daemons.StartLighttpd(t, web.NS, daemons.LighttpdSpec{Addr: web.Addr4, Title: "FRITZ!Box 7590",
		CertSubject: pkix.Name{CommonName: "fritz.box"}, CertNames: []string{"fritz.box", "www.fritz.box", "myfritz.box"}})
	daemons.StartSSHD(t, ssh.NS, daemons.SSHDSpec{Addr: ssh.Addr4})

	bin := buildCLI(t)
	type want struct {
		kind, model, name string
		rules             []string // rules that must be among the evidence
		service           string   // a service type it must list
	}
	wants := map[string]want{
		printer.Addr4.String(): {"printer", "Brother HL-L2350DW", "Brother HL-L2350DW series", []string{"printer-ty", "vendor-printer"}, "_ipp._tcp"},
		cast.Addr4.String():    {"streaming-stick", "Chromecast Ultra", "Living Room TV", []string{"cast-stick"}, "_googlecast._tcp"},
		dlna.Addr4.String():    {"nas", "MiniDLNA media server", "Family media", []string{"upnp-minidlna", "vendor-nas"}, "upnp:MediaServer:1"},
		web.Addr4.String():     {"router", "FRITZ!Box 7590", "", []string{"title-fritzbox", "tls-fritzbox", "vendor-router-strong"}, "https"},
		ssh.Addr4.String():     {"computer", "Raspberry Pi", "", []string{"ssh-openssh", "vendor-raspberry-pi", "port-ssh-vnc"}, ""},
	}
	for _, u := range []testnet.User{testnet.Root, testnet.Nobody} {
		t.Run(u.String(), func(t *testing.T) {
			lan.Scanner.Run("ip", "neigh", "flush", "all")
			method := map[testnet.User]string{testnet.Root: "raw", testnet.Nobody: "dgram"}[u]
			var out, errb bytes.Buffer
			cmd := lan.Scanner.Command(u, bin, "scan", "--json", "--method", method, testnet.BridgedPrefix4.String())
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				t.Fatalf("netscanner scan as %s: %v\nstderr:\n%s", u, err, errb.String())
			}
			got := map[string]identHost{}
			for line := range strings.Lines(out.String()) {
				var h identHost
				if err := json.Unmarshal([]byte(line), &h); err != nil {
					t.Fatalf("not a JSON line: %v\n%s", err, line)
				}
				got[h.IP] = h
				t.Logf("%s", strings.TrimSpace(line))
			}
			for ip, w := range wants {
				h, ok := got[ip]
				if !ok {
					t.Errorf("%s not found", ip)
					continue
				}
				if h.Kind != w.kind || h.Model != w.model || h.FriendlyName != w.name {
					t.Errorf("%s: %s %q %q, want %s %q %q", ip, h.Kind, h.Model, h.FriendlyName, w.kind, w.model, w.name)
				}
				if h.Confidence < 0.3 || h.Confidence > 1 {
					t.Errorf("%s: confidence %v", ip, h.Confidence)
				}
				for _, r := range w.rules {
					if !slices.ContainsFunc(h.Evidence, func(e struct {
						Source string  `json:"source"`
						Fact   string  `json:"fact"`
						Rule   string  `json:"rule"`
						Weight float64 `json:"weight"`
					}) bool {
						return e.Rule == r && e.Fact != "" && e.Weight > 0
					}) {
						t.Errorf("%s: no evidence from rule %s", ip, r)
					}
				}
				if w.service != "" && !slices.ContainsFunc(h.Services, func(s struct {
					Type string            `json:"type"`
					Name string            `json:"name"`
					Port uint16            `json:"port"`
					TXT  map[string]string `json:"txt"`
				}) bool {
					return s.Type == w.service
				}) {
					t.Errorf("%s: no %s service in %+v", ip, w.service, h.Services)
				}
			}
			// Every service is the announcing host's own: the Chromecast's
			// and the printer's stay where they were announced.
			for ip, h := range got {
				for _, s := range h.Services {
					switch {
					case s.Type == "_googlecast._tcp" && ip != cast.Addr4.String(),
						s.Type == "_ipp._tcp" && ip != printer.Addr4.String(),
						strings.HasPrefix(s.Type, "upnp:") && ip != dlna.Addr4.String():
						t.Errorf("%s carries %s, announced by another host", ip, s.Type)
					}
				}
			}
			p := got[printer.Addr4.String()]
			if len(p.Services) > 0 {
				txt := p.Services[0].TXT
				if txt["ty"] != "Brother HL-L2350DW series" || txt["uuid"] != "" || txt["rp"] != "" {
					t.Errorf("printer's kept TXT keys: %v", txt)
				}
			}
			if !slices.Contains(got[dlna.Addr4.String()].Reasons, "ssdp") || !slices.Contains(got[cast.Addr4.String()].Reasons, "mdns") {
				t.Errorf("reasons: dlna %v, cast %v", got[dlna.Addr4.String()].Reasons, got[cast.Addr4.String()].Reasons)
			}
		})
	}

	// --no-identify sends none of it: no services, no banners; kinds
	// still come from makers, names and ports.
	t.Run("no-identify", func(t *testing.T) {
		var out, errb bytes.Buffer
		cmd := lan.Scanner.Command(testnet.Root, bin, "scan", "--json", "--method", "raw", "--no-identify", testnet.BridgedPrefix4.String())
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v\n%s", err, errb.String())
		}
		for line := range strings.Lines(out.String()) {
			var h identHost
			if err := json.Unmarshal([]byte(line), &h); err != nil {
				t.Fatal(err)
			}
			if len(h.Services) > 0 {
				t.Errorf("%s: services without identification: %+v", h.IP, h.Services)
			}
			for _, e := range h.Evidence {
				if e.Source == "dns-sd" || e.Source == "upnp" || e.Source == "http" || e.Source == "tls" || e.Source == "ssh" {
					t.Errorf("%s: evidence from %s without identification: %s", h.IP, e.Source, e.Fact)
				}
			}
			if h.IP == printer.Addr4.String() && h.Kind != "printer" {
				t.Errorf("printer by maker and ports: %s", h.Kind)
			}
		}
	})

	// The table has the identity columns.
	t.Run("table", func(t *testing.T) {
		var out, errb bytes.Buffer
		cmd := lan.Scanner.Command(testnet.Root, bin, "scan", "--method", "raw", testnet.BridgedPrefix4.String())
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v\n%s", err, errb.String())
		}
		t.Logf("\n%s", out.String())
		lines := strings.Split(out.String(), "\n")
		if !strings.Contains(lines[0], "KIND") || !strings.Contains(lines[0], "MODEL/NAME") {
			t.Errorf("header %q", lines[0])
		}
		if !strings.Contains(out.String(), "Living Room TV — Chromecast Ultra") || !strings.Contains(out.String(), "streaming stick") {
			t.Errorf("the Chromecast's row:\n%s", out.String())
		}
	})
}

// buildCLI builds the headless binary into a directory every user may
// enter, so that nobody can run it.
func buildCLI(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for d := filepath.Dir(dir); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		_ = os.Chmod(d, 0o755)
	}
	bin := filepath.Join(dir, "netscanner-cli")
	cmd := exec.Command("go", "build", "-tags", "nogui", "-o", bin, "netscanner")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}
