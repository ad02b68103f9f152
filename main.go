// Netscanner finds every device on your network: address, name, maker and
// how fast it answers. Built as usual (-tags migrated_fynedo) it is the
// app: run without arguments it opens the window. Built with -tags nogui
// it is netscanner-cli, the static headless binary. Both run the same
// subcommands, those of package internal/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"netscanner/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	args := os.Args[1:]
	if len(args) > 0 {
		commandLine() // a subcommand, not the window
	}
	code := cli.Env{GUI: gui()}.Run(ctx, args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
