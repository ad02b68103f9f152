// Package store keeps Netscanner's history: every scan's result per
// device, the devices themselves (labels, first and last seen, the MAC
// addresses each has used), and answers the questions asked of it (when
// was a device here, how fast did it answer).
//
// It is an SQLite database, through the pure-Go modernc.org/sqlite driver
// so that the static headless build stays free of cgo, in WAL mode: each
// recorded scan is one transaction, so a process killed mid-write loses
// at most that scan and leaves a database that opens. The CLI and the app
// both use it; it knows nothing of either.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// Errors callers branch on. Each is wrapped with the path and the cause.
var (
	// ErrLocked: another process records into the database.
	ErrLocked = errors.New("history database is locked by another recorder")
	// ErrBadPath: the path cannot hold a history database (a directory,
	// a place that cannot be written, a file that is not one).
	ErrBadPath = errors.New("not a usable history database")
	// ErrNoHistory: reading a database that does not exist yet.
	ErrNoHistory = errors.New("no history yet")
	// ErrTooNew: the database was written by a newer Netscanner.
	ErrTooNew = errors.New("history database is newer than this program")
	// ErrMode: the operation needs a mode the store was not opened in.
	ErrMode = errors.New("not allowed in this mode")
	// ErrNotFound: no such device.
	ErrNotFound = errors.New("no such device")
)

// LockedError says which process holds a database for recording.
type LockedError struct {
	Path string // the database
	PID  int    // the holder, 0 if unknown
}

func (e *LockedError) Error() string {
	who := "another netscanner"
	if e.PID > 0 {
		who = fmt.Sprintf("another netscanner (pid %d)", e.PID)
	}
	return fmt.Sprintf("%s is being recorded by %s; only one watcher may write to a history database", e.Path, who)
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// AmbiguousError is a device reference that matches several devices.
type AmbiguousError struct {
	Ref     string
	Matches []Device
}

func (e *AmbiguousError) Error() string {
	names := make([]string, 0, len(e.Matches))
	for i := range e.Matches {
		if i == 5 {
			names = append(names, "…")
			break
		}
		d := &e.Matches[i]
		names = append(names, fmt.Sprintf("%s (%s)", d.Title(), d.Key))
	}
	return fmt.Sprintf("%q matches %d devices: %s; name one by its MAC or address", e.Ref, len(e.Matches), strings.Join(names, ", "))
}

// Store is an open history database. Its methods are safe for concurrent
// use.
type Store struct {
	db        *sql.DB
	path      string
	mode      Mode
	retention time.Duration
	now       func() time.Time
	lock      *fileLock // held in ModeRecord
}

// Open opens the history database at path, creating it (and its folder)
// unless mode is ModeRead, and brings its schema up to date.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("history database: empty path: %w", ErrBadPath)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("history database %s: %w: %w", path, ErrBadPath, err)
	}
	if err := checkPath(abs, opts.Mode); err != nil {
		return nil, err
	}
	s := &Store{path: abs, mode: opts.Mode, retention: opts.Retention, now: opts.Now}
	if s.retention <= 0 {
		s.retention = DefaultRetention
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.mode == ModeRecord {
		if s.lock, err = lockFile(abs); err != nil {
			return nil, err
		}
	}
	if err := s.open(ctx); err != nil {
		s.lock.release()
		return nil, err
	}
	return s, nil
}

