// Netscanner finds every device on your network: address, name, maker and
// how fast it answers. Run without arguments it opens the app; the
// subcommands are its headless command-line interface.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes, as documented in the README.
const (
	exitOK    = 0 // success
	exitFail  = 1 // nothing answered, or a runtime failure
	exitUsage = 2 // bad usage or bad input
)

// run dispatches to a subcommand and returns the process's exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return runGUI(ctx, stderr)
	}
	switch args[0] {
	case "ping":
		return cmdPing(ctx, args[1:], stdout, stderr)
	case "doctor":
		return cmdDoctor(ctx, args[1:], stdout, stderr)
	case "scan":
		return cmdScan(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "netscanner: unknown command %s (try: netscanner help)\n", quoteInput(args[0]))
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Netscanner finds the devices on your network.

Usage:
  netscanner                 open the app
  netscanner scan [flags] [TARGET...]
                             sweep targets (default: this machine's networks)
  netscanner ping [flags] HOST...
                             ping hosts by the best method this machine allows
  netscanner doctor          say which ping methods work here and how to enable the others

Run 'netscanner COMMAND -h' for a command's flags.
`)
}
