//go:build !linux

package scanner

// netFollower follows a caller's network namespace; only Linux has them,
// so elsewhere it is always nil and do calls fn as is.
type netFollower struct{}

func followCallerNet() (*netFollower, error) { return nil, nil }

func (f *netFollower) do(fn func()) error {
	fn()
	return nil
}

func (f *netFollower) close() {}