// sqliteMagic starts every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// checkPath turns the ways a path can be wrong into one clear sentence
// each, before SQLite gets to say something vaguer.
func checkPath(path string, mode Mode) error {
	bad := func(why string, err error) error {
		if err != nil {
			return fmt.Errorf("history database %s: %s: %w: %w", path, why, ErrBadPath, err)
		}
		return fmt.Errorf("history database %s: %s: %w", path, why, ErrBadPath)
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if mode == ModeRead {
			return fmt.Errorf("%s: %w (netscanner watch, or a scan in the app, records it)", path, ErrNoHistory)
		}
		dir := filepath.Dir(path)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return bad("cannot create its folder", err)
		}
		if dfi, err := os.Stat(dir); err != nil {
			return bad("cannot use its folder", err)
		} else if !dfi.IsDir() {
			return bad(dir+" is not a folder", nil)
		}
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return bad("cannot create it", err)
		}
		return f.Close()
	case errors.Is(err, syscall.ENOTDIR):
		return bad("part of its folder path is a file, not a folder", err)
	case err != nil:
		return bad("cannot use it", err)
	case fi.IsDir():
		return bad("it is a folder, not a file (name a file inside it, e.g. "+filepath.Join(path, "history.db")+")", nil)
	case !fi.Mode().IsRegular():
		return bad("it is not a regular file", nil)
	}
	flag := os.O_RDWR
	if mode == ModeRead {
		flag = os.O_RDONLY
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		if mode != ModeRead && errors.Is(err, fs.ErrPermission) {
			return bad("it cannot be written", err)
		}
		return bad("cannot open it", err)
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	n, err := io.ReadFull(f, head)
	switch {
	case n == 0 && fi.Size() == 0:
		return nil // created empty (by us, killed before the schema): a new database
	case err != nil || string(head) != sqliteMagic:
		return bad("it is not a database (an SQLite file was expected)", nil)
	}
	return nil
}

// dsn builds the driver's connection string. Every connection gets the
// same settings: WAL (readers never block the writer, a crash loses at
// most the transaction under way), synchronous FULL (a recorded scan
// survives a power cut), foreign keys, a busy timeout so that an editor
// and a recorder wait for each other instead of failing, and IMMEDIATE
// transactions so that a write never fails half-way on a lock upgrade.
func (s *Store) dsn() string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_txlock", "immediate")
	if s.mode == ModeRead {
		q.Add("mode", "ro")
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
	}
	return (&url.URL{Scheme: "file", OmitHost: true, Path: s.path, RawQuery: q.Encode()}).String()
}

func (s *Store) open(ctx context.Context) error {
	db, err := sql.Open("sqlite", s.dsn())
	if err != nil {
		return fmt.Errorf("history database %s: %w", s.path, err)
	}
	// A few connections are plenty (one writer at a time anyway), and
	// each holds its own page cache: a bounded pool keeps a long-running
	// watcher small.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(2)
	s.db = db
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return s.openError(err)
	}
	if s.mode == ModeRead {
		err = s.checkSchema(ctx)
	} else {
		err = s.migrate(ctx)
	}
	if err != nil {
		db.Close()
		return s.openError(err)
	}
	return nil
}

// openError says what a failure to open means, in the store's terms.
func (s *Store) openError(err error) error {
	if errors.Is(err, ErrBadPath) || errors.Is(err, ErrTooNew) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("history database %s: %w", s.path, err)
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "file is not a database"), strings.Contains(msg, "malformed"):
		return fmt.Errorf("history database %s: it is not a database, or a damaged one: %w: %w", s.path, ErrBadPath, err)
	case strings.Contains(msg, "readonly"), strings.Contains(msg, "read-only"), strings.Contains(msg, "unable to open"):
		return fmt.Errorf("history database %s: it cannot be written: %w: %w", s.path, ErrBadPath, err)
	}
	return fmt.Errorf("history database %s: %w", s.path, err)
}

// Close closes the database and releases the recording lock.
func (s *Store) Close() error {
	err := s.db.Close()
	s.lock.release()
	return err
}

// Path returns the database file's absolute path.
func (s *Store) Path() string { return s.path }

// Mode returns the mode the store was opened in.
func (s *Store) Mode() Mode { return s.mode }

// need fails unless the store was opened in mode m or a stronger one.
func (s *Store) need(m Mode, what string) error {
	if s.mode < m {
		return fmt.Errorf("%s needs the history database opened to %s, not to %s: %w", what, m, s.mode, ErrMode)
	}
	return nil
}

// ms and fromMS convert times to the stored form, Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v) }
