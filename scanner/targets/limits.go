package targets

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// The one set of limits on what a user may ask a scan for. The command
// line, the app's settings and the engine all check against these, so the
// same input is refused, with the same words, wherever it is typed.
const (
	// DefaultMaxHosts is the largest target set scanned without being
	// asked for more: a /16.
	DefaultMaxHosts = 65536
	// MaxMaxHosts bounds MaxHosts itself: a /8.
	MaxMaxHosts = 1 << 24
	// MaxPorts bounds the TCP ports tried on each host: a scan is for
	// finding devices, and a thousand connects per host is already a
	// port scan.
	MaxPorts = 1024
	// MaxRetries bounds the extra requests a silent host gets.
	MaxRetries = 10
	// MaxTimeout bounds the wait for a host after its last request, and
	// the gap between its requests.
	MaxTimeout = time.Minute
	// MinRetryInterval is the shortest gap between requests to one host.
	MinRetryInterval = time.Millisecond
	// MaxRate is the most requests per second any scan sends.
	MaxRate = 1_000_000
	// FastRate is the most requests per second sent without the user
	// saying the network can take it (--i-know-rate).
	FastRate = 100_000
	// LocalRate is the most requests per second a scan of this machine's
	// own networks (no targets given: most often a Wi-Fi access point
	// shared with others) sends without the user saying the network can
	// take it.
	LocalRate = 10_000
)

// Limits on target input that no honest target list reaches.
const (
	maxNameLen     = 253  // longest DNS name, without its trailing dot
	maxNames       = 1024 // distinct host names in one call
	lookupParallel = 8    // host name lookups in flight at once
	maxV6PrefixLen = 112  // widest IPv6 prefix: 65,536 addresses
	maxZoneLen     = 15   // IFNAMSIZ less its NUL
)

// CheckTimeout refuses a scan timeout outside (0, MaxTimeout].
func CheckTimeout(d time.Duration) error {
	if d <= 0 || d > MaxTimeout {
		return fmt.Errorf("timeout %v: want more than 0 and at most %v", d, MaxTimeout)
	}
	return nil
}

// CheckRetries refuses a retry count outside [0, MaxRetries].
func CheckRetries(n int) error {
	if n < 0 || n > MaxRetries {
		return fmt.Errorf("retries %d: want 0 to %d", n, MaxRetries)
	}
	return nil
}

// CheckRetryInterval refuses a gap between requests outside
// [MinRetryInterval, MaxTimeout].
func CheckRetryInterval(d time.Duration) error {
	if d < MinRetryInterval || d > MaxTimeout {
		return fmt.Errorf("retry-interval %v: want %v to %v", d, MinRetryInterval, MaxTimeout)
	}
	return nil
}

// CheckRate refuses a rate that is not a number of requests per second
// above 0 and at most MaxRate, or that is above FastRate unless fast is
// set (the user said the network can take it: the command line's
// --i-know-rate, which its message then names).
func CheckRate(rate float64, fast bool) error {
	switch {
	case !(rate > 0) || rate > MaxRate || math.IsInf(rate, 0): // !(> 0) also catches NaN
		return fmt.Errorf("rate %v: want more than 0 and at most %d requests per second", rate, MaxRate)
	case rate > FastRate && !fast:
		return fmt.Errorf("rate %v: above %d requests per second floods most networks", rate, FastRate)
	}
	return nil
}

// CheckMaxHosts refuses a MaxHosts outside [1, MaxMaxHosts].
func CheckMaxHosts(n int) error {
	if n < 1 || n > MaxMaxHosts {
		return fmt.Errorf("max-hosts %d: want 1 to %d", n, MaxMaxHosts)
	}
	return nil
}

// Limits on how often a watcher scans: `netscanner watch --interval` and
// the app's Watch switch both keep them.
const (
	// DefaultWatchInterval is the time between a watcher's scans unless
	// the user says otherwise.
	DefaultWatchInterval = 5 * time.Minute
	// MinWatchInterval is the shortest: scanning more often floods the
	// network for no news.
	MinWatchInterval = 10 * time.Second
	// MaxWatchInterval is the longest: a week.
	MaxWatchInterval = 7 * 24 * time.Hour
)

// ErrWatchInterval is wrapped by CheckWatchInterval's errors.
var ErrWatchInterval = errors.New("bad interval")

// CheckWatchInterval refuses an interval between a watcher's scans outside
// [MinWatchInterval, MaxWatchInterval].
func CheckWatchInterval(d time.Duration) error {
	switch {
	case d < MinWatchInterval:
		return fmt.Errorf("%w %v: scanning more often than every %v floods the network for no news; want %v to %v",
			ErrWatchInterval, d, MinWatchInterval, MinWatchInterval, MaxWatchInterval)
	case d > MaxWatchInterval:
		return fmt.Errorf("%w %v: want %v to %v", ErrWatchInterval, d, MinWatchInterval, MaxWatchInterval)
	}
	return nil
}
