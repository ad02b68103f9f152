package identify

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Source is where a fact came from; each rule reads one.
type Source string

// The sources, with the fields rules may match on each (see README.md).
const (
	SourceFlag    Source = "flag"   // flag: self, self-mobile, gateway, random-mac
	SourceVendor  Source = "vendor" // vendor
	SourceName    Source = "name"   // name, from
	SourcePort    Source = "port"   // port
	SourceService Source = "dns-sd" // type, instance, port, txt.KEY
	SourceUPnP    Source = "upnp"   // deviceType, friendlyName, manufacturer, modelName, modelNumber, server
	SourceHTTP    Source = "http"   // port, title, server
	SourceTLS     Source = "tls"    // port, subject, san
	SourceSSH     Source = "ssh"    // line
)

// sourceFields are the fields of each source's items, in lower case,
// with the spelling evidence shows them in. "txt." fields are any key.
var sourceFields = map[Source]map[string]string{
	SourceFlag:    {"flag": "flag"},
	SourceVendor:  {"vendor": "maker"},
	SourceName:    {"name": "name", "from": "from"},
	SourcePort:    {"port": "port"},
	SourceService: {"type": "type", "instance": "instance", "port": "port"},
	SourceUPnP: {"devicetype": "deviceType", "friendlyname": "friendlyName", "manufacturer": "manufacturer",
		"modelname": "modelName", "modelnumber": "modelNumber", "server": "server"},
	SourceHTTP: {"port": "port", "title": "title", "server": "server"},
	SourceTLS:  {"port": "port", "subject": "subject", "san": "SAN"},
	SourceSSH:  {"line": "banner"},
}

// validField reports whether field (lower case) is one of src's.
func validField(src Source, field string) bool {
	if src == SourceService {
		if k, ok := strings.CutPrefix(field, "txt."); ok {
			return k != ""
		}
	}
	_, ok := sourceFields[src][field]
	return ok
}

//go:embed rules.json
var embeddedRules []byte

// Default returns the rules built into the binary (rules.json beside this
// file). They are parsed on first use; every call returns the same
// Rules. The embedded file is checked by this package's tests, so a
// broken one panics here rather than going unnoticed.
func Default() *Rules { return defaultRules() }

var defaultRules = sync.OnceValue(func() *Rules {
	r, err := Load(embeddedRules)
	if err != nil {
		panic(err)
	}
	return r
})

// Rules is a parsed rules file. It is read-only once loaded, and safe
// for concurrent use.
type Rules struct {
	rules    []*rule
	bySource map[Source][]*rule
	keepTXT  map[string]bool // lower-case TXT keys a Service keeps
	aliases  map[string]string
	prefixes []alias // "Prefix*" aliases, longest first
}

type alias struct{ prefix, to string }

// file is the rules file's layout; README.md documents every field.
type file struct {
	About   []string          `json:"about"`
	KeepTXT []string          `json:"kept_txt_keys"`
	Aliases map[string]string `json:"aliases"`
	Rules   []fileRule        `json:"rules"`
}

type fileRule struct {
	ID      string            `json:"id"`
	About   string            `json:"about"`
	Source  Source            `json:"source"`
	Group   string            `json:"group,omitempty"`
	Match   map[string]string `json:"match"`
	Not     map[string]string `json:"not,omitempty"`
	Kind    string            `json:"kind,omitempty"`
	Weight  float64           `json:"weight"`
	Model   string            `json:"model,omitempty"`
	Name    string            `json:"name,omitempty"`
	Example map[string]string `json:"example"`
	Expect  *struct {
		Model string `json:"model"`
		Name  string `json:"name"`
	} `json:"expect,omitempty"`
}

// rule is a compiled rule.
type rule struct {
	id, about, group string
	source           Source
	match, not       []cond
	kind             Kind
	weight           float64
	model, name      template
	// example is a fact the rule must match, and expectModel and
	// expectName what it must make of it (the per-rule test).
	example                 map[string]string
	expectModel, expectName string
}

// cond is one "field": "pattern" pair. fields holds the alternatives of
// a key such as "txt.model|txt.rpmd": the first present field decides.
type cond struct {
	fields []string
	re     *regexp.Regexp
	plan   plan // literal.go
}

// ErrRules is matched by every error Load returns.
var ErrRules = errors.New("identify: bad rules")

// Load parses and checks a rules file. Every pattern must compile, every
// field must be one of its source's, every rule must say something
// (a kind, a model or a name) and carry an example it matches.
func Load(data []byte) (*Rules, error) {
	var f file
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRules, err)
	}
	r := &Rules{bySource: map[Source][]*rule{}, keepTXT: map[string]bool{}, aliases: map[string]string{}}
	for _, k := range f.KeepTXT {
		r.keepTXT[strings.ToLower(k)] = true
	}
	for from, to := range f.Aliases {
		if p, ok := strings.CutSuffix(from, "*"); ok {
			r.prefixes = append(r.prefixes, alias{p, to})
		} else {
			r.aliases[from] = to
		}
	}
	sort.Slice(r.prefixes, func(i, j int) bool {
		if len(r.prefixes[i].prefix) != len(r.prefixes[j].prefix) {
			return len(r.prefixes[i].prefix) > len(r.prefixes[j].prefix)
		}
		return r.prefixes[i].prefix < r.prefixes[j].prefix
	})
	ids := map[string]bool{}
	groups := map[string]Source{}
	for i, fr := range f.Rules {
		ru, err := compile(fr)
		if err != nil {
			return nil, fmt.Errorf("%w: rule %d (%q): %w", ErrRules, i+1, fr.ID, err)
		}
		if ids[ru.id] {
			return nil, fmt.Errorf("%w: two rules called %q", ErrRules, ru.id)
		}
		ids[ru.id] = true
		if ru.group != "" {
			if src, ok := groups[ru.group]; ok && src != ru.source {
				return nil, fmt.Errorf("%w: rule %q: group %q mixes sources %s and %s", ErrRules, ru.id, ru.group, src, ru.source)
			}
			groups[ru.group] = ru.source
		}
		r.rules = append(r.rules, ru)
		r.bySource[ru.source] = append(r.bySource[ru.source], ru)
	}
	return r, nil
}

