package main

import (
	"io"

	"netscanner/app"
)

// runGUI opens the app on this machine's network and returns when its
// window is closed.
func runGUI(stderr io.Writer) int {
	return app.Run(app.NewSystemBackend(), stderr)
}
