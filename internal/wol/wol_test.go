package wol

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestMagicPacket(t *testing.T) {
	mac, _ := net.ParseMAC("01:23:45:67:89:ab")
	p, err := MagicPacket(mac)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 102 || !bytes.Equal(p[:6], bytes.Repeat([]byte{0xff}, 6)) {
		t.Fatalf("header %x", p[:6])
	}
	for i := range 16 {
		if !bytes.Equal(p[6+6*i:12+6*i], mac) {
			t.Fatalf("repeat %d = %x", i, p[6+6*i:12+6*i])
		}
	}
	long, _ := net.ParseMAC("00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01")
	for _, bad := range []net.HardwareAddr{nil, long} {
		if _, err := MagicPacket(bad); err == nil {
			t.Errorf("MagicPacket(%v) accepted", bad)
		}
	}
}

func TestBroadcast(t *testing.T) {
	for in, want := range map[string]string{
		"198.18.0.0/24":   "198.18.0.255",
		"198.18.0.77/24":  "198.18.0.255",
		"198.18.0.0/15":   "198.19.255.255",
		"198.18.0.64/27":  "198.18.0.95",
		"198.18.0.0/0":    "255.255.255.255",
		"198.18.0.128/25": "198.18.0.255",
	} {
		got, err := Broadcast(netip.MustParsePrefix(in))
		if err != nil || got.String() != want {
			t.Errorf("Broadcast(%s) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"2001:db8::/64", "198.18.0.1/32", "198.18.0.0/31"} {
		if b, err := Broadcast(netip.MustParsePrefix(in)); err == nil {
			t.Errorf("Broadcast(%s) = %v; it has no broadcast address", in, b)
		}
	}
}

// TestSendMagic sends the packet to a listener on loopback, the only place
// a test may send to, and checks what arrives.
func TestSendMagic(t *testing.T) {
	l, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	mac, _ := net.ParseMAC("02:00:5e:10:00:01")
	dst := l.LocalAddr().(*net.UDPAddr).AddrPort()
	if err := SendMagic(t.Context(), mac, dst); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 200)
	l.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := l.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := MagicPacket(mac)
	if !bytes.Equal(buf[:n], want) {
		t.Errorf("received %x", buf[:n])
	}
}
