// Command historyfill writes generated history into a history database,
// for the screenshots (scripts/screenshots.sh): a week of scans of the
// devices named on stdin, one a line:
//
//	NAME MAC ADDRESS WHEN [RTT_MS]
//
// WHEN is always, day (08:00 to 18:00), evening (17:00 to 08:00),
// left:DURATION (here until DURATION ago: left:3h) or joined:DURATION
// (here from DURATION ago on). Nothing a user runs needs it.
//
//	historyfill --db PATH [--days 7] [--every 15m] < devices
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"netscanner/internal/historygen"
	"netscanner/internal/store"
	"netscanner/scanner"
	"netscanner/scanner/oui"
)

func main() {
	db := flag.String("db", "", "history database to fill")
	days := flag.Int("days", 7, "days of history, up to now")
	every := flag.Duration("every", 15*time.Minute, "time between generated scans")
	flag.Parse()
	if err := run(*db, *days, *every); err != nil {
		fmt.Fprintln(os.Stderr, "historyfill:", err)
		os.Exit(1)
	}
}

func run(db string, days int, every time.Duration) error {
	if db == "" || days < 1 || days > 90 {
		return fmt.Errorf("want --db PATH and --days 1 to 90")
	}
	now := time.Now().Truncate(every)
	var devs []historygen.Device
	sc := bufio.NewScanner(os.Stdin)
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		d, err := parse(f, now)
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		devs = append(devs, d)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	ctx := context.Background()
	st, err := store.Open(ctx, db, store.Options{Mode: store.ModeRecord})
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := historygen.Fill(ctx, st, devs, now.AddDate(0, 0, -days), now, every, 1)
	if err != nil {
		return err
	}
	fmt.Printf("historyfill: %d scans of %d devices into %s\n", n, len(devs), db)
	return nil
}

func parse(f []string, now time.Time) (historygen.Device, error) {
	var d historygen.Device
	if len(f) < 4 || len(f) > 5 {
		return d, fmt.Errorf("want NAME MAC ADDRESS WHEN [RTT_MS], got %q", strings.Join(f, " "))
	}
	mac, err := net.ParseMAC(f[1])
	if err != nil {
		return d, err
	}
	addr, err := netip.ParseAddr(f[2])
	if err != nil {
		return d, err
	}
	d.Host = scanner.Host{Addr: addr, MAC: mac, Hostname: f[0]}
	if m, ok := oui.Default().Lookup(mac); ok {
		d.Host.Vendor = m.Name // as a scan's enrichment names the maker
	}
	d.RTT = 3 * time.Millisecond
	if len(f) == 5 {
		ms, err := strconv.ParseFloat(f[4], 64)
		if err != nil || ms <= 0 || ms > 10000 {
			return d, fmt.Errorf("round trip %q: want milliseconds", f[4])
		}
		d.RTT = time.Duration(ms * float64(time.Millisecond))
	}
	when, arg, _ := strings.Cut(f[3], ":")
	var dur time.Duration
	if arg != "" {
		if dur, err = time.ParseDuration(arg); err != nil {
			return d, err
		}
	}
	switch when {
	case "always":
		d.Here = historygen.Always
	case "day":
		d.Here = historygen.Hours(8, 18, time.Local)
	case "evening":
		d.Here = historygen.Hours(17, 8, time.Local)
	case "left":
		d.Here = historygen.Until(now.Add(-dur))
	case "joined":
		d.Here = historygen.Since(now.Add(-dur))
	default:
		return d, fmt.Errorf("when %q: want always, day, evening, left:D or joined:D", f[3])
	}
	return d, nil
}
