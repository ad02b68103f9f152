package targets

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParsePorts(t *testing.T) {
	ok := []struct {
		in   string
		want []uint16
	}{
		{"22", []uint16{22}},
		{"22,80,8000-8003", []uint16{22, 80, 8000, 8001, 8002, 8003}},
		{" 443 , 80 ", []uint16{443, 80}},
		{"80,22,80,21-23", []uint16{80, 22, 21, 23}}, // repeats go, first mention's order stays
		{"65535", []uint16{65535}},
		{"1-1", []uint16{1}},
		{"none", []uint16{}},
		{"NONE", []uint16{}},
		{"1-1024", nil}, // exactly MaxPorts
	}
	for _, tt := range ok {
		got, err := ParsePorts(tt.in)
		if err != nil {
			t.Errorf("ParsePorts(%q): %v", tt.in, err)
			continue
		}
		if tt.in == "1-1024" {
			if len(got) != MaxPorts || got[0] != 1 || got[MaxPorts-1] != 1024 {
				t.Errorf("ParsePorts(%q) = %d ports", tt.in, len(got))
			}
			continue
		}
		if !slices.Equal(got, tt.want) || got == nil {
			t.Errorf("ParsePorts(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}

	bad := []struct{ in, want string }{
		{"", "empty list"},
		{"  ", "empty list"},
		{"0", "out of range"},
		{"65536", "out of range"},
		{"99999999999999999999", "out of range"},
		{"-5", "want a port number"},
		{"5-", "want a port number"},
		{"+80", "want a port number"},
		{"0x50", "want a port number"},
		{"http", "want a port number"},
		{"80,,81", "empty item"},
		{"80,", "empty item"},
		{"100-90", "backwards"},
		{"1-2-3", "want a port number"},
		{"1-1025", "more than 1024"},
		{"1-65535", "more than 1024"},
		{"22;reboot", "want a port number"},
		{strings.Repeat("9", 5000), "out of range"},
	}
	for _, tt := range bad {
		got, err := ParsePorts(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) || got != nil {
			t.Errorf("ParsePorts(%.20q) = %v, %v; want an error saying %q", tt.in, got, err, tt.want)
		}
		if err != nil && len(err.Error()) > 200 {
			t.Errorf("ParsePorts(%.20q): error of %d bytes", tt.in, len(err.Error()))
		}
	}
}

func FuzzParsePorts(f *testing.F) {
	for _, s := range []string{"22,80,8000-8010", "none", "1-1024", "0", "80,,", "65535-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ports, err := ParsePorts(s)
		if err != nil {
			if ports != nil {
				t.Fatalf("ports %v with error %v", ports, err)
			}
			return
		}
		if len(ports) > MaxPorts || slices.Contains(ports, 0) {
			t.Fatalf("ParsePorts(%q) = %d ports, some invalid", s, len(ports))
		}
		seen := map[uint16]bool{}
		for _, p := range ports {
			if seen[p] {
				t.Fatalf("ParsePorts(%q) repeats %d", s, p)
			}
			seen[p] = true
		}
		// What it accepts, written back, parses to the same list.
		again, err := ParsePorts(joinPortsForTest(ports))
		if err != nil || !slices.Equal(again, ports) {
			t.Fatalf("round trip of %v: %v, %v", ports, again, err)
		}
	})
}

func joinPortsForTest(ports []uint16) string {
	if len(ports) == 0 {
		return "none"
	}
	var b strings.Builder
	for i, p := range ports {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(int(p)))
	}
	return b.String()
}
