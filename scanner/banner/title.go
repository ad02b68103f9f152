package banner

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// ParseTitle returns the text of the first <title> element of an HTML
// page, cleaned (see Clean) and cut to MaxTitleLen; "" if the page has
// none. It reads the page as a browser's tokenizer does, so comments,
// scripts and attributes that merely contain "<title>" are not taken for
// one, entities are decoded, and any byte sequence, however broken, gives
// an answer rather than an error. A page that is not UTF-8 but declares
// a Latin-1 charset (as old embedded web servers do) is read as Latin-1.
func ParseTitle(page []byte) string {
	latin1 := !utf8.Valid(page) && declaresLatin1(page)
	z := html.NewTokenizer(bytes.NewReader(page))
	z.SetMaxBuf(len(page) + 1)
	var (
		in    bool
		title strings.Builder
	)
	for {
		switch z.Next() {
		case html.ErrorToken:
			// End of input inside an unclosed <title>: what was read is
			// the title, as a browser shows it.
			return finishTitle(title.String(), latin1)
		case html.StartTagToken:
			name, _ := z.TagName()
			if string(name) == "title" && !in {
				in = true
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if in && string(name) == "title" {
				return finishTitle(title.String(), latin1)
			}
		case html.TextToken:
			if in && title.Len() < 4*MaxTitleLen {
				title.Write(z.Text())
			}
		}
	}
}

func finishTitle(s string, latin1 bool) string {
	if latin1 {
		s = fromLatin1(s)
	}
	return Clean(s, MaxTitleLen)
}

// declaresLatin1 reports whether the head of a page names a Latin-1
// charset (ISO 8859-1 or its Windows superset) in a meta tag.
func declaresLatin1(page []byte) bool {
	head := bytes.ToLower(page[:min(len(page), 2048)])
	for _, cs := range []string{"iso-8859-1", "iso8859-1", "latin1", "windows-1252"} {
		if bytes.Contains(head, []byte("charset="+cs)) || bytes.Contains(head, []byte("charset=\""+cs)) {
			return true
		}
	}
	return false
}

// fromLatin1 reads the bytes that are not valid UTF-8 in s as Latin-1
// characters. The tokenizer has already decoded entities into UTF-8, so
// valid sequences are kept as they are.
func fromLatin1(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(rune(s[i]))
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
