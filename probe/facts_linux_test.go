package probe

import "testing"

func TestParseVFSCap(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		perm uint64
		err  bool
	}{
		// getcap /bin/ping on Debian: cap_net_raw=ep, revision 2.
		{"v2 cap_net_raw=ep", []byte{1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 1 << 13, false},
		{"v3 with rootid", []byte{0, 0, 0, 3, 0, 0x20, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 1<<13 | 1<<32, false},
		{"v1", []byte{0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0}, 1, false},
		{"v2 truncated", []byte{1, 0, 0, 2, 0, 0x20, 0, 0}, 0, true},
		{"unknown revision", []byte{0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0}, 0, true},
		{"empty", nil, 0, true},
	}
	for _, tt := range tests {
		perm, err := parseVFSCap(tt.b)
		if (err != nil) != tt.err || perm != tt.perm {
			t.Errorf("%s: parseVFSCap = %#x, %v; want %#x, error %v", tt.name, perm, err, tt.perm, tt.err)
		}
	}
}

func TestParsePingGroupRange(t *testing.T) {
	for in, want := range map[string][2]int64{"1\t0\n": {1, 0}, "0 2147483647": {0, 2147483647}} {
		got, err := parsePingGroupRange(in)
		if err != nil || got != want {
			t.Errorf("parsePingGroupRange(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1", "a b", "1 2 3"} {
		if _, err := parsePingGroupRange(in); err == nil {
			t.Errorf("parsePingGroupRange(%q): want an error", in)
		}
	}
}
