// Package fynelocale keeps the GUI build's command line quiet under a
// C.UTF-8 locale, the default of Debian and Ubuntu containers and servers.
//
// Fyne's lang package looks the user's locale up while the program
// initializes, before main runs, through github.com/jeandeaual/go-locale,
// which takes LANG=C.UTF-8 for a language called "C": it knows "C" and
// "POSIX" only bare. language.Parse("C") then fails and Fyne logs a
// three-line "Fyne error: Error parsing user locale C" on stderr. The fix
// belongs upstream, in go-locale's getLangFromEnv (fyne-io/fyne#5271 was
// closed for want of information); until then this package, while the
// program initializes, shows the locale lookup the bare form, "C" or
// "POSIX", which means the same for messages, and Restore puts the
// environment back.
//
// It runs first because of the order Go initializes packages in: of the
// packages whose imports are all initialized, the first by import path
// goes next. This package imports only syscall, which package os imports,
// and "netscanner/internal/fynelocale" sorts before "os"; so it is
// initialized before os, and so before log and Fyne's lang, which need os.
// (See the Go spec, "Package initialization".) The GUI binary imports it;
// the headless build has no Fyne and does not.
package fynelocale

import "syscall"

// saved is the one variable init changed and its value before, for
// Restore; name is "" when init changed nothing. Written once by init,
// before main, and read by Restore.
var saved struct{ name, value string }

func init() {
	name, value, ok := override()
	if !ok {
		return
	}
	if old, had := syscall.Getenv(name); had {
		saved.name, saved.value = name, old
	} else {
		saved.name, saved.value = name, "\x00" // unset before
	}
	_ = syscall.Setenv(name, value)
}

// override says which variable to set, and to what, for the locale lookup
// to see a bare "C" or "POSIX" where the environment names a C locale
// with a codeset or modifier ("C.UTF-8", "C.utf8", "POSIX@x"). go-locale
// reads the first non-empty of LC_ALL, LC_MESSAGES and LANG. LANG stays
// as it is (it sets the character set, too): LC_MESSAGES, which only
// names the language of messages, takes the bare form instead.
func override() (name, value string, ok bool) {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		loc, _ := syscall.Getenv(v)
		if loc == "" {
			continue
		}
		bare := cLocale(loc)
		if bare == "" || bare == loc {
			return "", "", false // a real language, or already bare: nothing to fix
		}
		if v == "LANG" {
			v = "LC_MESSAGES"
		}
		return v, bare, true
	}
	return "", "", false
}

// cLocale returns "C" or "POSIX" when loc is that locale, with or without
// a codeset or modifier, and "" otherwise.
func cLocale(loc string) string {
	lang := loc
	for i := 0; i < len(loc); i++ {
		if c := loc[i]; c == '.' || c == '@' || c == '_' {
			lang = loc[:i]
			break
		}
	}
	if lang == "C" || lang == "POSIX" {
		return lang
	}
	return ""
}

// Restore puts back the variable init changed, so that the program and
// the processes it starts see the environment the user gave it. The app
// does not call it: Fyne keeps looking the locale up while it runs.
func Restore() {
	switch {
	case saved.name == "":
	case saved.value == "\x00":
		_ = syscall.Unsetenv(saved.name)
	default:
		_ = syscall.Setenv(saved.name, saved.value)
	}
}
