package identify

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzIdentify feeds hostile strings (as devices send them: TXT values,
// UPnP fields, titles, banners, names) to every source at once: no panic,
// and what comes out is bounded and valid.
func FuzzIdentify(f *testing.F) {
	f.Add("_googlecast._tcp", "md", "Chromecast Ultra", "FRITZ!Box 7590", "SSH-2.0-OpenSSH", "Synology Inc", "iPhone14,2")
	f.Add("_ipp._tcp", "ty", "(((", "{txt.md}", "\x00\xff", "a|b", "")
	f.Fuzz(func(t *testing.T, typ, key, val, model, line, maker, name string) {
		id := Identify(Facts{
			Vendor:   maker,
			Names:    []Name{{Name: name, Source: NameFromMDNS}, {Name: val, Source: NameFromLabel}},
			Ports:    []uint16{22, 80, 9100},
			Services: []Service{{Type: typ, Instance: name, Port: 1, TXT: map[string]string{key: val, "rpMd": name, "md": val}}},
			UPnP:     []UPnP{{DeviceType: typ, FriendlyName: name, Manufacturer: maker, ModelName: model, ModelNumber: val}},
			Web:      []Web{{Port: 80, Title: model, Server: line, CertSubject: val, CertSANs: []string{name}}},
			SSH:      line,
		})
		if id.Kind < KindUnknown || id.Kind >= kindCount || id.Confidence < 0 || id.Confidence > 1 {
			t.Fatalf("identity %+v", id)
		}
		if (id.Kind == KindUnknown) != (id.Confidence == 0) {
			t.Fatalf("kind %s with confidence %v", id.Kind, id.Confidence)
		}
		if len(id.Model) > maxText || len(id.FriendlyName) > maxText {
			t.Fatalf("model %d, name %d bytes", len(id.Model), len(id.FriendlyName))
		}
		if utf8.ValidString(model+maker+name+val) && !(utf8.ValidString(id.Model) && utf8.ValidString(id.FriendlyName)) {
			t.Fatalf("invalid UTF-8 made from valid: %q %q", id.Model, id.FriendlyName)
		}
	})
}

// FuzzLoad feeds broken rules files to the parser: an error or a rules
// set, never a panic.
func FuzzLoad(f *testing.F) {
	f.Add(embeddedRules[:2000])
	f.Add([]byte(`{"rules":[{"id":"r","about":"a","source":"port","match":{"port":"("},"kind":"iot","weight":0.5,"example":{"port":"1"}}]}`))
	f.Add([]byte(`{"rules":[{"id":"r","about":"a","source":"upnp","match":{"modelname":"(?P<m>x)"},"model":"{m|alias}{","weight":0.5,"example":{"modelname":"x"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Load(data)
		if err == nil {
			_ = r.Identify(Facts{Vendor: "x", Ports: []uint16{1}})
		}
	})
}

// FuzzLiteralPlans checks the fast matching of every cond of the rules
// file against its regexp on any ASCII value.
func FuzzLiteralPlans(f *testing.F) {
	f.Add("Chromecast Ultra")
	f.Add("SSH-2.0-OpenSSH_9.2p1 Raspbian")
	f.Add("urn:schemas-upnp-org:device:InternetGatewayDevice:1")
	r := Default()
	f.Fuzz(func(t *testing.T, v string) {
		for _, b := range []byte(v) {
			if b >= 0x80 {
				return // case folding beyond ASCII is the regexp's alone
			}
		}
		lower := strings.ToLower(v)
		for _, ru := range r.rules {
			for _, c := range append(append([]cond{}, ru.match...), ru.not...) {
				if got, want := c.matchString(v, lower), c.re.MatchString(v); got != want {
					t.Fatalf("rule %s: %s on %q: fast %v, regexp %v", ru.id, c.re, v, got, want)
				}
			}
		}
	})
}
