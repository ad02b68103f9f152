//go:build !linux

package probe

import (
	"errors"
	"io/fs"
	"os"
)

// Gather reads the Facts of this process and machine. Outside Linux there
// are no ICMP datagram sockets, capability sets or ping_group_range; only
// identities and the ping binary are known.
func Gather() Facts { return gather("") }

func gather(pingPath string) Facts {
	f := Facts{UID: os.Getuid(), EUID: os.Geteuid(), EGID: os.Getegid()}
	f.Groups, _ = os.Getgroups()
	f.RangeErr = errors.New("net.ipv4.ping_group_range exists only on Linux")
	f.CapNetRaw = f.EUID == 0
	f.CapNetRawBounding = true
	if p, err := FindPing(pingPath); err == nil {
		f.PingPath = p
		if fi, err := os.Stat(p); err == nil {
			f.PingSetuid = fi.Mode()&fs.ModeSetuid != 0
		}
	}
	if exe, err := os.Executable(); err == nil {
		f.Executable = exe
	}
	return f
}
