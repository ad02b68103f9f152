//go:build linux

package probe

import (
	"encoding/binary"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Fuzz targets for the small parsers of what the kernel hands us: error
// queue control messages, net.ipv4.ping_group_range and the
// security.capability attribute of the ping binary. The kernel is trusted
// more than the network, but a parser that panics on a surprise takes the
// whole scan with it.

// FuzzParseExtendedErr feeds arbitrary control data to parseExtendedErr.
func FuzzParseExtendedErr(f *testing.F) {
	// A real IP_RECVERR message: host unreachable from 198.18.0.2. (cmsg
	// is recverr_linux_test.go's.)
	ee := make([]byte, 16+16)
	binary.NativeEndian.PutUint32(ee[0:4], uint32(unix.EHOSTUNREACH))
	ee[4], ee[5], ee[6] = unix.SO_EE_ORIGIN_ICMP, 3, 1
	binary.NativeEndian.PutUint16(ee[16:18], unix.AF_INET)
	copy(ee[20:24], []byte{198, 18, 0, 2})
	f.Add(false, cmsg(unix.IPPROTO_IP, unix.IP_RECVERR, ee))
	f.Add(true, cmsg(unix.IPPROTO_IPV6, unix.IPV6_RECVERR, make([]byte, 16+28)))
	f.Add(false, cmsg(unix.IPPROTO_IP, unix.IP_RECVERR, ee[:10]))
	f.Add(false, []byte{})
	f.Fuzz(func(t *testing.T, v6 bool, oob []byte) {
		e, off, ok := parseExtendedErr(v6, oob)
		if !ok && (e != unix.SockExtendedErr{} || off.IsValid()) {
			t.Errorf("not ok, yet returned %+v and %v", e, off)
		}
		if off.IsValid() && off.Zone() != "" {
			t.Errorf("offender %v has a zone", off)
		}
	})
}

// FuzzParsePingGroupRange checks the sysctl parser never panics and only
// accepts exactly two fields.
func FuzzParsePingGroupRange(f *testing.F) {
	for _, s := range []string{"1\t0\n", "0 2147483647", "0 4294967294", "", "1", "a b", "1 2 3", "-1 -2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parsePingGroupRange(s)
		if err == nil && len(strings.Fields(s)) != 2 {
			t.Errorf("%q accepted as %v", s, r)
		}
	})
}

// FuzzParseVFSCap checks the security.capability parser never panics nor
// reads past its input.
func FuzzParseVFSCap(f *testing.F) {
	v2 := make([]byte, 20)
	binary.LittleEndian.PutUint32(v2, vfsCapRevision2|1)
	binary.LittleEndian.PutUint32(v2[4:], 1<<unix.CAP_NET_RAW)
	f.Add(v2)
	f.Add(v2[:12])
	f.Add([]byte{0, 0, 0, 3, 1, 2, 3, 4})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		perm, err := parseVFSCap(b)
		if err != nil && perm != 0 {
			t.Errorf("error %v, yet permitted set %#x", err, perm)
		}
	})
}
