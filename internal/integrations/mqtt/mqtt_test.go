package mqtt

import (
	"errors"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		in   string
		want Config // Broker, Username, Password, BaseTopic, DiscoveryPrefix, Node checked; ClientID when set
		err  string
	}{
		{in: "mqtt://198.18.0.5", want: Config{Broker: "tcp://198.18.0.5:1883", BaseTopic: "netscanner", DiscoveryPrefix: "homeassistant", Node: "netscanner"}},
		{in: "mqtt://user:secret@broker.lan:1884/netscanner/office?client_id=office", want: Config{
			Broker: "tcp://broker.lan:1884", Username: "user", Password: "secret", BaseTopic: "netscanner/office",
			DiscoveryPrefix: "homeassistant", Node: "netscanner_office", ClientID: "office"}},
		{in: "mqtts://[2001:db8::5]/home/lan/?discovery=ha", want: Config{Broker: "ssl://[2001:db8::5]:8883", BaseTopic: "home/lan", DiscoveryPrefix: "ha", Node: "home_lan"}},
		{in: "tcp://b/x?discovery=off", want: Config{Broker: "tcp://b:1883", BaseTopic: "x", Node: "x"}},
		{in: "", err: "bad MQTT URL: empty"},
		{in: "http://broker/", err: `scheme "http", want mqtt:// or mqtts://`},
		{in: "broker:1883", err: `scheme "broker"`},
		{in: "mqtt://", err: "no broker host"},
		{in: "mqtt://:1883", err: "no broker host"},
		{in: "mqtt://b:0", err: `port "0": want 1 to 65535`},
		{in: "mqtt://b:70000", err: `port "70000"`},
		{in: "mqtt://b:", err: "empty port"},
		{in: "mqtt://b/a/#", err: "'#' is an MQTT wildcard"},
		{in: "mqtt://b/a/+/c", err: "'+' and '#' are wildcards"},
		{in: "mqtt://b/a//c", err: "empty topic level"},
		{in: "mqtt://b/$SYS", err: "the broker's"},
		{in: "mqtt://b/a?discovery=a/%23", err: "discovery prefix"},
		{in: "mqtt://b/a?retain=1", err: `unknown parameter "retain"`},
		{in: "mqtt://b/a?client_id=a&client_id=b", err: "client_id given 2 times"},
		{in: "mqtt://b/a?client_id=", err: "client_id: want 1 to 128 characters"},
		{in: "mqtt://b/a b", err: "spaces or control characters"},
		{in: "mqtt://u:secret@b:0/", err: `"mqtt://u:xxxxx@b:0/"`},
		{in: "mqtt://b/" + strings.Repeat("a", 201), err: "longer than 200 bytes"},
		{in: "mqtt://b/%ff", err: "invalid UTF-8"},
	}
	for _, c := range cases {
		got, err := ParseURL(c.in)
		if c.err != "" {
			if err == nil || !errors.Is(err, ErrBadURL) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseURL(%q) error %v, want one with %q", c.in, err, c.err)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("ParseURL(%q) error shows the password: %v", c.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseURL(%q): %v", c.in, err)
			continue
		}
		if c.want.ClientID == "" {
			if !strings.HasPrefix(got.ClientID, "netscanner-") {
				t.Errorf("ParseURL(%q) client id %q", c.in, got.ClientID)
			}
			c.want.ClientID = got.ClientID
		}
		if got != c.want {
			t.Errorf("ParseURL(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"mqtt://b", "mqtts://u:p@[::1]:8883/a/b?discovery=off", "mqtt://b/#", "mqtt://b?client_id=x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseURL(s)
		if err != nil {
			if !errors.Is(err, ErrBadURL) {
				t.Fatalf("error %v does not wrap ErrBadURL", err)
			}
			return
		}
		if checkTopic(c.BaseTopic) != nil || (c.DiscoveryPrefix != "" && checkTopic(c.DiscoveryPrefix) != nil) {
			t.Fatalf("ParseURL(%q) gave bad topics %+v", s, c)
		}
		if c.Node == "" || strings.Trim(c.Node, "abcdefghijklmnopqrstuvwxyz0123456789_-") != "" {
			t.Fatalf("ParseURL(%q) node %q", s, c.Node)
		}
	})
}

func TestTopicID(t *testing.T) {
	for in, want := range map[string]string{
		"mac:b8:27:eb:00:00:0a": "mac_b8_27_eb_00_00_0a",
		"ip:198.18.1.5":         "ip_198_18_1_5",
		"ip:2001:db8::5":        "ip_2001_db8__5",
		"Netscanner/Office":     "netscanner_office",
		"a/+/#\x00é":            "a______",
	} {
		if got := topicID(in); got != want {
			t.Errorf("topicID(%q) = %q, want %q", in, got, want)
		}
	}
}
