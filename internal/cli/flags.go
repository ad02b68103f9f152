package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"netscanner/probe"
)

// cmdFlags is the flag set of one subcommand, parsed the way every
// netscanner command parses: bad input comes back as one *usageError
// instead of being printed with the whole usage, -h prints the synopsis
// and the flags, and --method, where the command has it, is checked
// before anything else.
type cmdFlags struct {
	*flag.FlagSet
	synopsis string        // after "Usage: netscanner ", e.g. "ping [flags] HOST..."
	about    string        // what the command does, for -h
	method   string        // --method as typed
	methodTo *probe.Method // where parse stores --method; nil without one
}

// newCmdFlags returns an empty flag set for the subcommand name.
func newCmdFlags(name, synopsis, about string) *cmdFlags {
	f := &cmdFlags{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), synopsis: synopsis, about: about}
	// Parse reports errors to us instead of printing them with the whole
	// usage: bad input gets one line.
	f.SetOutput(io.Discard)
	f.Usage = func() {}
	return f
}

// methodVar defines --method; parse checks it and stores it in m.
func (f *cmdFlags) methodVar(m *probe.Method) {
	f.methodTo = m
	f.StringVar(&f.method, "method", "auto", "how to ping: auto, dgram, raw, exec or tcp")
}

// parse parses args and checks --method. For -h it prints the usage on
// stderr and returns flag.ErrHelp; bad input gives a *usageError.
func (f *cmdFlags) parse(args []string, stderr io.Writer) error {
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printFlagUsage(stderr, f.FlagSet, f.synopsis, f.about)
			return err
		}
		return &usageError{err.Error()}
	}
	if f.methodTo != nil {
		// ParseMethod takes "" for Auto; on the command line it is a slip.
		m, err := probe.ParseMethod(f.method)
		if err != nil || f.method == "" {
			return usagef("--method: unknown method %q (want auto, dgram, raw, exec or tcp)", f.method)
		}
		*f.methodTo = m
	}
	return nil
}

// printFlagUsage prints a command's synopsis and flags, for -h.
func printFlagUsage(w io.Writer, fs *flag.FlagSet, synopsis, about string) {
	fmt.Fprintf(w, "Usage: netscanner %s\n\n%s\n\nFlags:\n", synopsis, about)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// parseFailed ends a command whose command line did not parse: exit 0
// after -h (the usage is out already), else one line that names the
// command and points to its -h, and exit 2.
func parseFailed(stderr io.Writer, cmd string, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(stderr, "netscanner %s: %s (try: netscanner %s -h)\n", cmd, clip(err.Error()), cmd)
	return exitUsage
}

// usageError is bad input: the command prints it on one line and exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef formats a usageError.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// isSet reports whether the flag name was given on the command line.
func (f *cmdFlags) isSet(name string) bool {
	set := false
	f.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}
