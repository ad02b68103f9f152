package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"netscanner/internal/store"
)

// dbFlagHelp is the help text of --db, the same for every command that
// reads or writes history.
const dbFlagHelp = "the history database (default $XDG_DATA_HOME/netscanner/history.db, ~/.local/share/netscanner/history.db)"

// openHistory opens the history database named by --db (empty: the
// default place) for cmd. On failure it prints one line and returns the
// exit code: 2 for a path that cannot be a history database (bad input),
// 1 for the rest (nothing recorded yet, another recorder, a newer
// schema, a disk error).
func openHistory(ctx context.Context, cmd, db string, mode store.Mode, stderr io.Writer) (*store.Store, int) {
	path := db
	if path == "" {
		var err error
		if path, err = store.DefaultPath(); err != nil {
			fmt.Fprintf(stderr, "netscanner %s: %s\n", cmd, clip(err.Error()))
			return nil, exitUsage
		}
	}
	s, err := store.Open(ctx, path, store.Options{Mode: mode})
	if err != nil {
		msg := err.Error()
		if errors.Is(err, store.ErrLocked) {
			msg += " (stop it, or give this one another --db)"
		}
		fmt.Fprintf(stderr, "netscanner %s: %s\n", cmd, clip(msg))
		if errors.Is(err, store.ErrBadPath) {
			return nil, exitUsage
		}
		return nil, exitFail
	}
	return s, exitOK
}

// histTimeJSON formats a time for JSON output: RFC 3339 in UTC, or "" for
// the zero time.
func histTimeJSON(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// histTime formats a time for a table, in local time to the minute.
func histTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}

// histMS is a duration in milliseconds, to the microsecond.
func histMS(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
