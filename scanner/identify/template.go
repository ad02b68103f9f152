package identify

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// template is a rule's model or name: literal text with {field}
// references to the matched item's fields and the patterns' named
// groups, each optionally passed through the aliases as {field|alias}.
// A nil template says nothing.
type template []part

type part struct {
	lit   string // literal text, when field is ""
	field string // lower-case field or capture name
	alias bool   // look the value up in the aliases
}

func parseTemplate(s string, src Source, captures map[string]bool) (template, error) {
	if s == "" {
		return nil, nil
	}
	var t template
	for s != "" {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			if strings.IndexByte(s, '}') >= 0 {
				return nil, fmt.Errorf("%q: a } without {", s)
			}
			t = append(t, part{lit: s})
			break
		}
		if i > 0 {
			if strings.IndexByte(s[:i], '}') >= 0 {
				return nil, fmt.Errorf("%q: a } without {", s)
			}
			t = append(t, part{lit: s[:i]})
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("%q: a { without }", s)
		}
		ref := strings.ToLower(s[i+1 : i+j])
		p := part{}
		if f, ok := strings.CutSuffix(ref, "|alias"); ok {
			ref, p.alias = f, true
		}
		if ref == "" {
			return nil, errors.New("an empty {}")
		}
		if !captures[ref] && !validField(src, ref) {
			return nil, fmt.Errorf("{%s} is neither a field of %s nor a named group", ref, src)
		}
		p.field = ref
		t = append(t, p)
		s = s[i+j+1:]
	}
	return t, nil
}

// expand fills the template in from vars. A reference to a field that is
// empty makes the whole result empty: a model half known is not shown.
// Runs of spaces become one, and a word said twice in a row
// ("Synology Synology DS920+", from a template that prefixes the
// manufacturer) is said once.
func (t template) expand(vars map[string]string, r *Rules) string {
	if t == nil {
		return ""
	}
	var b strings.Builder
	for _, p := range t {
		if p.field == "" {
			b.WriteString(p.lit)
			continue
		}
		v := strings.TrimSpace(vars[p.field])
		if v == "" {
			return ""
		}
		if p.alias {
			v = r.alias(v)
		}
		b.WriteString(v)
	}
	words := strings.FieldsFunc(b.String(), unicode.IsSpace)
	out := words[:0]
	for _, w := range words {
		if len(out) > 0 && strings.EqualFold(out[len(out)-1], w) {
			continue
		}
		out = append(out, w)
	}
	return clip(strings.Join(out, " "), maxText)
}

// maxText caps a model or name, in bytes.
const maxText = 128

// clip cuts s to at most n bytes, at a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return strings.TrimSpace(s[:n])
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
