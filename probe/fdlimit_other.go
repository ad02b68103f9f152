//go:build !unix

package probe

// fdConcurrency returns want: only Unix systems limit descriptors this way.
func fdConcurrency(want, perProbe int) int { return want }
