package probe

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cmsg builds one control message as the kernel lays it out.
func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

func extendedErr(origin, typ, code uint8, errno uint32, offender []byte) []byte {
	d := make([]byte, 16, 16+len(offender))
	binary.NativeEndian.PutUint32(d[0:4], errno)
	d[4], d[5], d[6] = origin, typ, code
	return append(d, offender...)
}

func TestParseExtendedErr(t *testing.T) {
	sin := make([]byte, 16) // struct sockaddr_in
	binary.NativeEndian.PutUint16(sin[0:2], unix.AF_INET)
	copy(sin[4:8], []byte{198, 18, 0, 2})
	sin6 := make([]byte, 28) // struct sockaddr_in6
	binary.NativeEndian.PutUint16(sin6[0:2], unix.AF_INET6)
	a6 := netip.MustParseAddr("2001:db8::2").As16()
	copy(sin6[8:24], a6[:])
	ttl := cmsg(unix.IPPROTO_IP, unix.IP_TTL, []byte{64, 0, 0, 0})

	// The TTL message comes first, as the kernel orders them.
	oob := append(append([]byte{}, ttl...), cmsg(unix.IPPROTO_IP, unix.IP_RECVERR,
		extendedErr(unix.SO_EE_ORIGIN_ICMP, 3, 1, uint32(unix.EHOSTUNREACH), sin))...)
	ee, from, ok := parseExtendedErr(false, oob)
	if !ok || ee.Origin != unix.SO_EE_ORIGIN_ICMP || ee.Type != 3 || ee.Code != 1 ||
		ee.Errno != uint32(unix.EHOSTUNREACH) || from != netip.MustParseAddr("198.18.0.2") {
		t.Errorf("IPv4: got %+v %v %v", ee, from, ok)
	}
	var fam4 family
	if got := fam4.ttl(oob); got != 64 {
		t.Errorf("TTL from the same control data: %d, want 64", got)
	}

	oob6 := cmsg(unix.IPPROTO_IPV6, unix.IPV6_RECVERR, extendedErr(unix.SO_EE_ORIGIN_ICMP6, 1, 3, uint32(unix.EHOSTUNREACH), sin6))
	ee, from, ok = parseExtendedErr(true, oob6)
	if !ok || ee.Type != 1 || ee.Code != 3 || from != netip.MustParseAddr("2001:db8::2") {
		t.Errorf("IPv6: got %+v %v %v", ee, from, ok)
	}

	// A local error names no offender.
	local := cmsg(unix.IPPROTO_IP, unix.IP_RECVERR, extendedErr(unix.SO_EE_ORIGIN_LOCAL, 0, 0, uint32(unix.EMSGSIZE), make([]byte, 16)))
	ee, from, ok = parseExtendedErr(false, local)
	if !ok || ee.Origin != unix.SO_EE_ORIGIN_LOCAL || from.IsValid() {
		t.Errorf("local: got %+v %v %v", ee, from, ok)
	}

	for name, b := range map[string][]byte{
		"nothing":              nil,
		"TTL only":             ttl,
		"wrong family's error": oob6,
		"short error":          cmsg(unix.IPPROTO_IP, unix.IP_RECVERR, make([]byte, 15)),
		"cut header":           oob[:10],
	} {
		if ee, from, ok := parseExtendedErr(false, b); ok {
			t.Errorf("%s: accepted %+v %v", name, ee, from)
		}
	}
	// A truncated offender is no offender, but the error stands.
	if _, from, ok := parseExtendedErr(true, cmsg(unix.IPPROTO_IPV6, unix.IPV6_RECVERR,
		extendedErr(unix.SO_EE_ORIGIN_ICMP6, 1, 3, 0, sin6[:20]))); !ok || from.IsValid() {
		t.Errorf("cut offender: %v %v", from, ok)
	}
}

func TestKernelTime(t *testing.T) {
	ts := make([]byte, 16) // struct timespec on a 64-bit machine
	binary.NativeEndian.PutUint64(ts, 1_790_000_000)
	binary.NativeEndian.PutUint64(ts[8:], 123_456_789)
	ttl := cmsg(unix.IPPROTO_IP, unix.IP_TTL, []byte{64, 0, 0, 0})
	oob := append(ttl, cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, ts)...)
	got, ok := kernelTime(oob)
	if want := time.Unix(1_790_000_000, 123_456_789); !ok || !got.Equal(want) {
		t.Errorf("kernelTime = %v, %v; want %v", got, ok, want)
	}
	ts32 := make([]byte, 8) // and on a 32-bit one
	binary.NativeEndian.PutUint32(ts32, 1_790_000_000)
	binary.NativeEndian.PutUint32(ts32[4:], 5)
	if got, ok := kernelTime(cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, ts32)); !ok || !got.Equal(time.Unix(1_790_000_000, 5)) {
		t.Errorf("32-bit timespec: %v, %v", got, ok)
	}
	for _, bad := range [][]byte{nil, ttl, cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, ts[:12]), {1, 2, 3}} {
		if _, ok := kernelTime(bad); ok {
			t.Errorf("kernelTime(%x) found a time", bad)
		}
	}
}

// FuzzKernelTime feeds arbitrary control data to kernelTime.
func FuzzKernelTime(f *testing.F) {
	f.Add(cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, make([]byte, 16)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, oob []byte) {
		if at, ok := kernelTime(oob); !ok && !at.IsZero() {
			t.Errorf("not ok, yet returned %v", at)
		}
	})
}
