package probe

import (
	"fmt"
	"strings"
)

// Report explains which methods work on this machine and which one was
// chosen. It is what `netscanner doctor` prints and what the app shows
// behind its method badge.
type Report struct {
	Chosen  Method         // the method in use; empty if none works
	Forced  bool           // the caller named the method instead of Auto
	Methods []MethodStatus // every method tried, in order
	Facts   Facts          // what the reasoning was based on
}

// MethodStatus is one method's verdict.
type MethodStatus struct {
	Method Method
	OK     bool   // the method works here
	IPv6   bool   // it also works for IPv6
	Reason string // why it works or not, in plain words
	Fix    string // a command or step that would enable it; empty if none or OK
}

// Status returns the verdict for m, or false if m was not tried.
func (r *Report) Status(m Method) (MethodStatus, bool) {
	for _, s := range r.Methods {
		if s.Method == m {
			return s, true
		}
	}
	return MethodStatus{}, false
}

// String renders the report for a terminal.
func (r *Report) String() string {
	var b strings.Builder
	if r.Chosen != "" {
		fmt.Fprintf(&b, "using: %s\n", r.Chosen)
	} else {
		b.WriteString("using: nothing works\n")
	}
	for _, s := range r.Methods {
		mark := "no "
		if s.OK {
			mark = "yes"
		}
		fmt.Fprintf(&b, "  %-5s %s  %s\n", s.Method, mark, s.Reason)
		if s.Fix != "" {
			fmt.Fprintf(&b, "              enable with: %s\n", s.Fix)
		}
	}
	return b.String()
}
