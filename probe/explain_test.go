package probe

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// Fact sets for the kinds of user the selector meets.
var (
	// A desktop user on a distribution that leaves ping sockets off.
	desktopUser = Facts{
		UID: 1000, EUID: 1000, EGID: 1000, Groups: []int{1000, 27},
		PingGroupRange:    [2]int64{1, 0},
		CapNetRawBounding: true,
		PingPath:          "/bin/ping", PingCapRaw: true,
		Executable: "/usr/local/bin/netscanner",
	}
	// root with everything.
	rootUser = Facts{
		UID: 0, EUID: 0, EGID: 0, Groups: []int{0},
		PingGroupRange: [2]int64{1, 0},
		CapNetRaw:      true, CapNetRawBounding: true,
		PingPath: "/bin/ping", PingCapRaw: true,
	}
)

// with returns a copy of f changed by fn, so that rows read as differences
// from a known user.
func with(f Facts, fn func(*Facts)) Facts {
	f.Groups = append([]int(nil), f.Groups...)
	fn(&f)
	return f
}

func TestExplain(t *testing.T) {
	eacces := fmt.Errorf("socket: %w", syscall.EACCES)
	eperm := fmt.Errorf("socket: %w", syscall.EPERM)

	tests := []struct {
		name    string
		facts   Facts
		method  Method
		openErr error
		ok      bool
		reason  []string // substrings Reason must contain
		fix     []string // substrings Fix must contain; nil means Fix must be empty
	}{
		{
			name: "dgram off for desktop user", facts: desktopUser, method: Dgram, openErr: eacces,
			reason: []string{"ICMP datagram sockets are off", "net.ipv4.ping_group_range is '1 0'", "your groups are 1000,27"},
			fix:    []string{"sudo sysctl -w net.ipv4.ping_group_range='0 2147483647'", "'1000 1000'", "/etc/sysctl.d/"},
		},
		{
			name: "dgram range excludes the user's groups", method: Dgram, openErr: eacces,
			facts:  with(desktopUser, func(f *Facts) { f.PingGroupRange = [2]int64{100, 200} }),
			reason: []string{"limited to other groups", "'100 200'", "1000,27"},
			// The narrow proposal widens the existing range to take in gid 1000.
			fix: []string{"'0 2147483647'", "'100 1000'"},
		},
		{
			name: "dgram works through the effective gid", method: Dgram, ok: true,
			facts:  with(desktopUser, func(f *Facts) { f.PingGroupRange = [2]int64{0, 2147483647} }),
			reason: []string{"your group 1000 is inside ping_group_range 0 2147483647"},
		},
		{
			name: "dgram works through a supplementary group", method: Dgram, ok: true,
			facts:  with(desktopUser, func(f *Facts) { f.PingGroupRange = [2]int64{27, 27} }),
			reason: []string{"your group 27 is inside ping_group_range 27 27"},
		},
		{
			name: "dgram single group wording", method: Dgram, openErr: eacces,
			facts:  with(desktopUser, func(f *Facts) { f.EGID, f.Groups = 65534, nil }),
			reason: []string{"your group is 65534"},
			fix:    []string{"'65534 65534'"},
		},
		{
			name: "dgram denied by policy despite range", method: Dgram, openErr: eacces,
			facts:  with(desktopUser, func(f *Facts) { f.PingGroupRange = [2]int64{0, 2147483647} }),
			reason: []string{"although your group 1000 is inside ping_group_range 0 2147483647", "security policy"},
		},
		{
			name: "dgram forbidden by seccomp", facts: desktopUser, method: Dgram, openErr: eperm,
			reason: []string{"sandbox", "operation not permitted"},
		},
		{
			name: "dgram unsupported kernel", facts: desktopUser, method: Dgram,
			openErr: fmt.Errorf("socket: %w", syscall.EPROTONOSUPPORT),
			reason:  []string{"no ICMP datagram sockets"},
		},
		{
			name: "dgram range unreadable", method: Dgram, openErr: eacces,
			facts:  with(desktopUser, func(f *Facts) { f.RangeErr = errors.New("read net.ipv4.ping_group_range: no such file") }),
			reason: []string{"no such file", "permission denied"},
			fix:    []string{"net.ipv4.ping_group_range"},
		},
		{
			name: "dgram not tried predicts failure", facts: desktopUser, method: Dgram, openErr: ErrNotTried,
			reason: []string{"not tried; would fail", "'1 0'"},
			fix:    []string{"sysctl"},
		},
		{
			name: "raw as root", facts: rootUser, method: Raw, ok: true,
			reason: []string{"running as root"},
		},
		{
			name: "raw with the capability", method: Raw, ok: true,
			facts:  with(desktopUser, func(f *Facts) { f.CapNetRaw = true }),
			reason: []string{"CAP_NET_RAW held"},
		},
		{
			name: "raw for a plain user", facts: desktopUser, method: Raw, openErr: eperm,
			reason: []string{"raw sockets need root or CAP_NET_RAW, and this process has neither"},
			fix:    []string{"run as root, or: sudo setcap cap_net_raw+ep /usr/local/bin/netscanner"},
		},
		{
			name: "raw setcap advice without a known path", method: Raw, openErr: eperm,
			facts: with(desktopUser, func(f *Facts) { f.Executable = "" }),
			fix:   []string{"sudo setcap cap_net_raw+ep /path/to/netscanner"},
		},
		{
			name: "raw for a confined app", method: Raw, openErr: eperm,
			facts:  with(desktopUser, func(f *Facts) { f.CapNetRawBounding = false }),
			reason: []string{"neither", "bounding set lacks CAP_NET_RAW"},
		},
		{
			name: "raw under no_new_privs", method: Raw, openErr: eperm,
			facts:  with(desktopUser, func(f *Facts) { f.NoNewPrivs = true }),
			reason: []string{"no_new_privs"},
			fix:    []string{"run as root"},
		},
		{
			name: "raw as root in a container without the capability", method: Raw, openErr: eperm,
			facts:  with(rootUser, func(f *Facts) { f.CapNetRaw = false }),
			reason: []string{"running as root, but without CAP_NET_RAW"},
			fix:    []string{"NET_RAW"},
		},
		{
			name: "raw denied by policy despite the capability", facts: rootUser, method: Raw, openErr: eacces,
			reason: []string{"although CAP_NET_RAW is held"},
		},
		{
			name: "raw not tried predicts success", facts: rootUser, method: Raw, openErr: ErrNotTried, ok: true,
			reason: []string{"not tried; would work", "running as root"},
		},
		{
			name: "exec without a ping binary", method: Exec, openErr: exec.ErrNotFound,
			facts:  with(desktopUser, func(f *Facts) { f.PingPath, f.PingCapRaw = "", false }),
			reason: []string{"no ping binary found"},
			fix:    []string{"iputils-ping"},
		},
		{
			name: "exec with a file capability", facts: desktopUser, method: Exec, ok: true,
			reason: []string{"/bin/ping has cap_net_raw"},
		},
		{
			name: "exec setuid", method: Exec, ok: true,
			facts:  with(desktopUser, func(f *Facts) { f.PingCapRaw, f.PingSetuid = false, true }),
			reason: []string{"/bin/ping is setuid root"},
		},
		{
			name: "exec through ping sockets", method: Exec, ok: true,
			facts: with(desktopUser, func(f *Facts) {
				f.PingCapRaw, f.PingPath, f.PingGroupRange = false, "/usr/bin/ping", [2]int64{0, 2147483647}
			}),
			reason: []string{"/usr/bin/ping uses ICMP datagram sockets", "group 1000"},
		},
		{
			name: "exec in a confined app", method: Exec, openErr: eperm,
			facts:  with(desktopUser, func(f *Facts) { f.CapNetRawBounding = false }),
			reason: []string{"/bin/ping has the cap_net_raw file capability but this process's capability bounding set lacks CAP_NET_RAW", "cannot run"},
		},
		{
			name: "exec setuid under no_new_privs", method: Exec, openErr: errors.New("ping: socket: Operation not permitted"),
			facts:  with(desktopUser, func(f *Facts) { f.PingCapRaw, f.PingSetuid, f.NoNewPrivs = false, true, true }),
			reason: []string{"no_new_privs is set, so the setuid bit of /bin/ping is ignored"},
			fix:    []string{"no_new_privs"},
		},
		{
			name: "exec plain binary without privilege", method: Exec, openErr: errors.New("ping: socket: Operation not permitted"),
			facts:  with(desktopUser, func(f *Facts) { f.PingCapRaw = false }),
			reason: []string{"neither the setuid bit nor the cap_net_raw file capability"},
			fix:    []string{"sudo setcap cap_net_raw+ep /bin/ping"},
		},
		{
			name: "exec fails for its own reasons", facts: desktopUser, method: Exec,
			openErr: errors.New("ping: unknown iface eth7"),
			reason:  []string{"/bin/ping failed: ping: unknown iface eth7"},
		},
		{
			name: "tcp always possible", facts: desktopUser, method: TCP, ok: true,
			reason: []string{"always possible", "slower", "filter every probed port"},
		},
		{
			name: "tcp broken", facts: desktopUser, method: TCP, openErr: errors.New("too many open files"),
			reason: []string{"too many open files"},
		},
		{
			name: "unknown method", facts: desktopUser, method: "carrier-pigeon", openErr: errors.New("x"),
			reason: []string{"unknown method", "carrier-pigeon"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := Explain(tt.facts, tt.method, tt.openErr)
			if st.Method != tt.method {
				t.Errorf("Method = %q, want %q", st.Method, tt.method)
			}
			if st.OK != tt.ok {
				t.Errorf("OK = %v, want %v (reason %q)", st.OK, tt.ok, st.Reason)
			}
			if st.Reason == "" {
				t.Error("empty Reason")
			}
			for _, want := range tt.reason {
				if !strings.Contains(st.Reason, want) {
					t.Errorf("Reason = %q\nwant it to contain %q", st.Reason, want)
				}
			}
			if tt.fix == nil && st.Fix != "" && tt.ok {
				t.Errorf("working method has Fix %q", st.Fix)
			}
			for _, want := range tt.fix {
				if !strings.Contains(st.Fix, want) {
					t.Errorf("Fix = %q\nwant it to contain %q", st.Fix, want)
				}
			}
			if strings.ContainsRune(st.Reason, '\n') || strings.ContainsRune(st.Fix, '\n') {
				t.Errorf("Reason and Fix must be one line each: %q / %q", st.Reason, st.Fix)
			}
		})
	}
}

// TestExplainIsPure checks that Explain neither reads the system nor
// changes its input.
func TestExplainIsPure(t *testing.T) {
	f := with(desktopUser, func(*Facts) {})
	a := Explain(f, Dgram, syscall.EACCES)
	b := Explain(f, Dgram, syscall.EACCES)
	if a != b {
		t.Errorf("two calls differ:\n%+v\n%+v", a, b)
	}
	if fmt.Sprint(f) != fmt.Sprint(desktopUser) {
		t.Errorf("Explain changed its Facts: %+v", f)
	}
}
