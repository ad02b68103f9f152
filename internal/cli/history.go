package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"netscanner/internal/store"
)

// maxSince bounds --since: ten years is further back than any history
// reaches.
const maxSince = 10 * 365 * 24 * time.Hour

// runHistoryCmd is `netscanner history [DEVICE]`: a device's presence
// periods and round-trip summary, or without DEVICE one summary line per
// known device.
func runHistoryCmd(ctx context.Context, _ Env, args []string, stdout, stderr io.Writer) int {
	var (
		asJSON bool
		db     string
		since  string
	)
	fs := newCmdFlags("history", "history [--since D] [--json] [--db PATH] [DEVICE]",
		"Show when a device was on the network and how fast it answered: its periods of\n"+
			"presence and absence and a round-trip summary. DEVICE is a MAC, an address, a\n"+
			"label or a name (netscanner devices lists them); without it, one line per device.")
	fs.BoolVar(&asJSON, "json", false, "print JSON: one object for DEVICE, else one per device")
	fs.StringVar(&db, "db", "", dbFlagHelp)
	fs.StringVar(&since, "since", "7d", "how far back to look: a duration such as 36h or 30d (at most 3650d)")
	if err := fs.parse(args, stderr); err != nil {
		return parseFailed(stderr, "history", err)
	}
	window, err := parseSince(since)
	if err != nil {
		return parseFailed(stderr, "history", err)
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "netscanner history: %s\n", clip(fmt.Sprintf("one device at a time, got %d (%q, %q, ...)", fs.NArg(), fs.Arg(0), fs.Arg(1))))
		return exitUsage
	}
	s, code := openHistory(ctx, "history", db, store.ModeRead, stderr)
	if s == nil {
		return code
	}
	defer s.Close()
	to := time.Now().Add(time.Minute) // a scan recorded this minute is in
	from := to.Add(-window)
	h := historyOutput{s: s, from: from, to: to, stdout: stdout, stderr: stderr}
	if fs.NArg() == 0 {
		err = h.all(ctx, asJSON)
	} else {
		d, ferr := s.Find(ctx, fs.Arg(0))
		var ae *store.AmbiguousError
		if errors.Is(ferr, store.ErrNotFound) || errors.As(ferr, &ae) {
			fmt.Fprintf(stderr, "netscanner history: %s\n", clip(ferr.Error()))
			return exitUsage
		}
		if ferr != nil {
			err = ferr
		} else {
			err = h.one(ctx, &d, asJSON)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "netscanner history: %s\n", clip(err.Error()))
		return exitFail
	}
	return exitOK
}

// parseSince reads --since: a Go duration, or a whole number of days
// ("30d").
func parseSince(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, usagef("--since %s: want a duration such as 36h or a number of days such as 30d", quoteInput(s))
		}
		d = time.Duration(min(n, int(maxSince/(24*time.Hour))+1)) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, usagef("--since %s: want a duration such as 36h or a number of days such as 30d", quoteInput(s))
		}
	}
	if d < time.Minute || d > maxSince {
		return 0, usagef("--since %s: want at least 1m and at most %dd", quoteInput(s), int(maxSince/(24*time.Hour)))
	}
	return d, nil
}

// historyOutput prints history over [from, to).
type historyOutput struct {
	s        *store.Store
	from, to time.Time
	stdout   io.Writer
	stderr   io.Writer
}

// periodJSON is one presence period in `history --json`.
type periodJSON struct {
	Start   string `json:"start"`
	End     string `json:"end"`
	Present bool   `json:"present"`
	Scans   int    `json:"scans"`
}

// rttJSON is a round-trip summary in `history --json`; the times are in
// milliseconds and absent when no answer had a round trip.
type rttJSON struct {
	Scans    int      `json:"scans"`
	Present  int      `json:"present"`
	Samples  int      `json:"samples"`
	MinMS    *float64 `json:"min_ms"`
	MedianMS *float64 `json:"median_ms"`
	P95MS    *float64 `json:"p95_ms"`
	MaxMS    *float64 `json:"max_ms"`
	MeanMS   *float64 `json:"mean_ms"`
}

func newRTTJSON(r store.RTTSummary) rttJSON {
	out := rttJSON{Scans: r.Scans, Present: r.Present, Samples: r.Samples}
	if r.Samples > 0 {
		v := func(d time.Duration) *float64 { f := histMS(d); return &f }
		out.MinMS, out.MedianMS, out.P95MS, out.MaxMS, out.MeanMS = v(r.Min), v(r.Median), v(r.P95), v(r.Max), v(r.Mean)
	}
	return out
}

// historyJSON is `history DEVICE --json`, or one line of `history
// --json` (without periods).
type historyJSON struct {
	Device  deviceJSON    `json:"device"`
	From    string        `json:"from"`
	To      string        `json:"to"`
	Periods *[]periodJSON `json:"periods,omitempty"`
	RTT     rttJSON       `json:"rtt"`
}

