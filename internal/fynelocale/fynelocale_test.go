package fynelocale

import "testing"

func TestCLocale(t *testing.T) {
	for loc, want := range map[string]string{
		"C": "C", "C.UTF-8": "C", "C.utf8": "C", "POSIX": "POSIX", "POSIX.UTF-8": "POSIX", "C@euro": "C",
		"en_US.UTF-8": "", "de_DE": "", "": "", "Cy": "", "CC.UTF-8": "",
	} {
		if got := cLocale(loc); got != want {
			t.Errorf("cLocale(%q) = %q, want %q", loc, got, want)
		}
	}
}

func TestOverride(t *testing.T) {
	for _, tc := range []struct {
		all, msgs, lang string
		name, value     string
	}{
		{lang: "C.UTF-8", name: "LC_MESSAGES", value: "C"},
		{lang: "C", name: ""},
		{lang: "en_US.UTF-8", name: ""},
		{msgs: "POSIX.UTF-8", lang: "de_DE.UTF-8", name: "LC_MESSAGES", value: "POSIX"},
		{all: "C.UTF-8", lang: "en_US.UTF-8", name: "LC_ALL", value: "C"},
		{all: "de_DE.UTF-8", lang: "C.UTF-8", name: ""},
		{name: ""},
	} {
		t.Setenv("LC_ALL", tc.all)
		t.Setenv("LC_MESSAGES", tc.msgs)
		t.Setenv("LANG", tc.lang)
		name, value, ok := override()
		if ok != (tc.name != "") || name != tc.name || value != tc.value {
			t.Errorf("LC_ALL=%q LC_MESSAGES=%q LANG=%q: override %q=%q (%v), want %q=%q", tc.all, tc.msgs, tc.lang, name, value, ok, tc.name, tc.value)
		}
	}
}
