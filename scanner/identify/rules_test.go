package identify

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// TestEveryRule is the test per rule: each rule in rules.json must match
// its own example, give the model and name its expect block says, be the
// rule that counts for that example within its group (a rule shadowed by
// an earlier one in its group can never fire), and not match an empty
// fact of its source.
func TestEveryRule(t *testing.T) {
	r := Default()
	if r.Len() < 150 {
		t.Fatalf("only %d rules", r.Len())
	}
	for _, ru := range r.rules {
		t.Run(ru.id, func(t *testing.T) {
			it := newItem(ru.source)
			for k, v := range ru.example {
				it.set(k, v)
			}
			e, ok := ru.apply(&it, r)
			if !ok {
				t.Fatalf("does not match its example %v", ru.example)
			}
			if e.Model != ru.expectModel || e.Name != ru.expectName {
				t.Errorf("example gives model %q, name %q; expected %q, %q", e.Model, e.Name, ru.expectModel, ru.expectName)
			}
			if (ru.model != nil || ru.name != nil) && ru.expectModel == "" && ru.expectName == "" {
				t.Error("gives a model or name but its expect block does not check one")
			}
			if ru.group != "" {
				for _, other := range r.rules {
					if other == ru {
						break
					}
					if other.group == ru.group {
						if _, ok := other.apply(&it, r); ok {
							t.Errorf("its example is taken by %q, earlier in group %q", other.id, ru.group)
						}
					}
				}
			}
			empty := newItem(ru.source)
			if _, ok := ru.apply(&empty, r); ok {
				t.Error("matches an empty fact")
			}
			if !strings.Contains(e.String(), " → ") || e.Fact == "" {
				t.Errorf("evidence %q", e.String())
			}
		})
	}
}

// The embedded file's own checks: every kind but unknown has rules, and
// the aliases resolve exact names before prefixes, longest prefix first.
func TestRulesFile(t *testing.T) {
	r := Default()
	for _, k := range Kinds()[1:] {
		n := 0
		for _, ru := range r.rules {
			if ru.kind == k {
				n++
			}
		}
		if n == 0 {
			t.Errorf("no rule says %s", k)
		}
	}
	for id, want := range map[string]string{
		"iPhone14,2": "iPhone 13 Pro", "iPhone99,1": "iPhone", "MacBookPro18,3": "MacBook Pro",
		"MacBook10,1": "MacBook", "Mac14,2": "MacBook Air (M2, 2022)", "Mac99,9": "Mac", "Widget": "Widget",
	} {
		if got := r.alias(id); got != want {
			t.Errorf("alias(%q) = %q, want %q", id, got, want)
		}
	}
	if !r.KeepTXT("rpmd") || !r.KeepTXT("MD") || r.KeepTXT("serialNumber") || r.KeepTXT("id") {
		t.Error("kept TXT keys")
	}
}

