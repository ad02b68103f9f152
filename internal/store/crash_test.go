package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashHosts is how many devices the crash helper's scans hold: enough
// that most of its time is spent inside a scan's transaction, so a kill
// at a random moment lands mid-write.
const crashHosts = 400

// crashScan is the crash helper's scan number n: crashHosts devices,
// all present.
func crashScan(n int) []Observation {
	out := make([]Observation, crashHosts)
	for i := range out {
		out[i] = Observation{
			Addr:     netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}),
			MAC:      net.HardwareAddr{0x00, 0x1a, 0x2b, 0x00, byte(i >> 8), byte(i)},
			RTT:      time.Duration(100+n+i) * time.Microsecond,
			Hostname: fmt.Sprintf("host-%d.local", i),
		}
	}
	return out
}

// TestCrashHelper is the process TestKilledMidWrite kills: it records
// scans until killed, printing each scan's id once it is committed.
func TestCrashHelper(t *testing.T) {
	path := os.Getenv("NETSCANNER_STORE_CRASH_DB")
	if path == "" {
		t.Skip("run by TestKilledMidWrite")
	}
	s, err := Open(context.Background(), path, Options{Mode: ModeRecord})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(3)
	}
	start := time.Now()
	for n := 0; ; n++ {
		res, err := s.RecordScan(context.Background(), Scan{Started: start.Add(time.Duration(n) * time.Minute)}, crashScan(n), nil)
		if err != nil {
			fmt.Println("record:", err)
			os.Exit(3)
		}
		fmt.Println("committed", res.ScanID)
	}
}

// TestKilledMidWrite kills a recording process with SIGKILL in the middle
// of its writes, several times over one database: each time the database
// opens, passes SQLite's integrity check, and holds every scan the
// process said it committed, each whole, and no part of the one it was
// writing. While the process runs, a second recorder is refused and told
// its pid; once it is dead, its lock is gone.
func TestKilledMidWrite(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "history.db")
	ctx := context.Background()
	committed := int64(0)
	for round := range 3 {
		cmd := exec.Command(self, "-test.run=^TestCrashHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), "NETSCANNER_STORE_CRASH_DB="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		seen := 0
		for seen < 3 && lines.Scan() {
			id, ok := strings.CutPrefix(lines.Text(), "committed ")
			if !ok {
				continue
			}
			if committed, err = strconv.ParseInt(id, 10, 64); err != nil {
				t.Fatal(err)
			}
			seen++
		}
		if seen < 3 {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("round %d: the helper stopped after %d scans: %v", round, seen, lines.Err())
		}

		_, err = Open(ctx, path, Options{Mode: ModeRecord})
		var le *LockedError
		if !errors.As(err, &le) || le.PID != cmd.Process.Pid {
			t.Fatalf("round %d: second recorder beside pid %d: %v", round, cmd.Process.Pid, err)
		}

		time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: helper ended with %v, not by SIGKILL", round, cmd.ProcessState)
		}
		// Scans the helper committed but had not yet printed are fine.
		for lines.Scan() {
			if id, ok := strings.CutPrefix(lines.Text(), "committed "); ok {
				committed, _ = strconv.ParseInt(id, 10, 64)
			}
		}

		r, err := Open(ctx, path, Options{Mode: ModeRead})
		if err != nil {
			t.Fatalf("round %d: opening after the kill: %v", round, err)
		}
		var check string
		if err := r.db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
			t.Fatalf("round %d: integrity_check %q, %v", round, check, err)
		}
		var scans, maxID, short int64
		if err := r.db.QueryRow("SELECT count(*), max(id) FROM scans").Scan(&scans, &maxID); err != nil {
			t.Fatal(err)
		}
		if maxID < committed || maxID > committed+1 {
			t.Fatalf("round %d: last scan %d, the helper had committed %d", round, maxID, committed)
		}
		err = r.db.QueryRow(`SELECT count(*) FROM scans s WHERE (SELECT count(*) FROM observations o WHERE o.scan_id = s.id) != ?`, crashHosts).Scan(&short)
		if err != nil || short != 0 {
			t.Fatalf("round %d: %d scans with other than %d observations (%v): a scan was cut", round, short, crashHosts, err)
		}
		var orphans int64
		if err := r.db.QueryRow(`SELECT count(*) FROM observations WHERE scan_id NOT IN (SELECT id FROM scans)`).Scan(&orphans); err != nil || orphans != 0 {
			t.Fatalf("round %d: %d observations of no scan (%v)", round, orphans, err)
		}
		devs, err := r.Devices(ctx)
		if err != nil || len(devs) != crashHosts {
			t.Fatalf("round %d: %d devices, %v", round, len(devs), err)
		}
		r.Close()
		t.Logf("round %d: killed after scan %d; %d whole scans on disk", round, committed, scans)
	}
	// The kernel dropped the dead recorder's lock.
	s, err := Open(ctx, path, Options{Mode: ModeRecord})
	if err != nil {
		t.Fatalf("recorder after the kills: %v", err)
	}
	s.Close()
}
