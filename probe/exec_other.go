//go:build !unix

package probe

import "os/exec"

// killGroupOnCancel leaves exec.CommandContext's default, which kills the
// process itself: there are no Unix process groups here.
func killGroupOnCancel(*exec.Cmd) {}
