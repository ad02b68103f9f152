// Command lanresponder answers ICMP echo requests inside an existing network
// namespace on behalf of simulated hosts, each slow or forgetful in its own
// way, until it is interrupted. It is testnet.Responder for scripts such as
// bench/sweep.sh, which build their namespaces themselves.
//
// Usage:
//
//	lanresponder -netns NAME -hosts FILE
//
// FILE has one host a line: an address, then optionally a delay (a Go
// duration such as 350ms), the number of first requests to drop, and the
// number of duplicates to send. Blank lines and text after # are ignored:
//
//	198.18.4.7  350ms 1
//	198.18.4.9
//
// The namespace must route the hosts' addresses to itself (a local route
// over their prefix). lanresponder prints "ready" once it listens, and a
// summary of what it saw on standard error when it ends. It needs root.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"netscanner/internal/testnet"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lanresponder", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nsName := fs.String("netns", "", "name of the network namespace to answer in (under /run/netns)")
	hostsFile := fs.String("hosts", "", "file listing the simulated hosts")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *nsName == "" || *hostsFile == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: lanresponder -netns NAME -hosts FILE")
		return 2
	}
	f, err := os.Open(*hostsFile)
	if err != nil {
		fmt.Fprintln(stderr, "lanresponder:", err)
		return 1
	}
	hosts, err := parseHosts(f)
	f.Close()
	if err != nil {
		fmt.Fprintf(stderr, "lanresponder: %s: %v\n", *hostsFile, err)
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := testnet.Listen(*nsName, hosts)
	if err != nil {
		fmt.Fprintln(stderr, "lanresponder:", err)
		return 1
	}
	fmt.Fprintf(stdout, "ready: %d hosts in %s\n", len(hosts), *nsName)
	<-ctx.Done()
	r.Close()

	var c testnet.Counts
	for a := range hosts {
		h := r.Counts(a)
		c.Requests += h.Requests
		c.Replies += h.Replies
	}
	fmt.Fprintf(stderr, "lanresponder: %d requests, %d replies, %d for unknown addresses\n", c.Requests, c.Replies, r.Stray())
	if err := r.Err(); err != nil {
		fmt.Fprintln(stderr, "lanresponder:", err)
		return 1
	}
	return 0
}

// parseHosts reads a host list in the format described in the package
// comment.
func parseHosts(r io.Reader) (map[netip.Addr]testnet.Behavior, error) {
	hosts := make(map[netip.Addr]testnet.Behavior)
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		if len(f) > 4 {
			return nil, fmt.Errorf("line %d: want ADDR [DELAY [DROPFIRST [DUPLICATE]]], got %d fields", line, len(f))
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if _, dup := hosts[a]; dup {
			return nil, fmt.Errorf("line %d: %s listed twice", line, a)
		}
		var b testnet.Behavior
		if len(f) > 1 {
			if b.Delay, err = time.ParseDuration(f[1]); err != nil {
				return nil, fmt.Errorf("line %d: delay: %w", line, err)
			}
		}
		for i, dst := range []*int{&b.DropFirst, &b.Duplicate} {
			if len(f) > 2+i {
				if *dst, err = strconv.Atoi(f[2+i]); err != nil {
					return nil, fmt.Errorf("line %d: %w", line, err)
				}
			}
		}
		if b.Delay < 0 || b.DropFirst < 0 || b.Duplicate < 0 {
			return nil, fmt.Errorf("line %d: negative value", line)
		}
		hosts[a] = b
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(hosts) == 0 {
		return nil, errors.New("no hosts listed")
	}
	return hosts, nil
}
