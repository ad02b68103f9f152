package banner

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// maxSSHPreamble bounds what is read before the version line: RFC 4253
// lets a server send other lines first (some print a notice), but a
// server that sends kilobytes of them is not worth reading.
const maxSSHPreamble = 4096

// SSH is an SSH server's identification line, split into its parts
// (RFC 4253, section 4.2: "SSH-protoversion-softwareversion SP
// comments").
type SSH struct {
	// Line is the whole line, cleaned, without its CR LF.
	Line string
	// Proto is the protocol version: "2.0", or "1.99" for a server that
	// also speaks version 1.
	Proto string
	// Software is the server's name and version, as "OpenSSH_9.2p1" or
	// "dropbear_2022.83".
	Software string
	// Comment is what follows the software version, often the
	// distribution's package version ("Debian-2+deb12u3"); "" if none.
	Comment string
}

// SSH connects to the SSH server at addr and reads its identification
// line. It sends nothing: a server speaks first.
func (p *Prober) SSH(ctx context.Context, addr netip.AddrPort) (SSH, error) {
	conn, stop, err := p.dial(ctx, addr.String())
	if err != nil {
		return SSH{}, fmt.Errorf("banner: connect %s: %w", addr, err)
	}
	defer stop()
	line, err := readSSHLine(conn)
	if err != nil {
		return SSH{}, fmt.Errorf("banner: %s: %w", addr, err)
	}
	return ParseSSH(line)
}

// readSSHLine returns the first line of r that starts with "SSH-",
// reading at most maxSSHPreamble bytes before it and MaxSSHLine of it.
func readSSHLine(r io.Reader) ([]byte, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, maxSSHPreamble+MaxSSHLine), 512)
	for {
		line, err := readLine(br, MaxSSHLine)
		if bytes.HasPrefix(line, []byte("SSH-")) {
			return line, nil
		}
		if err == io.EOF {
			return nil, fmt.Errorf("%w in the first %d bytes", ErrNotSSH, maxSSHPreamble)
		}
		if err != nil {
			return nil, err
		}
	}
}

// readLine reads up to a LF, keeping at most max bytes of the line. A
// line cut short is returned with ErrTooLarge once its end is read past
// or the input ends.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	long := false
	for {
		b, err := br.ReadByte()
		if err != nil {
			if err == io.EOF {
				if len(line) > 0 && !long {
					// The last line, unterminated: some servers close
					// right after it.
					return line, io.EOF
				}
				err = fmt.Errorf("%w: the server closed first", ErrNotSSH)
			}
			return nil, err
		}
		if b == '\n' {
			if long {
				return nil, fmt.Errorf("%w: a line past %d bytes", ErrTooLarge, max)
			}
			return bytes.TrimSuffix(line, []byte("\r")), nil
		}
		if len(line) < max {
			line = append(line, b)
		} else {
			long = true
		}
	}
}

// ParseSSH splits an SSH identification line ("SSH-2.0-OpenSSH_9.2p1
// Debian-2+deb12u3", with or without its CR LF). A line that does not
// start with "SSH-", or lacks a protocol or software version, is
// ErrNotSSH; one longer than MaxSSHLine is ErrTooLarge.
func ParseSSH(line []byte) (SSH, error) {
	line = bytes.TrimRight(line, "\r\n")
	if len(line) > MaxSSHLine {
		return SSH{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(line))
	}
	s := Clean(string(line), MaxSSHLine)
	rest, ok := strings.CutPrefix(s, "SSH-")
	if !ok {
		return SSH{}, fmt.Errorf("%w: %q", ErrNotSSH, s)
	}
	proto, rest, ok := strings.Cut(rest, "-")
	if !ok || proto == "" || strings.ContainsRune(proto, ' ') {
		return SSH{}, fmt.Errorf("%w: no protocol version in %q", ErrNotSSH, s)
	}
	software, comment, _ := strings.Cut(rest, " ")
	if software == "" {
		return SSH{}, fmt.Errorf("%w: no software version in %q", ErrNotSSH, s)
	}
	return SSH{Line: s, Proto: proto, Software: software, Comment: comment}, nil
}
