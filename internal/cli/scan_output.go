package cli

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"netscanner/internal/watch"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"netscanner/internal/devices"
	"netscanner/scanner"
	"netscanner/scanner/identify"
	"netscanner/scanner/oui"
	"netscanner/scanner/targets"
)

// scanOutput prints a scan's events: live hosts on stdout, as a table or
// as JSON lines as they answer, or as the app's CSV export once the scan
// is over; and a progress bar on stderr when stderr is a terminal. Scan
// calls emit from one goroutine, so it needs no lock.
//
// With enrichment, a host is printed once its enrichment is over (the
// HostUpdated with Enriched set, usually within a second of its answer),
// so that every row and JSON line is the whole story of one host.
type scanOutput struct {
	stdout   io.Writer
	json     *json.Encoder  // --format json; nil otherwise
	csv      *devices.Model // --format csv: the hosts, folded as the app folds them, for close
	bar      *progressbar.ProgressBar
	ipWidth  int
	header   bool // the table's header is out
	enriched bool // print hosts when enriched, not when found
}

func newScanOutput(stdout, stderr io.Writer, format string, targets *targets.Set) *scanOutput {
	o := &scanOutput{stdout: stdout, ipWidth: len("255.255.255.255")}
	switch format {
	case formatJSON:
		o.json = json.NewEncoder(stdout)
	case formatCSV:
		o.csv = devices.NewModel()
	}
	// Targets sort IPv4 first, so the last range tells whether any IPv6
	// address is in the scan.
	if rs := targets.Ranges(); len(rs) > 0 && rs[len(rs)-1].Last.Is6() {
		o.ipWidth = len("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")
	}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		o.bar = progressbar.NewOptions(targets.Len(),
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("scanning"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
		)
	}
	return o
}

func (o *scanOutput) emit(e scanner.Event) {
	switch e.Kind {
	case scanner.HostFound, scanner.HostUpdated:
		// Without enrichment a host is whole when found; with it, when
		// its last update says so.
		if whole := e.Host.Enriched || e.Kind == scanner.HostFound && !o.enriched; !whole {
			return
		}
		if o.bar != nil {
			_ = o.bar.Clear() // the row goes where the bar was; the bar comes back
		}
		o.host(e.Host)
	case scanner.Progress:
		if o.bar != nil {
			_ = o.bar.Set(e.Done)
		}
	}
}

// host prints one live host. Write errors (a closed pipe) are ignored:
// the scan's result is in the exit code either way.
func (o *scanOutput) host(h scanner.Host) {
	if o.csv != nil {
		o.csv.Apply([]scanner.Event{{Kind: scanner.HostUpdated, Host: h}})
		return
	}
	if o.json != nil {
		_ = o.json.Encode(watch.NewHostJSON(h, true))
		return
	}
	if !o.header {
		head := fmt.Sprintf("%-*s  %10s  %4s  %-10s", o.ipWidth, "IP", "RTT", "TTL", "REASON")
		if o.enriched {
			head += fmt.Sprintf("  %-17s  %-*s  %-*s  %-*s  %-*s  %s", "MAC", vendorWidth, "VENDOR", kindWidth, "KIND",
				modelWidth, "MODEL/NAME", nameWidth, "NAME", "PORTS")
		}
		fmt.Fprintln(o.stdout, strings.TrimRight(head, " "))
		o.header = true
	}
	ttl := "-"
	if h.TTL > 0 {
		ttl = fmt.Sprint(h.TTL)
	}
	rtt := formatMs(millis(h.RTT))
	if h.RTT <= 0 {
		rtt = "-" // found without an answer to time, as by the neighbour table
	}
	line := fmt.Sprintf("%-*s  %7s ms  %4s  %-10s", o.ipWidth, h.Addr, rtt, ttl, reasonLabel(h))
	if !o.enriched {
		if h.Hostname != "" {
			line += "  " + h.Hostname
		}
		fmt.Fprintln(o.stdout, strings.TrimRight(line, " "))
		return
	}
	mac := "-"
	if h.MAC != nil {
		mac = h.MAC.String()
	}
	var ports []string
	for _, p := range h.Ports {
		ports = append(ports, portLabel(p))
	}
	kind := "-"
	if h.Identity.Kind != identify.KindUnknown {
		kind = h.Identity.Kind.Label()
	}
	line += fmt.Sprintf("  %-17s  %-*s  %-*s  %-*s  %-*s  %s", mac, vendorWidth, cell(h.Vendor, vendorWidth),
		kindWidth, cell(kind, kindWidth), modelWidth, cell(modelName(h.Identity), modelWidth),
		nameWidth, cell(h.Hostname, nameWidth), orDash(strings.Join(ports, ",")))
	var marks []string
	if h.Self {
		marks = append(marks, "this machine")
	}
	if h.Gateway {
		marks = append(marks, "gateway")
	}
	if h.Note != "" {
		marks = append(marks, h.Note)
	}
	if len(marks) > 0 {
		line += "  [" + strings.Join(marks, "; ") + "]"
	}
	fmt.Fprintln(o.stdout, line)
}

// Widths of the table's text columns; longer text is cut with an
// ellipsis (the JSON has it whole).
const (
	vendorWidth = len(oui.PrivateName)
	nameWidth   = 24
	kindWidth   = len("streaming stick")
	modelWidth  = 36
)

// modelName is the MODEL/NAME cell: "Living Room TV — Chromecast
// Ultra", or whichever of the two is known.
func modelName(id identify.Identity) string {
	fn, model := strings.ToLower(id.FriendlyName), strings.ToLower(id.Model)
	switch {
	case fn == "" || strings.Contains(fn, model):
		return cmp.Or(id.FriendlyName, id.Model)
	case model == "" || strings.Contains(model, fn):
		return cmp.Or(id.Model, id.FriendlyName)
	}
	return id.FriendlyName + " — " + id.Model
}

// cell fits s into width runes, "-" when empty.
func cell(s string, width int) string {
	if s == "" {
		return "-"
	}
	if r := []rune(s); len(r) > width {
		return string(r[:width-1]) + "…"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// portLabel is 22/ssh, or 8000 for a port without a known service.
func portLabel(p scanner.Port) string {
	if p.Service == "" {
		return strconv.Itoa(int(p.Number))
	}
	return fmt.Sprintf("%d/%s", p.Number, p.Service)
}

// linkLocalWidth is the width of the longest link-local address with a
// zone this machine can have: fe80:: and four groups, then an interface
// name.
func linkLocalWidth() int {
	longest := 0
	if ifs, err := net.Interfaces(); err == nil {
		for _, ifc := range ifs {
			longest = max(longest, len(ifc.Name))
		}
	}
	return len("fe80::ffff:ffff:ffff:ffff%") + longest
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// close ends the output: the progress bar goes, and the CSV, if that is
// the format, is written.
func (o *scanOutput) close() error {
	if o.bar != nil {
		_ = o.bar.Finish()
	}
	if o.csv != nil {
		return devices.WriteCSV(o.stdout, o.csv.Hosts())
	}
	return nil
}

// millis is d in milliseconds, to the microsecond.
func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// reasonLabel is a host's reason as the table shows it: the neighbour
// table's evidence by the protocol that resolved the address, "arp" for
// IPv4 and "ndp" (neighbour discovery) for IPv6.
func reasonLabel(h scanner.Host) string {
	if h.Reason != scanner.ReasonNeighbour {
		return string(h.Reason)
	}
	if h.Addr.Unmap().Is4() {
		return "arp"
	}
	return "ndp"
}
