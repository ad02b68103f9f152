// Package cli is Netscanner's command line: every subcommand, run
// in-process by Run, so that both binaries (the app with its subcommands,
// and the headless netscanner-cli) and the tests share one implementation.
// It never imports Fyne: the app reaches it only through Env.GUI.
//
// Where things go:
//
//	a new subcommand   a file cmd_NAME.go (or NAME.go) with its flags, run
//	                   function and -h text, and one row in commands()
//	a new scan flag    parseScanArgs in scan.go (checked there, limits from
//	                   package targets), and the -h test in scan_test.go
//	a new column       watch.HostJSON and NewHostJSON (internal/watch/json.go)
//	                   for --format json; scanOutput.host for the table;
//	                   package devices' export for --format csv
package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"netscanner/probe"
)

// Exit codes, as documented in the README.
const (
	ExitOK    = 0 // success
	ExitFail  = 1 // nothing answered, or a runtime failure
	ExitUsage = 2 // bad usage or bad input
)

// Short names inside the package.
const (
	exitOK    = ExitOK
	exitFail  = ExitFail
	exitUsage = ExitUsage
)

// Env is what a command line runs against. The zero value is this
// machine's network, without the app: the headless build.
type Env struct {
	// GUI opens the app for a command line without a command; nil in the
	// headless build, where such a command line prints the usage.
	GUI func(ctx context.Context, stderr io.Writer) int
	// Open opens the probe transport; nil means probe.Open. Tests pass
	// one that proves nothing is sent.
	Open func(context.Context, probe.Options) (probe.Conn, *probe.Report, error)
	// InNet, when set, runs the scan enrichment's socket openings and
	// kernel-table reads in the network the command belongs in (see
	// scanner.Enrich.InNet); nil leaves them in the process's network.
	// A caller running Run on a thread inside another network namespace
	// sets it, so that enrichment looks there too.
	InNet func(fn func()) error

	// watchMinInterval lowers watch's minimum --interval (10s), for
	// tests that cannot wait; nothing a user types reaches it.
	watchMinInterval time.Duration
}

// Run runs one command line (args without the program name) on this
// machine's network, without the app, and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return Env{}.Run(ctx, args, stdout, stderr)
}

// Run runs one command line (args without the program name) and returns
// the process's exit code. Bad usage prints one line on stderr and
// returns ExitUsage before anything is sent.
func (e Env) Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		if e.GUI != nil {
			return e.GUI(ctx, stderr)
		}
		e.usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		e.usage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "netscanner: unknown command %s (try: netscanner help)\n", quoteInput(args[0]))
	return exitUsage
}

// command is one subcommand.
type command struct {
	name  string
	usage string // its line in the overview, after "netscanner "
	about string // what it does, for the overview
	run   func(ctx context.Context, e Env, args []string, stdout, stderr io.Writer) int
}

// commands lists the subcommands, in the order the overview shows them.
func commands() []command {
	return []command{
		{"scan", "scan [flags] [TARGET...]", "sweep targets (default: this machine's networks)", runScanCmd},
		{"ping", "ping [flags] HOST...", "ping hosts by the best method this machine allows", runPingCmd},
		{"doctor", "doctor [--json]", "say which ping methods work here and how to enable the others", runDoctorCmd},
		{"history", "history [flags] [DEVICE]", "when a device was here and how fast it answered (from the history)", runHistoryCmd},
		{"devices", "devices [--json]", "the devices the history knows, with label and first and last seen", runDevicesCmd},
		{"watch", "watch [flags] [TARGET...]", "scan every few minutes, record the history, say who joins and leaves", runWatchCmd},
	}
}

// usage prints the overview of the commands.
func (e Env) usage(w io.Writer) {
	fmt.Fprint(w, "Netscanner finds the devices on your network.\n\nUsage:\n")
	if e.GUI != nil {
		fmt.Fprintf(w, "  %-26s %s\n", "netscanner", "open the app")
	}
	for _, c := range commands() {
		line := "netscanner " + c.usage
		if len(line) > 26 {
			fmt.Fprintf(w, "  %s\n  %-26s %s\n", line, "", c.about)
			continue
		}
		fmt.Fprintf(w, "  %-26s %s\n", line, c.about)
	}
	fmt.Fprint(w, "\nRun 'netscanner COMMAND -h' for a command's flags.\n")
}

// open is e.Open, or probe.Open.
func (e Env) open(ctx context.Context, opt probe.Options) (probe.Conn, *probe.Report, error) {
	if e.Open != nil {
		return e.Open(ctx, opt)
	}
	return probe.Open(ctx, opt)
}
