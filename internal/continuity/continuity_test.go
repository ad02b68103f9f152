package continuity

import (
	"net"
	"net/netip"
	"testing"
)

func mac(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

func TestRandomized(t *testing.T) {
	for _, tc := range []struct {
		mac  string
		want bool
	}{
		{"da:a1:19:00:00:17", true},  // 0xda: local bit set
		{"02:00:00:00:00:01", true},  // the smallest local unicast
		{"6e:11:22:33:44:55", true},  // Android's private MACs
		{"b8:27:eb:00:00:07", false}, // Raspberry Pi OUI: global
		{"03:00:00:00:00:01", false}, // local but multicast
		{"ff:ff:ff:ff:ff:ff", false}, // broadcast
		{"00:00:00:00:00:00", false},
	} {
		if got := Randomized(mac(tc.mac)); got != tc.want {
			t.Errorf("Randomized(%s) = %v, want %v", tc.mac, got, tc.want)
		}
	}
	if Randomized(nil) {
		t.Error("Randomized(nil) = true")
	}
}

func TestMatch(t *testing.T) {
	newMAC := mac("6e:11:22:33:44:55")
	addr := netip.MustParseAddr("198.18.0.42")
	phone := Candidate{ID: 1, Evidence: Evidence{
		MAC: mac("da:a1:19:00:00:17"), Addr: netip.MustParseAddr("198.18.0.23"),
		Names: []string{"Pixel-7.local", "ANNA-PIXEL"}, FriendlyName: "Anna's Pixel",
		Services: []string{"Anna's Pixel._googlecast._tcp", "_companion-link._tcp"},
	}}
	laptop := Candidate{ID: 2, Evidence: Evidence{
		MAC: mac("b8:27:eb:00:00:07"), Names: []string{"laptop.local", "laptop.lan"},
		Services: []string{"_ssh._tcp", "_sftp-ssh._tcp"},
	}}
	tv := Candidate{ID: 3, Evidence: Evidence{MAC: mac("de:ad:be:ef:00:03"), FriendlyName: "Living Room TV"}}
	tv2 := Candidate{ID: 4, Evidence: Evidence{MAC: mac("de:ad:be:ef:00:04"), FriendlyName: "living room  tv"}}
	ispNamed := Candidate{ID: 5, Evidence: Evidence{MAC: mac("de:ad:be:ef:00:05"), Addr: addr, Names: []string{"host-198-18-0-42.example.net"}}}
	generic := Candidate{ID: 6, Evidence: Evidence{MAC: mac("de:ad:be:ef:00:06"), Names: []string{"android.local", "iPhone.local"}}}
	dhcpNamed := Candidate{ID: 7, Evidence: Evidence{MAC: mac("de:ad:be:ef:00:07"), Names: []string{"kobo.lan"}, Services: []string{"Kobo._http._tcp"}}}
	present := phone
	present.Present = true

	cases := []struct {
		name    string
		ev      Evidence
		known   []Candidate
		wantID  int64 // 0: no link
		because string
	}{
		{"mdns name, case and trailing dot differ", Evidence{MAC: newMAC, Addr: addr, Names: []string{"pixel-7.local."}},
			[]Candidate{laptop, phone}, 1, "mDNS name pixel-7.local"},
		{"netbios name", Evidence{MAC: newMAC, Names: []string{"anna-pixel"}}, []Candidate{phone, laptop}, 1, "NetBIOS name anna-pixel"},
		{"friendly name, spaces folded", Evidence{MAC: newMAC, FriendlyName: "  Anna's   Pixel "}, []Candidate{phone}, 1, "friendly name anna's pixel"},
		{"several facts, strongest first", Evidence{MAC: newMAC, Names: []string{"ANNA-PIXEL", "Pixel-7.local"}, Services: []string{"Anna's Pixel._googlecast._tcp"}},
			[]Candidate{phone}, 1, "mDNS name pixel-7.local, NetBIOS name anna-pixel, service anna's pixel._googlecast._tcp"},
		{"service instance and DNS name together", Evidence{MAC: newMAC, Names: []string{"kobo.lan"}, Services: []string{"Kobo._http._tcp"}},
			[]Candidate{dhcpNamed, phone}, 7, "service kobo._http._tcp, DNS name kobo.lan"},
		{"a service instance", Evidence{MAC: newMAC, Services: []string{"Kobo._http._tcp"}}, []Candidate{dhcpNamed}, 7, "service kobo._http._tcp"},
		{"DNS name alone is too weak", Evidence{MAC: newMAC, Names: []string{"laptop.lan"}}, []Candidate{laptop}, 0, ""},
		{"service types alone are too weak", Evidence{MAC: newMAC, Services: []string{"_sftp-ssh._tcp", "_ssh._tcp"}}, []Candidate{laptop}, 0, ""},
		{"DNS name and service types together", Evidence{MAC: newMAC, Names: []string{"laptop.lan"}, Services: []string{"_ssh._tcp", "_sftp-ssh._tcp"}},
			[]Candidate{laptop, phone}, 0, ""},
		{"a global MAC is never linked", Evidence{MAC: mac("b8:27:eb:00:00:99"), Names: []string{"pixel-7.local"}}, []Candidate{phone}, 0, ""},
		{"no MAC is never linked", Evidence{Names: []string{"pixel-7.local"}}, []Candidate{phone}, 0, ""},
		{"a device present under its own MAC is another device", Evidence{MAC: newMAC, Names: []string{"pixel-7.local"}}, []Candidate{present}, 0, ""},
		{"two lookalikes: neither", Evidence{MAC: newMAC, FriendlyName: "Living Room TV"}, []Candidate{tv, tv2}, 0, ""},
		{"a name that restates the address proves nothing", Evidence{MAC: newMAC, Addr: addr, Names: []string{"host-198-18-0-42.example.net"}},
			[]Candidate{ispNamed}, 0, ""},
		{"generic names prove nothing", Evidence{MAC: newMAC, Names: []string{"Android.local", "iphone.local"}}, []Candidate{generic}, 0, ""},
		{"no evidence", Evidence{MAC: newMAC}, []Candidate{phone, laptop}, 0, ""},
		{"no candidates", Evidence{MAC: newMAC, Names: []string{"pixel-7.local"}}, nil, 0, ""},
		{"the same MAC is not a new one", Evidence{MAC: phone.MAC, Names: []string{"pixel-7.local"}}, []Candidate{phone}, 0, ""},
		{"the stronger candidate wins", Evidence{MAC: newMAC, Names: []string{"pixel-7.local", "anna-pixel"}},
			[]Candidate{{ID: 9, Evidence: Evidence{MAC: mac("de:ad:be:ef:00:09"), Names: []string{"anna-pixel"}}}, phone}, 1,
			"mDNS name pixel-7.local, NetBIOS name anna-pixel"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, ok := Match(tc.ev, tc.known)
			if tc.wantID == 0 {
				if ok {
					t.Fatalf("linked to %d (%s), want no link", l.ID, l.Because())
				}
				return
			}
			if !ok || l.ID != tc.wantID {
				t.Fatalf("Match = %d, %v; want %d", l.ID, ok, tc.wantID)
			}
			if got := l.Because(); got != tc.because {
				t.Errorf("Because = %q, want %q", got, tc.because)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	l := Link{ID: 1, Facts: []Fact{{MDNSName, "pixel-7.local"}}, Score: 3}
	if got, want := l.Describe("Anna's phone"), "same device as Anna's phone, new private MAC (mDNS name pixel-7.local)"; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
}

// FuzzMatch feeds Match names and services as a hostile network would
// send them: it must neither panic nor link on evidence it did not see.
func FuzzMatch(f *testing.F) {
	f.Add("pixel-7.local", "Anna's Pixel", "x._googlecast._tcp", "pixel-7.local", "")
	f.Add("", "", "", "", "")
	f.Add("\x00.local.", "\xff\xfe", "_", "ANNA", "198-18-0-1")
	f.Fuzz(func(t *testing.T, name, friendly, service, known, knownFriendly string) {
		ev := Evidence{MAC: mac("6e:11:22:33:44:55"), Addr: netip.MustParseAddr("198.18.0.1"),
			Names: []string{name}, FriendlyName: friendly, Services: []string{service}}
		c := Candidate{ID: 1, Evidence: Evidence{MAC: mac("da:a1:19:00:00:17"), Names: []string{known}, FriendlyName: knownFriendly}}
		l, ok := Match(ev, []Candidate{c})
		if !ok {
			return
		}
		if l.Score < linkThreshold || len(l.Facts) == 0 {
			t.Fatalf("link below threshold: %+v", l)
		}
		for _, fact := range l.Facts {
			if fact.Value == "" {
				t.Fatalf("empty fact in %+v", l)
			}
		}
	})
}
