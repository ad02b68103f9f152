package probe

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// capNetRaw is CAP_NET_RAW's bit number in the capability sets.
const capNetRaw = 13

// pingGroupRangePath is the sysctl net.ipv4.ping_group_range. Files under
// /proc/sys/net show the network namespace of the thread that opens them,
// so Gather called inside a namespace reads that namespace's value.
const pingGroupRangePath = "/proc/sys/net/ipv4/ping_group_range"

// Gather reads the Facts of this process and machine.
func Gather() Facts { return gather("") }

// gather is Gather with the ping binary an Options.PingPath names, if any.
func gather(pingPath string) Facts {
	f := Facts{UID: os.Getuid(), EUID: os.Geteuid(), EGID: os.Getegid()}
	f.Groups, _ = os.Getgroups() // none is a valid answer, and the likely one on error
	f.PingGroupRange, f.RangeErr = readPingGroupRange(pingGroupRangePath)

	if st, err := readStatus("/proc/self/status"); err == nil {
		f.CapNetRaw = st.capEff&(1<<capNetRaw) != 0
		f.CapNetRawBounding = st.capBnd&(1<<capNetRaw) != 0
		f.NoNewPrivs = st.noNewPrivs
	}

	if p, err := FindPing(pingPath); err == nil {
		f.PingPath = p
		if fi, err := os.Stat(p); err == nil {
			f.PingSetuid = fi.Mode()&fs.ModeSetuid != 0 && fileOwner(fi) == 0
		}
		f.PingCapRaw = fileHasCapNetRaw(p)
	}
	if exe, err := os.Executable(); err == nil {
		f.Executable = exe
	}
	return f
}

// readPingGroupRange parses the two numbers of net.ipv4.ping_group_range.
func readPingGroupRange(path string) ([2]int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return [2]int64{}, fmt.Errorf("read net.ipv4.ping_group_range: %w", err)
	}
	return parsePingGroupRange(string(b))
}

func parsePingGroupRange(s string) ([2]int64, error) {
	var r [2]int64
	fields := strings.Fields(s)
	if len(fields) != 2 {
		return r, fmt.Errorf("net.ipv4.ping_group_range: want two numbers, got %q", s)
	}
	for i, f := range fields {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return r, fmt.Errorf("net.ipv4.ping_group_range: %w", err)
		}
		r[i] = n
	}
	return r, nil
}

// procStatus holds the lines of /proc/self/status that matter here.
type procStatus struct {
	capEff, capBnd uint64
	noNewPrivs     bool
}

func readStatus(path string) (procStatus, error) {
	f, err := os.Open(path)
	if err != nil {
		return procStatus{}, err
	}
	defer f.Close()
	var st procStatus
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch key {
		case "CapEff":
			st.capEff, err = strconv.ParseUint(val, 16, 64)
		case "CapBnd":
			st.capBnd, err = strconv.ParseUint(val, 16, 64)
		case "NoNewPrivs":
			st.noNewPrivs = val == "1"
		}
		if err != nil {
			return procStatus{}, fmt.Errorf("%s: %s: %w", path, key, err)
		}
	}
	return st, sc.Err()
}

// fileOwner returns the owning uid of fi, or -1 when unknown.
func fileOwner(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}

// fileHasCapNetRaw reports whether path carries cap_net_raw in the
// permitted set of its security.capability extended attribute, the way
// `setcap cap_net_raw+ep` (or +p) leaves it.
func fileHasCapNetRaw(path string) bool {
	buf := make([]byte, 64) // the largest revision is 24 bytes
	n, err := unix.Getxattr(path, "security.capability", buf)
	if err != nil {
		return false // ENODATA: no file capabilities at all
	}
	perm, err := parseVFSCap(buf[:n])
	return err == nil && perm&(1<<capNetRaw) != 0
}

// vfs_cap_data layout (linux/capability.h): a little-endian magic_etc word
// whose top byte is the revision, then {permitted, inheritable} pairs of
// 32-bit words, one pair for revision 1 and two (low, high) for revisions 2
// and 3; revision 3 appends the namespace root uid.
const (
	vfsCapRevisionMask = 0xFF000000
	vfsCapRevision1    = 0x01000000
	vfsCapRevision2    = 0x02000000
	vfsCapRevision3    = 0x03000000
)

// parseVFSCap returns the permitted capability set of a security.capability
// attribute.
func parseVFSCap(b []byte) (uint64, error) {
	if len(b) < 4 {
		return 0, errors.New("security.capability: too short")
	}
	magic := binary.LittleEndian.Uint32(b)
	var want int
	switch magic & vfsCapRevisionMask {
	case vfsCapRevision1:
		want = 12
	case vfsCapRevision2:
		want = 20
	case vfsCapRevision3:
		want = 24
	default:
		return 0, fmt.Errorf("security.capability: unknown revision %#x", magic&vfsCapRevisionMask)
	}
	if len(b) < want {
		return 0, fmt.Errorf("security.capability: %d bytes, revision wants %d", len(b), want)
	}
	perm := uint64(binary.LittleEndian.Uint32(b[4:]))
	if want > 12 {
		perm |= uint64(binary.LittleEndian.Uint32(b[12:])) << 32
	}
	return perm, nil
}
