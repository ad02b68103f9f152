// Package identify says what a host is (a printer, a streaming stick, a
// NAS), its model and its friendly name, from the facts a scan gathered,
// and shows the evidence behind each guess.
//
// The knowledge lives in one data file, rules.json, embedded in the
// binary and documented in README.md beside it: each rule matches one
// fact (a DNS-SD service and its TXT keys, a UPnP description, a web
// page's title, a MAC maker, a name, an open port...) and says what it
// points at, with a weight. A contributor adds a device by adding a rule
// and the example it must match; no code changes. This package imports
// none of the scanner's sources: they fill in a Facts.
package identify

import (
	"math"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// MinConfidence is the confidence below which a host's kind stays
// KindUnknown: a wrong icon misleads more than a question mark.
const MinConfidence = 0.2

// Identity is what a host is, and why.
type Identity struct {
	Kind         Kind   `json:"kind"`
	Model        string `json:"model,omitempty"`
	FriendlyName string `json:"friendly_name,omitempty"`
	// Services are the host's DNS-SD services (with only their
	// identity-bearing TXT keys), its UPnP devices and its web servers.
	Services []Service `json:"services,omitempty"`
	// Evidence is every rule that matched, strongest first.
	Evidence []Evidence `json:"evidence,omitempty"`
	// Confidence, from 0 to 1, is how sure the kind is: the combined
	// weight of the evidence for it, discounted by the evidence for the
	// strongest other kind (see README.md). 0 when Kind is unknown.
	Confidence float64 `json:"confidence"`
}

// Evidence is one fact and what a rule made of it.
type Evidence struct {
	// Source is where the fact came from.
	Source Source `json:"source"`
	// Fact is the fact as a user reads it: "_googlecast._tcp
	// md=Chromecast Ultra".
	Fact string `json:"fact"`
	// Rule is the id of the rule in rules.json.
	Rule string `json:"rule"`
	// Kind is what the fact points at; KindUnknown when it gives only a
	// model or a name.
	Kind   Kind    `json:"kind"`
	Model  string  `json:"model,omitempty"`
	Name   string  `json:"name,omitempty"`
	Weight float64 `json:"weight"`
}

// String says the evidence in one line: "_googlecast._tcp
// md=Chromecast Ultra → streaming stick, weight 0.9".
func (e Evidence) String() string {
	var says []string
	if e.Kind != KindUnknown {
		says = append(says, e.Kind.Label())
	}
	if e.Model != "" {
		says = append(says, "model "+strconv.Quote(e.Model))
	}
	if e.Name != "" {
		says = append(says, "name "+strconv.Quote(e.Name))
	}
	return e.Fact + " → " + strings.Join(says, ", ") + ", weight " + strconv.FormatFloat(e.Weight, 'f', -1, 64)
}

// Identify says what the host the facts describe is, with the rules
// built into the binary.
func Identify(f Facts) Identity { return Default().Identify(f) }

// Identify says what the host the facts describe is.
func (r *Rules) Identify(f Facts) Identity {
	items := f.items()
	var ev []Evidence
	fired := map[string]bool{}
	for _, ru := range r.rules {
		if ru.group != "" && fired[ru.group] {
			continue
		}
		for i := range items {
			if items[i].source != ru.source {
				continue
			}
			if e, ok := ru.apply(&items[i], r); ok {
				ev = append(ev, e)
				if ru.group != "" {
					fired[ru.group] = true
				}
				// A rule counts once per host, however many of its
				// facts it matches.
				break
			}
		}
	}
	slices.SortStableFunc(ev, func(a, b Evidence) int {
		switch {
		case a.Weight > b.Weight:
			return -1
		case a.Weight < b.Weight:
			return 1
		}
		return 0
	})
	id := Identity{Evidence: ev, Services: r.services(f)}
	id.Kind, id.Confidence = combine(ev)
	for _, e := range ev {
		if id.Model == "" && e.Model != "" && (id.Kind == KindUnknown || e.Kind == KindUnknown || related(e.Kind, id.Kind)) {
			id.Model = e.Model
		}
		if id.FriendlyName == "" && e.Name != "" {
			id.FriendlyName = e.Name
		}
	}
	return id
}

// combine picks the kind the evidence points at and how sure that is.
// Each kind's score is the noisy-or of its evidence, 1 - Π(1 - weight).
// A specific kind counts its general parent's evidence too (a laptop's
// ssh port is a computer's), as long as its own strongest evidence is
// at least as strong as the parent's; otherwise it folds into the
// parent, whose evidence it then adds to (the gateway flag makes a
// Ubiquiti box a router, though its maker mostly makes access points).
// The best score s1 is discounted by the strongest unrelated kind's s2:
// confidence = s1 × (1 - s2). A tie, or a confidence under
// MinConfidence, is unknown.
func combine(ev []Evidence) (Kind, float64) {
	var own [kindCount][]float64
	for _, e := range ev {
		if e.Kind != KindUnknown {
			own[e.Kind] = append(own[e.Kind], e.Weight)
		}
	}
	strongest := func(ws []float64) float64 {
		m := 0.0
		for _, w := range ws {
			m = max(m, w)
		}
		return m
	}
	var folded [kindCount]bool
	for k := KindUnknown + 1; k < kindCount; k++ {
		if p := k.Parent(); p != KindUnknown && len(own[k]) > 0 && len(own[p]) > 0 && strongest(own[k]) < strongest(own[p]) {
			folded[k] = true
		}
	}
	noisyOr := func(lists ...[]float64) float64 {
		miss := 1.0
		for _, l := range lists {
			for _, w := range l {
				miss *= 1 - w
			}
		}
		return 1 - miss
	}
	// score counts a kind's own evidence, its parent's, and that of the
	// children folded into it; shared leaves out what a rival shares
	// with the best (their common parent).
	score := func(k Kind, shared bool) float64 {
		lists := [][]float64{own[k]}
		if p := k.Parent(); p != KindUnknown && !shared {
			lists = append(lists, own[p])
		}
		for c := KindUnknown + 1; c < kindCount; c++ {
			if folded[c] && c.Parent() == k {
				lists = append(lists, own[c])
			}
		}
		return noisyOr(lists...)
	}
	best, s1 := KindUnknown, 0.0
	for k := KindUnknown + 1; k < kindCount; k++ {
		if len(own[k]) == 0 || folded[k] {
			continue
		}
		// The more specific kind wins a tie with its parent.
		if s := score(k, false); s > s1+1e-9 || (math.Abs(s-s1) <= 1e-9 && best != KindUnknown && k.Parent() == best) {
			best, s1 = k, s
		}
	}
	if best == KindUnknown {
		return KindUnknown, 0
	}
	s2 := 0.0
	for k := KindUnknown + 1; k < kindCount; k++ {
		if len(own[k]) == 0 || folded[k] || related(k, best) {
			continue
		}
		p := k.Parent()
		s2 = max(s2, score(k, p != KindUnknown && (p == best || p == best.Parent())))
	}
	if s2 >= s1-1e-9 {
		return KindUnknown, 0
	}
	conf := s1 * (1 - s2)
	if conf < MinConfidence {
		return KindUnknown, 0
	}
	return best, math.Round(conf*100) / 100
}

// apply matches the rule against one item and says what it makes of it.
func (ru *rule) apply(it *item, r *Rules) (Evidence, bool) {
	vars, matched, ok := ru.matches(it)
	if !ok {
		return Evidence{}, false
	}
	e := Evidence{Source: ru.source, Rule: ru.id, Kind: ru.kind, Weight: ru.weight,
		Model: ru.model.expand(vars, r), Name: ru.name.expand(vars, r)}
	if ru.kind == KindUnknown && e.Model == "" && e.Name == "" {
		// A rule that only names things, matching a fact whose names
		// are empty, has nothing to say.
		return Evidence{}, false
	}
	e.Fact = describe(it, matched)
	return e, true
}

// matches reports whether fields satisfy the rule: every match pattern
// finds its field, no not pattern does. It returns the fields with the
// patterns' named groups added, and the fields that matched.
func (ru *rule) matches(it *item) (vars map[string]string, matched []string, ok bool) {
	fields := it.fields
	for _, c := range ru.not {
		for _, f := range c.fields {
			if v, ok := fields[f]; ok && c.matchString(v, it.lower[f]) {
				return nil, nil, false
			}
		}
	}
	var groups map[string]string
	for _, c := range ru.match {
		hit := false
		for _, f := range c.fields {
			v, ok := fields[f]
			if !ok || (c.plan.lits != nil && !c.plan.match(it.lower[f])) {
				continue
			}
			if !c.plan.exact {
				sub := c.re.FindStringSubmatch(v)
				if sub == nil {
					continue
				}
				for i, n := range c.re.SubexpNames() {
					if n == "" || sub[i] == "" {
						continue
					}
					if groups == nil {
						groups = map[string]string{}
					}
					groups[strings.ToLower(n)] = sub[i]
				}
			}
			matched = append(matched, f)
			hit = true
			break
		}
		if !hit {
			return nil, nil, false
		}
	}
	if groups == nil {
		return fields, matched, true
	}
	vars = make(map[string]string, len(fields)+len(groups))
	for k, v := range fields {
		vars[k] = v
	}
	for k, v := range groups {
		vars[k] = v
	}
	return vars, matched, true
}

// describe says a fact the way evidence shows it: the item's source and
// what the rule matched in it.
func describe(it *item, matched []string) string {
	f := it.fields
	var head string
	switch it.source {
	case SourceFlag:
		switch f["flag"] {
		case "self":
			return "this machine"
		case "self-mobile":
			return "this phone"
		case "gateway":
			return "the default gateway"
		case "random-mac":
			return "a randomized MAC address"
		}
		return "flag " + f["flag"]
	case SourceVendor:
		return "maker " + f["vendor"]
	case SourceName:
		return "name " + f["name"] + " (" + f["from"] + ")"
	case SourcePort:
		return "port " + f["port"] + " open"
	case SourceSSH:
		return "SSH banner " + f["line"]
	case SourceService:
		head = f["type"]
	case SourceUPnP:
		head = "UPnP"
	case SourceHTTP:
		head = "web :" + f["port"]
	case SourceTLS:
		head = "TLS certificate :" + f["port"]
	}
	parts := []string{head}
	for _, m := range matched {
		if m == "type" || (m == "port" && it.source != SourceService) {
			continue
		}
		name := strings.TrimPrefix(m, "txt.")
		if it.source == SourceService && strings.HasPrefix(m, "txt.") {
			name = originalKey(it, m)
		} else if n, ok := sourceFields[it.source][m]; ok {
			name = n
		}
		parts = append(parts, name+"="+f[m])
	}
	return strings.Join(parts, " ")
}

// originalKey returns a TXT field's key as the device spelled it.
func originalKey(it *item, field string) string {
	if k, ok := it.txtKeys[field]; ok {
		return k
	}
	return strings.TrimPrefix(field, "txt.")
}

// services lists the host's services for the user: DNS-SD ones with only
// the TXT keys the rules keep, then UPnP devices, then web servers not
// already listed by DNS-SD on their port.
func (r *Rules) services(f Facts) []Service {
	var out []Service
	webPorts := map[uint16]bool{}
	for _, s := range f.Services {
		c := Service{Type: strings.TrimSuffix(strings.TrimSuffix(s.Type, "."), ".local"), Instance: s.Instance, Port: s.Port}
		for _, k := range sortedKeys(s.TXT) {
			if r.KeepTXT(k) && s.TXT[k] != "" {
				if c.TXT == nil {
					c.TXT = map[string]string{}
				}
				c.TXT[k] = s.TXT[k]
			}
		}
		if webScheme(c.Type) != "" {
			webPorts[c.Port] = true
		}
		out = append(out, c)
	}
	for _, u := range f.UPnP {
		t := u.DeviceType
		if _, after, ok := strings.Cut(t, ":device:"); ok {
			t = after
		}
		out = append(out, Service{Type: "upnp:" + t, Instance: u.FriendlyName, Port: u.Port})
	}
	for _, w := range f.Web {
		if webPorts[w.Port] {
			continue
		}
		t := "http"
		if w.TLS {
			t = "https"
		}
		out = append(out, Service{Type: t, Instance: w.Title, Port: w.Port})
	}
	return out
}

// webScheme returns the URL scheme a browser opens a service type with,
// or "" for a service a browser cannot open.
func webScheme(typ string) string {
	switch strings.ToLower(typ) {
	case "http", "_http._tcp", "_ipp._tcp":
		return "http"
	case "https", "_https._tcp", "_ipps._tcp":
		return "https"
	}
	return ""
}

// URL returns the address a browser opens the service at on host, or ""
// for a service that is not a web page: http and https services, and IPP
// printers, whose web console answers on their IPP port. An http
// service's TXT path is kept when it is a plain absolute path.
func (s Service) URL(host netip.Addr) string {
	scheme := webScheme(s.Type)
	if scheme == "" || s.Port == 0 || !host.IsValid() {
		return ""
	}
	path := "/"
	if p := s.TXT["path"]; strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") && len(p) <= 256 &&
		!strings.ContainsFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\\' }) {
		path = p
	}
	u := url.URL{Scheme: scheme, Host: netip.AddrPortFrom(host, s.Port).String(), Path: path}
	return u.String()
}
