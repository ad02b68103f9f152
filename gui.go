//go:build !nogui

package main

import (
	"context"
	"fmt"
	"io"

	"netscanner/app"
	"netscanner/internal/backend"
	"netscanner/internal/fynelocale"
)

// gui is the app's entry: it opens the window on this machine's network
// and returns when the window is closed or ctx ends.
func gui() func(ctx context.Context, stderr io.Writer) int {
	return func(ctx context.Context, stderr io.Writer) int {
		if !fyneDoBuild {
			fmt.Fprintln(stderr, "netscanner: this binary was built without -tags migrated_fynedo and cannot open the app; build it with `make build` (go build -tags migrated_fynedo .), or use `make cli` for the command line alone")
			return 2
		}
		return app.Run(ctx, backend.NewSystemBackend(), stderr)
	}
}

// commandLine prepares a run of a subcommand in the GUI binary: the
// locale workaround of package fynelocale, needed while Fyne initialized,
// is undone.
func commandLine() { fynelocale.Restore() }
