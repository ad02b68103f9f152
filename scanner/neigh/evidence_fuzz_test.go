package neigh

import (
	"strconv"
	"testing"
)

// FuzzParseParam: a neighbour setting parses to a number in range or
// fails with an error; it never panics, and a number it accepts prints
// back to the same text.
func FuzzParseParam(f *testing.F) {
	for _, s := range []string{"1000\n", "3\n", "0", "-1\n", "", "99999999999999999999", "1e3", " 5 \n", "86400001"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := parseParam(b)
		if err != nil {
			return
		}
		if v < 0 || v > maxParam {
			t.Fatalf("parseParam(%q) = %d, out of range", b, v)
		}
		if w, err := parseParam([]byte(strconv.Itoa(v))); err != nil || w != v {
			t.Fatalf("%d does not parse back: %d, %v", v, w, err)
		}
	})
}
