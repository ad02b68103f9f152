package identify

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// Most patterns in rules.json are lists of words ("brother|seiko
// epson|lexmark"), and Go's case-insensitive regular expressions are slow
// at them: a host's identification ran 200 rules at 1 to 3 µs each. A
// cond whose pattern is a plain alternation of literals, each possibly
// anchored, is matched with strings functions on the lower-cased value
// instead; any other pattern still gets a cheap prefilter when every
// alternative holds a literal that must appear, so that its expression
// runs only on values that could match. The regexp stays the reference:
// TestLiteralPlans checks both agree on every example of the rules file.

// litMode says where a literal must be found.
type litMode int

const (
	litContains litMode = iota
	litPrefix
	litSuffix
	litEqual
)

type literal struct {
	s    string // lower case
	mode litMode
}

// plan is how a cond matches fast.
type plan struct {
	// exact: lits decide alone, the regexp need not run.
	exact bool
	// lits: one of them must be found (in its mode); nil means no
	// prefilter is known and the regexp decides alone.
	lits []literal
}

func (p plan) match(lower string) bool {
	for _, l := range p.lits {
		var ok bool
		switch l.mode {
		case litContains:
			ok = strings.Contains(lower, l.s)
		case litPrefix:
			ok = strings.HasPrefix(lower, l.s)
		case litSuffix:
			ok = strings.HasSuffix(lower, l.s)
		case litEqual:
			ok = lower == l.s
		}
		if ok {
			return true
		}
	}
	return false
}

// matchString reports whether the cond's pattern matches v, whose lower
// case is lower.
func (c *cond) matchString(v, lower string) bool {
	if c.plan.lits != nil && !c.plan.match(lower) {
		return false
	}
	if c.plan.exact {
		return true
	}
	return c.re.MatchString(v)
}

// planFor works out how to match pattern (without its "(?i)") fast.
func planFor(pattern string, re *regexp.Regexp) plan {
	captures := false
	for _, n := range re.SubexpNames() {
		captures = captures || n != ""
	}
	alts := splitTop(pattern)
	if len(alts) == 1 {
		// "^(a|b)$": anchors around one group of alternatives.
		inner, start := strings.CutPrefix(alts[0], "^")
		end := false
		if strings.HasSuffix(inner, "$") && !strings.HasSuffix(inner, `\$`) {
			inner, end = inner[:len(inner)-1], true
		}
		if g, ok := enclosed(inner); ok && (start || end) {
			var out []string
			for _, a := range splitTop(g) {
				if start {
					a = "^" + a
				}
				if end {
					a += "$"
				}
				out = append(out, a)
			}
			alts = out
		}
	}
	p := plan{exact: !captures}
	for _, a := range alts {
		l, exact, ok := literalOf(a)
		if !ok {
			return prefilter(pattern)
		}
		p.exact = p.exact && exact
		p.lits = append(p.lits, l)
	}
	if !p.exact {
		if q := prefilter(pattern); q.lits != nil {
			return q
		}
	}
	return p
}

// prefilter finds, in the parsed pattern, literals one of which every
// match must contain.
func prefilter(pattern string) plan {
	re, err := syntax.Parse("(?i)"+pattern, syntax.Perl)
	if err != nil {
		return plan{}
	}
	set, ok := necessary(re.Simplify())
	if !ok {
		return plan{}
	}
	p := plan{}
	for _, s := range set {
		p.lits = append(p.lits, literal{s: s})
	}
	return p
}

// necessary returns literals, in lower case, at least one of which
// appears in every string re matches; ok is false when there is no such
// set (an optional part, a class, a non-ASCII letter whose case folding
// strings.ToLower might not follow).
func necessary(re *syntax.Regexp) (set []string, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		s := string(re.Rune)
		for _, r := range s {
			if r >= 0x80 {
				return nil, false
			}
		}
		return []string{strings.ToLower(s)}, true
	case syntax.OpCapture, syntax.OpPlus:
		return necessary(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return necessary(re.Sub[0])
		}
	case syntax.OpConcat:
		// The sub-expression whose shortest literal is longest filters
		// best.
		best, bestLen := []string(nil), 0
		for _, sub := range re.Sub {
			if s, ok := necessary(sub); ok {
				if l := shortest(s); l > bestLen {
					best, bestLen = s, l
				}
			}
		}
		return best, best != nil
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			s, ok := necessary(sub)
			if !ok {
				return nil, false
			}
			set = append(set, s...)
		}
		return set, true
	}
	return nil, false
}

func shortest(set []string) int {
	n := -1
	for _, s := range set {
		if n < 0 || len(s) < n {
			n = len(s)
		}
	}
	return n
}

// literalOf reads one alternative as a literal: anchors give its mode,
// word boundaries at its ends are dropped (then it is only a prefilter:
// exact is false), and escapes of punctuation are undone. ok is false
// when anything else is in it.
func literalOf(a string) (l literal, exact, ok bool) {
	exact = true
	start, end := false, false
	if s, cut := strings.CutPrefix(a, "^"); cut {
		a, start = s, true
	}
	for {
		if s, cut := strings.CutPrefix(a, `\b`); cut {
			a, exact = s, false
			continue
		}
		break
	}
	for {
		if strings.HasSuffix(a, `\b`) && !strings.HasSuffix(a, `\\b`) {
			a, exact = a[:len(a)-2], false
			continue
		}
		break
	}
	if strings.HasSuffix(a, "$") && !strings.HasSuffix(a, `\$`) {
		a, end = a[:len(a)-1], true
	}
	var b strings.Builder
	for i := 0; i < len(a); i++ {
		ch := a[i]
		switch {
		case ch == '\\':
			if i+1 == len(a) || !strings.ContainsRune(`.-!/ +()[]?*$^|{}#&~`, rune(a[i+1])) {
				return literal{}, false, false
			}
			i++
			b.WriteByte(a[i])
		case strings.IndexByte(`.[](){}*+?^$|`, ch) >= 0:
			return literal{}, false, false
		case ch >= 0x80:
			return literal{}, false, false // non-ASCII: leave case folding to the regexp
		default:
			b.WriteByte(ch)
		}
	}
	if b.Len() == 0 {
		return literal{}, false, false
	}
	l.s = strings.ToLower(b.String())
	switch {
	case start && end:
		l.mode = litEqual
	case start:
		l.mode = litPrefix
	case end:
		l.mode = litSuffix
	}
	return l, exact, true
}

// splitTop splits a pattern at the | that are outside groups and
// classes.
func splitTop(p string) []string {
	var (
		out   []string
		depth int
		class bool
		last  int
	)
	for i := 0; i < len(p); i++ {
		switch ch := p[i]; {
		case ch == '\\':
			i++
		case class:
			class = ch != ']'
		case ch == '[':
			class = true
		case ch == '(':
			depth++
		case ch == ')':
			depth--
		case ch == '|' && depth == 0:
			out = append(out, p[last:i])
			last = i + 1
		}
	}
	return append(out, p[last:])
}

// enclosed returns the inside of a pattern that is one group, "(...)" or
// "(?:...)", as a whole.
func enclosed(p string) (string, bool) {
	if !strings.HasPrefix(p, "(") || !strings.HasSuffix(p, ")") || strings.HasPrefix(p, "(?P") || strings.HasPrefix(p, "(?<") {
		return "", false
	}
	depth := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 && i != len(p)-1 {
				return "", false
			}
		}
	}
	inner := p[1 : len(p)-1]
	if s, ok := strings.CutPrefix(inner, "?:"); ok {
		inner = s
	} else if strings.HasPrefix(inner, "?") {
		return "", false
	}
	return inner, true
}
