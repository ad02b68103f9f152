package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// FileName is the database's name inside its folder.
const FileName = "history.db"

// DefaultPath returns where the history database lives for this user (see
// PathFor).
func DefaultPath() (string, error) { return PathFor(os.Getenv) }

// PathFor returns where the history database lives, given the
// environment: $XDG_DATA_HOME/netscanner/history.db, with XDG_DATA_HOME
// defaulting to ~/.local/share as the XDG base directory specification
// says (a relative value is ignored, as it also says).
//
// An Ubuntu Touch click may write only below $XDG_DATA_HOME/<click
// package>. Its launcher moves XDG_DATA_HOME there before starting the
// binary; should the binary be started without it (APP_ID set by the
// session, XDG_DATA_HOME not yet moved), the folder is put inside the
// package's own folder here too.
func PathFor(getenv func(string) string) (string, error) {
	base := getenv("XDG_DATA_HOME")
	if !filepath.IsAbs(base) {
		home := getenv("HOME")
		if !filepath.IsAbs(home) {
			return "", errors.New("history database: neither XDG_DATA_HOME nor HOME is set to an absolute path; name the database with --db")
		}
		base = filepath.Join(home, ".local", "share")
	}
	base = filepath.Clean(base)
	if pkg := clickPackage(getenv("APP_ID")); pkg != "" && filepath.Base(base) != pkg {
		base = filepath.Join(base, pkg)
	}
	return filepath.Join(base, "netscanner", FileName), nil
}

// clickPackage returns the package name in an Ubuntu Touch APP_ID
// ("netscanner.netscanner_netscanner_1.0.0": package, app, version), or
// "" when appID is not one.
func clickPackage(appID string) string {
	pkg, rest, ok := strings.Cut(appID, "_")
	if !ok || rest == "" || pkg == "" || pkg == "." || pkg == ".." || strings.ContainsAny(pkg, "/\x00") {
		return ""
	}
	return pkg
}
