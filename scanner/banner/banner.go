// Package banner reads what a device's own servers say about it: a web
// page's <title> and Server header, the subject and names of a TLS
// certificate, and an SSH server's version line.
//
// Every probe is one short TCP conversation with one address: a bounded
// read (DefaultMaxBytes), a deadline (DefaultTimeout), no certificate
// verification (a device's self-signed certificate is the norm, and only
// its names are kept), and no redirect away from the address probed. What
// a server sends is outside input: the strings kept are valid UTF-8
// without control characters, cut to a length a user can read.
package banner

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Defaults for a Prober's zero fields.
const (
	// DefaultTimeout bounds one probe of one port, connect included. A
	// LAN device's web server answers in milliseconds; an embedded one
	// that renders its page slowly gets a second and a half.
	DefaultTimeout = 1500 * time.Millisecond
	// DefaultMaxBytes bounds what is read from one port, headers and
	// body together: a router's login page fits, and its <title> is near
	// the top of it.
	DefaultMaxBytes = 64 << 10
)

// Bounds on the strings kept, in bytes.
const (
	// MaxTitleLen caps a page title.
	MaxTitleLen = 256
	// MaxHeaderLen caps a Server header.
	MaxHeaderLen = 256
	// MaxSANs caps the names kept from one certificate.
	MaxSANs = 32
	// MaxNameLen caps one certificate name (subject or SAN): the longest
	// DNS name.
	MaxNameLen = 253
	// MaxSSHLine is the longest SSH identification line (RFC 4253,
	// section 4.2: 255 characters with its CR LF).
	MaxSSHLine = 255
)

// Errors a probe returns; wrapped, so match them with errors.Is.
var (
	// ErrTooLarge: the server sent more than the probe reads before the
	// part it looks for (headers, or an SSH version line) was complete.
	ErrTooLarge = errors.New("banner: answer too large")
	// ErrNotSSH: the server's first lines hold no SSH version line.
	ErrNotSSH = errors.New("banner: no SSH version line")
	// ErrNotHTTP: the server's answer is not an HTTP response.
	ErrNotHTTP = errors.New("banner: not an HTTP response")
)

// DialFunc opens a TCP connection, as net.Dialer.DialContext does.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// Prober probes ports. The zero value is ready to use, with the
// defaults above and the system's dialer. A Prober holds no state between
// probes and is safe for concurrent use.
type Prober struct {
	// Dial opens the connections; nil means a net.Dialer. The scanner
	// passes one that dials from the network namespace it scans.
	Dial DialFunc
	// Timeout bounds one probe of one port; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxBytes bounds what one probe reads; 0 means DefaultMaxBytes.
	MaxBytes int
}

func (p *Prober) timeout() time.Duration {
	if p == nil || p.Timeout <= 0 {
		return DefaultTimeout
	}
	return p.Timeout
}

func (p *Prober) maxBytes() int {
	if p == nil || p.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return p.MaxBytes
}

// dial connects to address with the probe's deadline set on the
// connection, and closes the connection if ctx ends first; stop releases
// that watch and must be called once the connection is done with.
func (p *Prober) dial(ctx context.Context, address string) (conn net.Conn, stop func(), err error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout())
	d := (&net.Dialer{}).DialContext
	if p != nil && p.Dial != nil {
		d = p.Dial
	}
	conn, err = d(ctx, "tcp", address)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	// A cancelled scan must not wait out a slow server's deadline.
	unwatch := context.AfterFunc(ctx, func() { _ = conn.Close() })
	return conn, func() { unwatch(); cancel(); _ = conn.Close() }, nil
}

// Clean makes a string a server sent fit to show and to match: valid
// UTF-8, every control or unprintable character and run of spaces
// turned into one space, trimmed, and cut at a character boundary to at
// most max bytes.
func Clean(s string, max int) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			if b.Len()+1 > max {
				break
			}
			b.WriteByte(' ')
		}
		space = false
		if b.Len()+utf8.RuneLen(r) > max {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}
