package main

import (
	"context"
	"io"

	"netscanner/app"
)

// runGUI opens the app on this machine's network and returns when its
// window is closed or ctx ends.
func runGUI(ctx context.Context, stderr io.Writer) int {
	return app.Run(ctx, app.NewSystemBackend(), stderr)
}
