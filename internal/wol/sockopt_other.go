//go:build !unix

package wol

// setBroadcast is a no-op where the socket option is not reachable this
// way; sending to a broadcast address may then fail with an error.
func setBroadcast(uintptr) error { return nil }
