package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"netscanner/probe"
)

// runDoctorCmd is `netscanner doctor`: which ping methods work here,
// which one would be used, and how to enable the others.
func runDoctorCmd(ctx context.Context, _ Env, args []string, stdout, stderr io.Writer) int {
	var asJSON bool
	fs := newCmdFlags("doctor", "doctor [--json]", "Say which ping methods work here and how to enable the others.")
	fs.BoolVar(&asJSON, "json", false, "print the verdicts as one JSON object")
	if err := fs.parse(args, stderr); err != nil {
		return parseFailed(stderr, "doctor", err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "netscanner doctor: %s\n", clip(fmt.Sprintf("unexpected argument %q (doctor takes no hosts)", fs.Arg(0))))
		return exitUsage
	}

	r := probe.Diagnose(ctx, probe.Options{})
	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "netscanner doctor: %v\n", ctx.Err())
		return exitFail
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(newDoctorJSON(r)); err != nil {
			fmt.Fprintf(stderr, "netscanner doctor: %v\n", err)
			return exitFail
		}
	} else {
		fmt.Fprint(stdout, r.String())
		var v6 []string
		for _, st := range r.Methods {
			if st.IPv6 {
				v6 = append(v6, string(st.Method))
			}
		}
		fmt.Fprintf(stdout, "IPv6 works with: %s\n", orNone(strings.Join(v6, ", ")))
		fmt.Fprint(stdout, describeFacts(r.Facts))
	}
	if r.Chosen == "" {
		return exitFail
	}
	return exitOK
}

// describeFacts renders what the verdicts were based on.
func describeFacts(f probe.Facts) string {
	var b strings.Builder
	b.WriteString("based on:\n")
	groups := make([]string, len(f.Groups))
	for i, g := range f.Groups {
		groups[i] = strconv.Itoa(g)
	}
	fmt.Fprintf(&b, "  user      uid %d, euid %d, egid %d, groups %s\n", f.UID, f.EUID, f.EGID, orNone(strings.Join(groups, ",")))
	if f.RangeErr != nil {
		fmt.Fprintf(&b, "  net.ipv4.ping_group_range  unknown: %v\n", f.RangeErr)
	} else {
		fmt.Fprintf(&b, "  net.ipv4.ping_group_range  %d %d\n", f.PingGroupRange[0], f.PingGroupRange[1])
	}
	fmt.Fprintf(&b, "  CAP_NET_RAW  effective %s, bounding set %s; no_new_privs %s\n",
		yesNo(f.CapNetRaw), yesNo(f.CapNetRawBounding), yesNo(f.NoNewPrivs))
	switch {
	case f.PingPath == "":
		b.WriteString("  ping      not found\n")
	default:
		var how []string
		if f.PingSetuid {
			how = append(how, "setuid root")
		}
		if f.PingCapRaw {
			how = append(how, "cap_net_raw")
		}
		fmt.Fprintf(&b, "  ping      %s (%s)\n", f.PingPath, orNone(strings.Join(how, ", ")))
	}
	return b.String()
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// doctorJSON is the --json shape of a Report.
type doctorJSON struct {
	Chosen  string             `json:"chosen"` // empty when nothing works
	Methods []doctorMethodJSON `json:"methods"`
	Facts   doctorFactsJSON    `json:"facts"`
}

type doctorMethodJSON struct {
	Method string `json:"method"`
	OK     bool   `json:"ok"`
	IPv6   bool   `json:"ipv6"`
	Reason string `json:"reason"`
	Fix    string `json:"fix,omitempty"`
}

type doctorFactsJSON struct {
	UID               int       `json:"uid"`
	EUID              int       `json:"euid"`
	EGID              int       `json:"egid"`
	Groups            []int     `json:"groups"`
	PingGroupRange    *[2]int64 `json:"ping_group_range"` // null when unreadable
	RangeError        string    `json:"ping_group_range_error,omitempty"`
	CapNetRaw         bool      `json:"cap_net_raw"`
	CapNetRawBounding bool      `json:"cap_net_raw_bounding"`
	NoNewPrivs        bool      `json:"no_new_privs"`
	PingPath          string    `json:"ping_path"`
	PingSetuid        bool      `json:"ping_setuid"`
	PingCapNetRaw     bool      `json:"ping_cap_net_raw"`
}

func newDoctorJSON(r *probe.Report) doctorJSON {
	f := r.Facts
	d := doctorJSON{
		Chosen: string(r.Chosen),
		Facts: doctorFactsJSON{
			UID: f.UID, EUID: f.EUID, EGID: f.EGID, Groups: append([]int{}, f.Groups...),
			CapNetRaw: f.CapNetRaw, CapNetRawBounding: f.CapNetRawBounding, NoNewPrivs: f.NoNewPrivs,
			PingPath: f.PingPath, PingSetuid: f.PingSetuid, PingCapNetRaw: f.PingCapRaw,
		},
	}
	if f.RangeErr != nil {
		d.Facts.RangeError = f.RangeErr.Error()
	} else {
		rng := f.PingGroupRange
		d.Facts.PingGroupRange = &rng
	}
	for _, s := range r.Methods {
		d.Methods = append(d.Methods, doctorMethodJSON{
			Method: string(s.Method), OK: s.OK, IPv6: s.IPv6, Reason: s.Reason, Fix: s.Fix,
		})
	}
	return d
}
