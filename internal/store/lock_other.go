//go:build !unix

package store

// fileLock is a no-op where flock does not exist: one recorder per
// database is then the user's to keep.
type fileLock struct{}

func lockFile(string) (*fileLock, error) { return &fileLock{}, nil }

func (l *fileLock) release() {}