// Load refuses every kind of broken rule with ErrRules and a reason.
func TestLoadRefuses(t *testing.T) {
	rule := func(body string) string {
		return `{"about":[],"kept_txt_keys":[],"aliases":{},"rules":[{"id":"r","about":"a","source":"dns-sd",` + body + `}]}`
	}
	ok := `"match":{"type":"x"},"kind":"printer","weight":0.5,"example":{"type":"x"}`
	if _, err := Load([]byte(rule(ok))); err != nil {
		t.Fatalf("a good rule: %v", err)
	}
	for name, body := range map[string]string{
		"unknown key":        ok + `,"colour":"red"`,
		"bad source":         strings.Replace(ok, `"match"`, `"source":"smoke","match"`, 1),
		"bad kind":           strings.Replace(ok, "printer", "toaster", 1),
		"kind unknown":       strings.Replace(ok, "printer", "unknown", 1),
		"weight 1":           strings.Replace(ok, "0.5", "1", 1),
		"weight 0":           strings.Replace(ok, "0.5", "0", 1),
		"no match":           strings.Replace(ok, `"match":{"type":"x"},`, "", 1),
		"bad field":          strings.Replace(ok, `"match":{"type"`, `"match":{"title"`, 1),
		"bad pattern":        strings.Replace(ok, `{"type":"x"},"kind"`, `{"type":"(x"},"kind"`, 1),
		"no example":         strings.Replace(ok, `,"example":{"type":"x"}`, "", 1),
		"example bad field":  strings.Replace(ok, `"example":{"type"`, `"example":{"server"`, 1),
		"says nothing":       strings.Replace(ok, `"kind":"printer",`, "", 1),
		"template bad field": ok + `,"model":"{colour}"`,
		"template unclosed":  ok + `,"model":"{type"`,
		"template stray }":   ok + `,"model":"type}"`,
		"template empty {}":  ok + `,"model":"{}"`,
		"not captures":       ok + `,"not":{"type":"(?P<x>y)"}`,
		"no id":              strings.Replace(ok, `"match"`, `"id":"","match"`, 1),
		"not json":           `"match":`,
	} {
		_, err := Load([]byte(rule(body)))
		if !errors.Is(err, ErrRules) {
			t.Errorf("%s: err %v", name, err)
		}
	}
	two := `{"rules":[{"id":"r","about":"a","source":"port","match":{"port":"1"},"kind":"iot","weight":0.5,"example":{"port":"1"}},` +
		`{"id":"r","about":"a","source":"port","match":{"port":"2"},"kind":"iot","weight":0.5,"example":{"port":"2"}}]}`
	if _, err := Load([]byte(two)); !errors.Is(err, ErrRules) {
		t.Errorf("duplicate ids: %v", err)
	}
	mixed := `{"rules":[{"id":"a","about":"a","source":"port","group":"g","match":{"port":"1"},"kind":"iot","weight":0.5,"example":{"port":"1"}},` +
		`{"id":"b","about":"a","source":"vendor","group":"g","match":{"vendor":"x"},"kind":"iot","weight":0.5,"example":{"vendor":"x"}}]}`
	if _, err := Load([]byte(mixed)); !errors.Is(err, ErrRules) {
		t.Errorf("group of two sources: %v", err)
	}
}

// TestLiteralPlans checks the fast matching of literal patterns against
// the regexp it stands for, on every example value of the rules file and
// variations of it, and that most conds get a fast plan at all.
func TestLiteralPlans(t *testing.T) {
	r := Default()
	var values []string
	for _, ru := range r.rules {
		for _, v := range ru.example {
			values = append(values, v, strings.ToUpper(v), "x"+v, v+"x", " "+v+" ", v[:len(v)/2])
		}
	}
	conds, fast, exact := 0, 0, 0
	for _, ru := range r.rules {
		for _, c := range append(append([]cond{}, ru.match...), ru.not...) {
			conds++
			if c.plan.lits != nil {
				fast++
			}
			if c.plan.exact {
				exact++
			}
			for _, v := range values {
				if got, want := c.matchString(v, strings.ToLower(v)), c.re.MatchString(v); got != want {
					t.Errorf("rule %s: %s on %q: fast %v, regexp %v", ru.id, c.re, v, got, want)
				}
			}
		}
	}
	t.Logf("%d conds, %d with a literal prefilter, %d decided by literals alone", conds, fast, exact)
	if fast < conds*2/3 {
		t.Errorf("only %d of %d conds have a literal plan", fast, conds)
	}
	for pat, want := range map[string]string{
		"^(9100|631)$":             "exact [{9100 3} {631 3}]",
		"^_ipp\\._tcp$":            "exact [{_ipp._tcp 3}]",
		"brother|seiko epson":      "exact [{brother 0} {seiko epson 0}]",
		"\\btv\\b|tv$|webos":       "prefilter [{tv 0} {tv 0} {webos 0}]",
		"^(?P<m>x.+)$":             "prefilter [{x 0}]",
		"nest-?(mini|audio)":       "prefilter [{nest 0}]",
		"(?P<m>TrueNAS|Unraid)":    "prefilter [{truenas 0} {unraid 0}]",
		"^(?P<m>.+?)(?: series)?$": "none []",
		"a?b|c":                    "prefilter [{b 0} {c 0}]",
		"x*y?|c":                   "none []",
	} {
		re := regexp.MustCompile("(?i)" + pat)
		p := planFor(pat, re)
		got := "none"
		if p.lits != nil {
			got = "prefilter"
			if p.exact {
				got = "exact"
			}
		}
		if s := got + " " + fmt.Sprint(p.lits); s != want {
			t.Errorf("%s: %s, want %s", pat, s, want)
		}
	}
}
