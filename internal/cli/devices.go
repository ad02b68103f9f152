package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"netscanner/internal/store"
)

// runDevicesCmd is `netscanner devices`: every device the history knows,
// most recently seen first, with its label and first and last seen.
func runDevicesCmd(ctx context.Context, _ Env, args []string, stdout, stderr io.Writer) int {
	var (
		asJSON bool
		db     string
	)
	fs := newCmdFlags("devices", "devices [--json] [--db PATH]",
		"List the devices Netscanner knows (from netscanner watch and the app's scans):\n"+
			"label, name, MAC, last address, first and last seen, and whether the last scan found them.")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object per device")
	fs.StringVar(&db, "db", "", dbFlagHelp)
	if err := fs.parse(args, stderr); err != nil {
		return parseFailed(stderr, "devices", err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "netscanner devices: %s\n", clip(fmt.Sprintf("unexpected argument %q (devices takes none; netscanner history DEVICE shows one)", fs.Arg(0))))
		return exitUsage
	}
	s, code := openHistory(ctx, "devices", db, store.ModeRead, stderr)
	if s == nil {
		return code
	}
	defer s.Close()
	devs, err := s.Devices(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "netscanner devices: %s\n", clip(err.Error()))
		return exitFail
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		for i := range devs {
			if err := enc.Encode(newDeviceJSON(&devs[i])); err != nil {
				fmt.Fprintf(stderr, "netscanner devices: %v\n", err)
				return exitFail
			}
		}
		return exitOK
	}
	if len(devs) == 0 {
		fmt.Fprintf(stderr, "netscanner devices: no devices in %s yet\n", s.Path())
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LABEL\tNAME\tMAC\tADDRESS\tFIRST SEEN\tLAST SEEN\tNOW")
	for i := range devs {
		d := &devs[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", histCell(d.Label), histCell(deviceName(d)), histCell(d.MAC), histCell(d.Addr),
			histTime(d.FirstSeen), histTime(d.LastSeen), histPresence(d))
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stderr, "netscanner devices: %v\n", err)
		return exitFail
	}
	return exitOK
}

// deviceName is the device's best name apart from its label.
func deviceName(d *store.Device) string {
	for _, s := range []string{d.FriendlyName, d.Hostname} {
		if s != "" {
			return s
		}
	}
	return ""
}

// histPresence says in a word or two what the last scan that covered the
// device found.
func histPresence(d *store.Device) string {
	switch {
	case d.Present:
		return "here"
	case d.Misses == 1:
		return "missed 1 scan"
	case d.Misses > 1:
		return fmt.Sprintf("missed %d scans", d.Misses)
	}
	return "-"
}

// histCell makes a stored string fit a table cell: names come from the
// network, so control characters and tabs are shown escaped, never sent
// to the terminal.
func histCell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.ReplaceAll(clip(s), "\t", " ")
}

// deviceJSON is a device as `devices --json` and `history --json` print
// it.
type deviceJSON struct {
	Key          string   `json:"key"`
	Label        string   `json:"label"`
	Name         string   `json:"name"`
	MAC          string   `json:"mac"`
	MACs         []string `json:"macs"`
	Addr         string   `json:"addr"`
	Hostname     string   `json:"hostname"`
	Names        []string `json:"names"`
	Vendor       string   `json:"vendor"`
	Kind         string   `json:"kind"`
	Model        string   `json:"model"`
	FriendlyName string   `json:"friendly_name"`
	FirstSeen    string   `json:"first_seen"`
	LastSeen     string   `json:"last_seen"`
	Present      bool     `json:"present"`
	Misses       int      `json:"misses"`
}

func newDeviceJSON(d *store.Device) deviceJSON {
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return deviceJSON{
		Key: d.Key, Label: d.Label, Name: d.Title(), MAC: d.MAC, MACs: nonNil(d.MACs), Addr: d.Addr,
		Hostname: d.Hostname, Names: nonNil(d.Names), Vendor: d.Vendor, Kind: d.Kind, Model: d.Model,
		FriendlyName: d.FriendlyName, FirstSeen: histTimeJSON(d.FirstSeen), LastSeen: histTimeJSON(d.LastSeen),
		Present: d.Present, Misses: d.Misses,
	}
}