// one prints one device's periods and summary.
func (h *historyOutput) one(ctx context.Context, d *store.Device, asJSON bool) error {
	periods, err := h.s.Periods(ctx, d.ID, h.from, h.to, store.AutoGap)
	if err != nil {
		return err
	}
	sum, err := h.s.RTTSummary(ctx, d.ID, h.from, h.to)
	if err != nil {
		return err
	}
	if asJSON {
		ps := make([]periodJSON, len(periods))
		for i, p := range periods {
			ps[i] = periodJSON{Start: histTimeJSON(p.Start), End: histTimeJSON(p.End), Present: p.Present, Scans: p.Scans}
		}
		enc := json.NewEncoder(h.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(historyJSON{Device: newDeviceJSON(d), From: histTimeJSON(h.from), To: histTimeJSON(h.to), Periods: &ps, RTT: newRTTJSON(sum)})
	}
	w := h.stdout
	fmt.Fprintf(w, "%s\n", describeDevice(d))
	fmt.Fprintf(w, "first seen %s, last seen %s\n", histTime(d.FirstSeen), histTime(d.LastSeen))
	if len(periods) == 0 {
		fmt.Fprintf(w, "no scan covered it since %s\n", histTime(h.from))
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range periods {
		state := "away"
		if p.Present {
			state = "here"
		}
		span := histTime(p.Start)
		if !p.End.Equal(p.Start) {
			span += " - " + histTime(p.End)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", state, span, histPlural(p.Scans, "scan"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, describeRTT(sum))
	return nil
}

// all prints one summary line per known device.
func (h *historyOutput) all(ctx context.Context, asJSON bool) error {
	devs, err := h.s.Devices(ctx)
	if err != nil {
		return err
	}
	if len(devs) == 0 && !asJSON {
		fmt.Fprintf(h.stderr, "netscanner history: no devices in %s yet\n", h.s.Path())
		return nil
	}
	enc := json.NewEncoder(h.stdout)
	tw := tabwriter.NewWriter(h.stdout, 0, 0, 2, ' ', 0)
	if !asJSON && len(devs) > 0 {
		fmt.Fprintln(tw, "DEVICE\tMAC\tSCANS\tHERE\tMEDIAN RTT\tLAST SEEN")
	}
	for i := range devs {
		d := &devs[i]
		sum, err := h.s.RTTSummary(ctx, d.ID, h.from, h.to)
		if err != nil {
			return err
		}
		if asJSON {
			if err := enc.Encode(historyJSON{Device: newDeviceJSON(d), From: histTimeJSON(h.from), To: histTimeJSON(h.to), RTT: newRTTJSON(sum)}); err != nil {
				return err
			}
			continue
		}
		here, median := "-", "-"
		if sum.Scans > 0 {
			here = fmt.Sprintf("%d%%", sum.Present*100/sum.Scans)
		}
		if sum.Samples > 0 {
			median = histRTT(sum.Median)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", histCell(d.Title()), histCell(d.MAC), sum.Scans, here, median, histTime(d.LastSeen))
	}
	return tw.Flush()
}

// describeDevice names a device with what identifies it:
// "Kitchen Pi (raspberrypi.local, b8:27:eb:00:00:0a, 198.18.100.10)".
func describeDevice(d *store.Device) string {
	var ids []string
	if n := deviceName(d); n != "" && n != d.Title() {
		ids = append(ids, n)
	}
	for _, s := range []string{d.MAC, d.Addr} {
		if s != "" && s != d.Title() {
			ids = append(ids, s)
		}
	}
	if len(d.MACs) > 1 {
		ids = append(ids, fmt.Sprintf("also seen as %s", strings.Join(d.MACs[1:], ", ")))
	}
	if len(ids) == 0 {
		return clip(d.Title())
	}
	return clip(fmt.Sprintf("%s (%s)", d.Title(), strings.Join(ids, ", ")))
}

// describeRTT sums up round trips in one line.
func describeRTT(r store.RTTSummary) string {
	if r.Scans == 0 {
		return "round trip: no scans"
	}
	line := fmt.Sprintf("round trip: here in %d of %s (%d%%)", r.Present, histPlural(r.Scans, "scan"), r.Present*100/r.Scans)
	if r.Samples == 0 {
		return line + "; no round trips measured"
	}
	return fmt.Sprintf("%s; median %s, 95%% within %s, min %s, max %s", line,
		histRTT(r.Median), histRTT(r.P95), histRTT(r.Min), histRTT(r.Max))
}

// histRTT prints a round trip to three significant digits or so.
func histRTT(d time.Duration) string {
	ms := float64(d.Microseconds()) / 1000
	switch {
	case ms < 10:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

func histPlural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
