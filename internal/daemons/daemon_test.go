package daemons

import (
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"netscanner/internal/testnet"
)

// TestStartStop runs a plain foreground program with a tmpfs and a bind
// mount, waits for its log line and stops it by its pid.
func TestStartStop(t *testing.T) {
	ns := testnet.NewNS(t, "dmn")
	dirs := NewDirs(t, "sleeper")
	WriteFile(t, dirs.Config, "hello", "from the test\n")
	d := Start(t, Spec{
		Name: "sleeper",
		NS:   ns,
		Dirs: dirs,
		Argv: []string{"sh", "-c", `cat /mnt/hello; ls -A /run; echo ready; exec sleep 600`},
		Mounts: []Mount{
			{Target: "/run"},
			{Target: "/run/private", Mkdir: true},
			{Target: "/mnt", Source: dirs.Config},
		},
		Ready: LogLine("ready"),
	})
	log := d.Log()
	if !strings.Contains(log, "from the test") {
		t.Errorf("bind mount not seen:\n%s", log)
	}
	// The private /run holds only what the script made.
	if !strings.Contains(log, "\nprivate\nready") {
		t.Errorf("tmpfs /run not private:\n%s", log)
	}
	if err := syscall.Kill(d.Pid, 0); err != nil {
		t.Fatalf("pid %d: %v", d.Pid, err)
	}
	start := time.Now()
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if exited, _ := d.Exited(); !exited || time.Since(start) > stopGrace {
		t.Errorf("not stopped by SIGTERM at once (exited %v after %v)", exited, time.Since(start))
	}
}

// TestAvahi starts the real avahi-daemon without D-Bus and checks that it
// publishes its static services.
func TestAvahi(t *testing.T) {
	ns := testnet.NewNS(t, "avahi")
	ns.Run("ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1")
	ns.Run("ip", "link", "set", "d1", "up")
	ns.Run("ip", "link", "set", "d0", "up")
	ns.Run("ip", "addr", "add", "198.18.7.2/24", "dev", "d0")
	d := StartAvahi(t, ns, AvahiSpec{HostName: "harness", Services: []AvahiService{
		{Name: "Test & Printer", Type: "_ipp._tcp", Port: 631, TXT: []string{"ty=Brother <HL>", "product=(HL-L2350DW)"}},
	}})
	t.Log(d.Log())
	if !d.LogContains("Host name is harness.local") {
		t.Errorf("host name not taken:\n%s", d.Log())
	}
}

// TestMiniDLNA starts the real minidlnad and fetches its description.
func TestMiniDLNA(t *testing.T) {
	ns := testnet.NewNS(t, "dlna")
	ns.Run("ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1")
	ns.Run("ip", "link", "set", "d1", "up")
	ns.Run("ip", "link", "set", "d0", "up")
	ns.Run("ip", "addr", "add", "198.18.7.3/24", "dev", "d0")
	d := StartMiniDLNA(t, ns, MiniDLNASpec{Interface: "d0", Addr: netip.MustParseAddr("198.18.7.3"),
		FriendlyName: "Living Room NAS", ModelName: "HarnessDLNA", ModelNumber: "42", Serial: "12345"})
	out := ns.Run("curl", "-s", "--max-time", "2", "http://198.18.7.3:8200/rootDesc.xml")
	for _, want := range []string{"<friendlyName>Living Room NAS</friendlyName>", "<modelName>HarnessDLNA</modelName>", "<modelNumber>42</modelNumber>"} {
		if !strings.Contains(out, want) {
			t.Errorf("description lacks %s:\n%s\nlog:\n%s", want, out, d.Log())
		}
	}
}

// fatalTB records the first Fatalf and stops the caller there, so that a
// test can check how Start fails.
type fatalTB struct {
	testing.TB
	msg string
}

type fatalStop struct{}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(fatalStop{})
}

func (f *fatalTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }

// startFails runs Start with s and returns what it failed with, or "".
func startFails(t *testing.T, s Spec) (msg string) {
	f := &fatalTB{TB: t}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(fatalStop); !ok {
				panic(r)
			}
			msg = f.msg
		}
	}()
	Start(f, s)
	return ""
}

// TestStartFailures: a daemon that exits, one never ready and a missing
// program each fail the test with the reason and the daemon's log.
func TestStartFailures(t *testing.T) {
	ns := testnet.NewNS(t, "dfail")
	for name, c := range map[string]struct {
		spec Spec
		want []string
	}{
		"exits": {Spec{Argv: []string{"sh", "-c", "echo broken config >&2; exit 3"}, Ready: LogLine("never")},
			[]string{"exited before it was ready", "exit status 3", "broken config"}},
		"never ready": {Spec{Argv: []string{"sh", "-c", "echo starting; exec sleep 60"}, Ready: PortOpen("127.0.0.1:9"), Timeout: 300 * time.Millisecond},
			[]string{"not ready after 300ms", "connection refused", "starting"}},
		"missing": {Spec{Argv: []string{"no-such-daemon-here"}}, []string{"no-such-daemon-here", "install its Debian package"}},
		"bad mount": {Spec{Argv: []string{"true"}, Mounts: []Mount{{Target: "/no/such/dir"}}, Ready: LogLine("never")},
			[]string{"mount target /no/such/dir does not exist"}},
	} {
		t.Run(name, func(t *testing.T) {
			c.spec.Name, c.spec.NS, c.spec.Dirs = name, ns, NewDirs(t, "fail")
			start := time.Now()
			msg := startFails(t, c.spec)
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("Start failed with %q, want %q in it", msg, w)
				}
			}
			if time.Since(start) > 3*time.Second {
				t.Errorf("took %v to fail", time.Since(start))
			}
		})
	}
}
