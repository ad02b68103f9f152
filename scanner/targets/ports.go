package targets

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// ParsePorts reads a port list as a user types it, on the command line or
// in the app's settings: ports and ranges separated by commas, white space
// or both, such as "22,80,8000-8010" or "22 80, 443", or "none" for no
// port at all (an empty, non-nil list). Ports run from 1 to 65535, a
// range's ends are included, and a port listed twice is tried once; the
// order of first mention is kept, so that the likeliest ports can go
// first. More than MaxPorts ports in all is refused.
func ParsePorts(s string) ([]uint16, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "none") {
		return []uint16{}, nil
	}
	if s == "" {
		return nil, errors.New("ports: empty list (use \"none\" for no ports)")
	}
	var (
		out  []uint16
		seen = make(map[uint16]bool)
	)
	for item := range strings.SplitSeq(s, ",") {
		words := portWords(item)
		if len(words) == 0 {
			return nil, errors.New("ports: empty item in the list (two commas in a row?)")
		}
		for _, w := range words {
			lo, hi, err := parsePortItem(w)
			if err != nil {
				return nil, err
			}
			for p := uint32(lo); p <= uint32(hi); p++ {
				if seen[uint16(p)] {
					continue
				}
				seen[uint16(p)] = true
				if out = append(out, uint16(p)); len(out) > MaxPorts {
					return nil, fmt.Errorf("ports: more than %d ports; a device scan needs a handful", MaxPorts)
				}
			}
		}
	}
	return out, nil
}

// portWords splits one comma-separated item at white space, keeping a
// range written with spaces ("8000 - 8010") whole.
func portWords(item string) []string {
	words := strings.FieldsFunc(item, unicode.IsSpace)
	var out []string
	for i := 0; i < len(words); i++ {
		w := words[i]
		for i+1 < len(words) && (strings.HasSuffix(w, "-") || strings.HasPrefix(words[i+1], "-")) {
			i++
			w += words[i]
		}
		out = append(out, w)
	}
	return out
}

// parsePortItem reads "80" or "8000-8010".
func parsePortItem(item string) (lo, hi uint16, err error) {
	quoted := item
	if len(quoted) > 32 {
		quoted = quoted[:32] + "..."
	}
	first, last, isRange := strings.Cut(item, "-")
	if lo, err = parsePort(first); err != nil {
		return 0, 0, fmt.Errorf("ports: %q: %w", quoted, err)
	}
	if !isRange {
		return lo, lo, nil
	}
	if hi, err = parsePort(last); err != nil {
		return 0, 0, fmt.Errorf("ports: %q: %w", quoted, err)
	}
	if hi < lo {
		return 0, 0, fmt.Errorf("ports: %q: range runs backwards", quoted)
	}
	return lo, hi, nil
}

func parsePort(s string) (uint16, error) {
	// Digits only: ParseUint would take "+80" or "0x50" in other bases
	// no more than it takes a sign, but say it plainly.
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errors.New("want a port number from 1 to 65535, or a range such as 8000-8010")
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, errors.New("port out of range: want 1 to 65535")
	}
	return uint16(n), nil
}

// FormatPorts writes ports back in the form ParsePorts reads, in their
// order, joining ascending runs into ranges: "22,80,8000-8010", or "none"
// for an empty list.
func FormatPorts(ports []uint16) string {
	if len(ports) == 0 {
		return "none"
	}
	var b strings.Builder
	for i := 0; i < len(ports); {
		j := i
		for j+1 < len(ports) && ports[j] < 65535 && ports[j+1] == ports[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(int(ports[i])))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(int(ports[j])))
		}
		i = j + 1
	}
	return b.String()
}
