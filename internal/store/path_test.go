package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestPathFor(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
		err  bool
	}{
		{"XDG_DATA_HOME", map[string]string{"XDG_DATA_HOME": "/x/data", "HOME": "/home/u"}, "/x/data/netscanner/history.db", false},
		{"default under HOME", map[string]string{"HOME": "/home/u"}, "/home/u/.local/share/netscanner/history.db", false},
		{"relative XDG_DATA_HOME is ignored", map[string]string{"XDG_DATA_HOME": "data", "HOME": "/home/u"}, "/home/u/.local/share/netscanner/history.db", false},
		{"click launcher already moved it", map[string]string{
			"XDG_DATA_HOME": "/home/phablet/.local/share/netscanner.netscanner", "HOME": "/home/phablet",
			"APP_ID": "netscanner.netscanner_netscanner_1.2.0"}, "/home/phablet/.local/share/netscanner.netscanner/netscanner/history.db", false},
		{"click started without its launcher", map[string]string{
			"HOME": "/home/phablet", "APP_ID": "netscanner.netscanner_netscanner_1.2.0"},
			"/home/phablet/.local/share/netscanner.netscanner/netscanner/history.db", false},
		{"an APP_ID that is not a click's", map[string]string{"HOME": "/home/u", "APP_ID": "org.example.App"}, "/home/u/.local/share/netscanner/history.db", false},
		{"a hostile APP_ID", map[string]string{"HOME": "/home/u", "APP_ID": "../../etc_x_1"}, "/home/u/.local/share/netscanner/history.db", false},
		{"nothing set", map[string]string{}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PathFor(func(k string) string { return tc.env[k] })
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("PathFor = %q, %v; want %q (error %v)", got, err, tc.want, tc.err)
			}
		})
	}
}

// badPath is one way a --db path can be wrong.
type badPath struct {
	name  string
	setup func(t *testing.T, dir string) string // returns the path
	mode  Mode
	is    error
	says  string
}

func badPaths() []badPath {
	write := func(name string, data []byte) func(*testing.T, string) string {
		return func(t *testing.T, dir string) string {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}
	}
	return []badPath{
		{"empty", func(*testing.T, string) string { return "" }, ModeRecord, ErrBadPath, "empty path"},
		{"a folder", func(_ *testing.T, dir string) string { return dir }, ModeRecord, ErrBadPath, "it is a folder"},
		{"a folder, read", func(_ *testing.T, dir string) string { return dir }, ModeRead, ErrBadPath, "it is a folder"},
		{"under a file", func(t *testing.T, dir string) string {
			return filepath.Join(write("plain", []byte("x"))(t, dir), "history.db")
		}, ModeRecord, ErrBadPath, "is a file, not a folder"},
		{"a text file", write("notes.txt", []byte("these are my notes\n")), ModeRecord, ErrBadPath, "it is not a database"},
		{"a text file, read", write("notes.txt", []byte("these are my notes\n")), ModeRead, ErrBadPath, "it is not a database"},
		{"a damaged database", write("broken.db", append([]byte(sqliteMagic), bytes.Repeat([]byte{0xa5}, 8192)...)), ModeRecord, ErrBadPath, "damaged"},
		{"another program's database", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "other.db")
			db, err := sql.Open("sqlite", "file:"+p)
			if err == nil {
				_, err = db.Exec("CREATE TABLE songs (title TEXT)")
				db.Close()
			}
			if err != nil {
				t.Fatal(err)
			}
			return p
		}, ModeRecord, ErrBadPath, "another program's SQLite database"},
		{"a newer Netscanner's", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "future.db")
			s, err := Open(context.Background(), p, Options{Mode: ModeRecord})
			if err == nil {
				_, err = s.db.Exec("PRAGMA user_version = 99")
				s.Close()
			}
			if err != nil {
				t.Fatal(err)
			}
			return p
		}, ModeRead, ErrTooNew, "update Netscanner"},
		{"not there yet, read", func(_ *testing.T, dir string) string { return filepath.Join(dir, "none.db") }, ModeRead, ErrNoHistory, "netscanner watch"},
	}
}

func TestBadPaths(t *testing.T) {
	for _, tc := range badPaths() {
		t.Run(tc.name, func(t *testing.T) {
			checkBadPath(t, tc, t.TempDir())
		})
	}
}

func checkBadPath(t *testing.T, tc badPath, dir string) {
	t.Helper()
	path := tc.setup(t, dir)
	s, err := Open(context.Background(), path, Options{Mode: tc.mode})
	if err == nil {
		s.Close()
		t.Fatalf("Open(%q, %v) succeeded", path, tc.mode)
	}
	if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.says) {
		t.Fatalf("Open(%q, %v): %v\nwant errors.Is %v and saying %q", path, tc.mode, err, tc.is, tc.says)
	}
	if path != "" && !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the path", err)
	}
}

// unprivilegedPaths are the cases only a user other than root meets:
// root may write anywhere.
func unprivilegedPaths() []badPath {
	return []badPath{
		{"an unwritable folder", func(_ *testing.T, dir string) string { return filepath.Join(dir, "ro", "sub", "history.db") },
			ModeRecord, ErrBadPath, "cannot create its folder"},
		{"a file in an unwritable folder", func(_ *testing.T, dir string) string { return filepath.Join(dir, "ro", "history.db") },
			ModeRecord, ErrBadPath, "cannot create it"},
		{"a read-only database", func(_ *testing.T, dir string) string { return filepath.Join(dir, "readonly.db") },
			ModeRecord, ErrBadPath, "it cannot be written"},
	}
}

// unprivFixtures makes, as the owner, what unprivilegedPaths point at:
// a folder ro/ nobody else may write to, and a database readonly.db that
// only its owner may write.
func unprivFixtures(t *testing.T, dir string) {
	t.Helper()
	if err := os.Mkdir(filepath.Join(dir, "ro"), 0o555); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), filepath.Join(dir, "readonly.db"), Options{Mode: ModeRecord})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, f := range []string{"readonly.db", "readonly.db-wal", "readonly.db-shm", "readonly.db.lock"} {
		_ = os.Chmod(filepath.Join(dir, f), 0o444)
	}
	_ = os.Chmod(dir, 0o755)
}

// TestBadPathsUnprivileged runs the permission cases as the user nobody:
// as root it builds the fixtures and runs itself again under setpriv.
func TestBadPathsUnprivileged(t *testing.T) {
	if dir := os.Getenv("NETSCANNER_STORE_UNPRIV_DIR"); dir != "" {
		for _, tc := range unprivilegedPaths() {
			t.Run(tc.name, func(t *testing.T) { checkBadPath(t, tc, dir) })
		}
		return
	}
	if os.Geteuid() != 0 {
		dir := t.TempDir()
		unprivFixtures(t, dir)
		t.Cleanup(func() { _ = os.Chmod(filepath.Join(dir, "ro"), 0o755) })
		for _, tc := range unprivilegedPaths() {
			t.Run(tc.name, func(t *testing.T) { checkBadPath(t, tc, dir) })
		}
		return
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatal("setpriv (util-linux) is needed to run this test as nobody")
	}
	dir, err := os.MkdirTemp("", "store-unpriv-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	unprivFixtures(t, dir)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
		self, "-test.run=^TestBadPathsUnprivileged$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "NETSCANNER_STORE_UNPRIV_DIR="+dir, "HOME=/nonexistent")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestBadPathsUnprivileged/a_read-only_database")) {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	t.Logf("as nobody:\n%s", out)
}