func compile(fr fileRule) (*rule, error) {
	ru := &rule{id: fr.ID, about: fr.About, group: fr.Group, source: fr.Source, weight: fr.Weight}
	if ru.id == "" || strings.TrimSpace(ru.about) == "" {
		return nil, errors.New("every rule needs an id and an about")
	}
	if _, ok := sourceFields[ru.source]; !ok {
		return nil, fmt.Errorf("no source %q", ru.source)
	}
	if fr.Kind != "" {
		k, err := ParseKind(fr.Kind)
		if err != nil || k == KindUnknown {
			return nil, fmt.Errorf("no kind %q", fr.Kind)
		}
		ru.kind = k
	}
	if !(ru.weight > 0 && ru.weight < 1) {
		return nil, fmt.Errorf("weight %v is not between 0 and 1", ru.weight)
	}
	if len(fr.Match) == 0 {
		return nil, errors.New("no match")
	}
	var err error
	captures := map[string]bool{}
	if ru.match, err = conds(ru.source, fr.Match, captures); err != nil {
		return nil, err
	}
	if ru.not, err = conds(ru.source, fr.Not, nil); err != nil {
		return nil, err
	}
	if ru.model, err = parseTemplate(fr.Model, ru.source, captures); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if ru.name, err = parseTemplate(fr.Name, ru.source, captures); err != nil {
		return nil, fmt.Errorf("name: %w", err)
	}
	if ru.kind == KindUnknown && ru.model == nil && ru.name == nil {
		return nil, errors.New("the rule gives no kind, model or name")
	}
	if len(fr.Example) == 0 {
		return nil, errors.New("no example")
	}
	ru.example = map[string]string{}
	for k, v := range fr.Example {
		k = strings.ToLower(k)
		if !validField(ru.source, k) {
			return nil, fmt.Errorf("example: source %s has no field %q", ru.source, k)
		}
		ru.example[k] = v
	}
	if fr.Expect != nil {
		ru.expectModel, ru.expectName = fr.Expect.Model, fr.Expect.Name
	}
	return ru, nil
}

// conds compiles a match or not block. Patterns are case-insensitive;
// their named groups are added to captures.
func conds(src Source, m map[string]string, captures map[string]bool) ([]cond, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []cond
	for _, k := range keys {
		c := cond{}
		for alt := range strings.SplitSeq(strings.ToLower(k), "|") {
			if !validField(src, alt) {
				return nil, fmt.Errorf("source %s has no field %q", src, alt)
			}
			c.fields = append(c.fields, alt)
		}
		re, err := regexp.Compile("(?i)" + m[k])
		if err != nil {
			return nil, fmt.Errorf("pattern for %s: %w", k, err)
		}
		c.re = re
		c.plan = planFor(m[k], re)
		for _, n := range re.SubexpNames() {
			if n != "" {
				if captures == nil {
					return nil, fmt.Errorf("pattern for %s: a not pattern captures nothing", k)
				}
				captures[strings.ToLower(n)] = true
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// sortedKeys returns m's keys in order, so that items are built the same
// way every time.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// alias returns what the rules file's aliases call a model identifier
// (exact, then the longest "Prefix*"), or the identifier itself.
func (r *Rules) alias(id string) string {
	if to, ok := r.aliases[id]; ok {
		return to
	}
	for _, a := range r.prefixes {
		if strings.HasPrefix(id, a.prefix) {
			return a.to
		}
	}
	return id
}

// KeepTXT reports whether a Service's TXT key is one an Identity keeps.
func (r *Rules) KeepTXT(key string) bool { return r.keepTXT[strings.ToLower(key)] }

// ServiceTypes returns the DNS-SD service types of the rules' examples,
// in the order of the file: the types a browse should ask for, so that a
// rule added for a new type needs no list of types edited elsewhere.
func (r *Rules) ServiceTypes() []string {
	var out []string
	for _, ru := range r.bySource[SourceService] {
		if t := ru.example["type"]; t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// TXTKeys returns every TXT key, in lower case, that a rule reads or an
// Identity keeps: the keys a browse must not drop.
func (r *Rules) TXTKeys() []string {
	var out []string
	add := func(k string) {
		if k = strings.ToLower(k); k != "" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	for _, ru := range r.bySource[SourceService] {
		for _, c := range slices.Concat(ru.match, ru.not) {
			for _, f := range c.fields {
				if k, ok := strings.CutPrefix(f, "txt."); ok {
					add(k)
				}
			}
		}
		for _, t := range []template{ru.model, ru.name} {
			for _, p := range t {
				if k, ok := strings.CutPrefix(p.field, "txt."); ok {
					add(k)
				}
			}
		}
	}
	keys := make([]string, 0, len(r.keepTXT))
	for k := range r.keepTXT {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		add(k)
	}
	return out
}

// Len returns the number of rules.
func (r *Rules) Len() int { return len(r.rules) }
