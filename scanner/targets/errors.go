package targets

import (
	"errors"
	"fmt"
)

// ErrTooManyHosts is wrapped by the error Parse returns when the
// targets add up to more addresses than Options.MaxHosts allows.
var ErrTooManyHosts = errors.New("too many hosts")

// ErrNoTargets is wrapped by the error returned when there is nothing to
// scan: an empty target list, or no local network to default to.
var ErrNoTargets = errors.New("no targets")

// Error explains why a target was refused. Input is the offending
// target as typed (empty when the refusal is about the targets as a whole,
// such as their total size); Err, when set, is a sentinel such as
// ErrTooManyHosts or the underlying cause, such as a resolver error.
type Error struct {
	Input  string
	Reason string
	Err    error
}

func (e *Error) Error() string {
	if e.Input == "" {
		return "targets: " + e.Reason
	}
	// %q keeps control characters and NUL bytes out of terminals and logs;
	// the cut keeps a megabyte of fuzz from becoming a megabyte of error.
	in := e.Input
	if len(in) > 64 {
		in = in[:64] + "..."
	}
	return fmt.Sprintf("target %q: %s", in, e.Reason)
}

// Unwrap returns the sentinel or cause, so that errors.Is(err,
// ErrTooManyHosts) works.
func (e *Error) Unwrap() error { return e.Err }

func tooMany(tok, count string, limit int) error {
	what := "targets add up to " + count + " addresses"
	if tok != "" {
		what = count + " addresses"
	}
	return &Error{
		Input:  tok,
		Reason: fmt.Sprintf("%s, more than --max-hosts %d allows; raise --max-hosts to scan them all", what, limit),
		Err:    ErrTooManyHosts,
	}
}
