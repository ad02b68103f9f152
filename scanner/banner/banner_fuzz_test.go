package banner

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// shown checks what every parser promises of a string it keeps.
func shown(t *testing.T, what, s string, max int) {
	t.Helper()
	if !utf8.ValidString(s) || len(s) > max || strings.TrimSpace(s) != s {
		t.Fatalf("%s %q: invalid, too long or untrimmed", what, s)
	}
	for _, r := range s {
		if r != ' ' && (unicode.IsSpace(r) || !unicode.IsPrint(r)) {
			t.Fatalf("%s %q: holds %U", what, s, r)
		}
	}
}

func FuzzParseTitle(f *testing.F) {
	for _, s := range []string{
		"<title>Home Assistant</title>",
		"<title>unclosed",
		"<script><title>x</title></script><title>y</title>",
		"<meta charset=iso-8859-1><title>\xe9t\xe9</title>",
		"<title>&amp;&#0;&#x1b;&#xD800;&nbsp</title>",
		"<<<title<title>>a</title>",
		"<svg><foreignObject><title>a</title></svg>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, page []byte) {
		shown(t, "title", ParseTitle(page), MaxTitleLen)
	})
}

func FuzzParseSSH(f *testing.F) {
	for _, s := range []string{
		"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n",
		"SSH-1.99-Cisco-1.25",
		"SSH-2.0-\r\n",
		"SSH--x",
		"SSH-2.0-a\x00b c\x1bd",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		s, err := ParseSSH(line)
		if err != nil {
			if !errors.Is(err, ErrNotSSH) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		shown(t, "line", s.Line, MaxSSHLine)
		if s.Proto == "" || s.Software == "" || !strings.HasPrefix(s.Line, "SSH-"+s.Proto+"-"+s.Software) {
			t.Fatalf("parts %+v", s)
		}
	})
}

// FuzzReadSSHLine feeds whole server streams to the line reader.
func FuzzReadSSHLine(f *testing.F) {
	f.Add([]byte("hello\r\nSSH-2.0-x\r\n"))
	f.Add([]byte(strings.Repeat("a", 300) + "\nSSH-2.0-y"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		line, err := readSSHLine(bytes.NewReader(stream))
		if err == nil && (!bytes.HasPrefix(line, []byte("SSH-")) || len(line) > MaxSSHLine) {
			t.Fatalf("line %q", line)
		}
	})
}

// FuzzReadResponse feeds whole server answers to the HTTP reader.
func FuzzReadResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 20\r\n\r\n<title>t</title>"))
	f.Add([]byte("HTTP/1.1 302 Found\r\nLocation: /a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 200\r\n\r\n"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		res, err := readResponse(bufio.NewReader(bytes.NewReader(stream)), 4096)
		if err != nil {
			if !errors.Is(err, ErrNotHTTP) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(res.body) > 4096 {
			t.Fatalf("body of %d bytes", len(res.body))
		}
		shown(t, "title", ParseTitle(res.body), MaxTitleLen)
		shown(t, "server", Clean(res.server, MaxHeaderLen), MaxHeaderLen)
	})
}
