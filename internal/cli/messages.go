package cli

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxErrorLen bounds an error message printed for bad input. Messages
// quote what the user typed, and a 100 kB argument would otherwise come
// back as a 100 kB "one-line" error.
const maxErrorLen = 240

// clip makes an error message safe to print on one line of a terminal:
// control characters (a newline, or an escape sequence that would repaint
// the screen) are written as Go escapes, and the text is cut to
// maxErrorLen bytes with a note of how long it was.
func clip(msg string) string {
	var b strings.Builder
	for _, r := range msg {
		switch {
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		case unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	s := b.String()
	if len(s) <= maxErrorLen {
		return s
	}
	cut := maxErrorLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes in all)", s[:cut], len(s))
}

// maxQuoted is how much of one input an error message quotes.
const maxQuoted = 64

// quoteInput quotes what the user typed for an error message, cut to
// maxQuoted bytes so that the rest of the message stays readable.
func quoteInput(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes)", strconv.Quote(s[:cut]), len(s))
}
