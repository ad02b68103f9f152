//go:build nogui

package main

import (
	"context"
	"io"
)

// gui is nil in the headless build: it has no app, and a command line
// without a command prints the usage.
func gui() func(ctx context.Context, stderr io.Writer) int { return nil }

// commandLine has nothing to prepare in the headless build.
func commandLine() {}
