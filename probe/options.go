package probe

import "time"

// Options configure Open and the per-method constructors. The zero value is
// ready to use.
type Options struct {
	// Method forces one method; Auto (or empty) lets Open choose.
	Method Method

	// Timeout is how long the exec and tcp methods wait for one answer
	// before giving up silently. Socket methods never time out on their
	// own: the caller decides how long to listen. Default 1s.
	Timeout time.Duration

	// Concurrency bounds the ping processes (exec) or TCP connects (tcp)
	// in flight at once. Default 64.
	Concurrency int

	// PingPath names the ping binary for the exec method. Default: the
	// first of /bin/ping, /usr/bin/ping, then ping on PATH.
	PingPath string

	// TCPPorts are the ports the tcp method connects to. Default
	// DefaultTCPPorts().
	TCPPorts []uint16
}

// DefaultTCPPorts are common services found on home and office devices.
// Any one of them answering, with an accept or a reset, proves a host up.
func DefaultTCPPorts() []uint16 { return []uint16{80, 443, 22, 445, 139, 62078, 8080, 554} }

func (o Options) withDefaults() Options {
	if o.Method == "" {
		o.Method = Auto
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	if len(o.TCPPorts) == 0 {
		o.TCPPorts = DefaultTCPPorts()
	}
	return o
}
