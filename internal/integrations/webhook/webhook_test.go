package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"netscanner/internal/store"
	"netscanner/internal/watch"
	"netscanner/scanner"
)

func TestParseURL(t *testing.T) {
	cases := []struct{ in, err string }{
		{in: "http://198.18.0.5:8080/hook"},
		{in: "https://hooks.example.net/netscanner?token=abc"},
		{in: "http://user:secret@[2001:db8::5]/hook"},
		{in: "", err: "bad webhook URL: empty"},
		{in: "ftp://example.net/", err: `scheme "ftp", want http or https`},
		{in: "example.net/hook", err: `scheme "", want http or https`},
		{in: "http:///hook", err: "no host"},
		{in: "http://:8080/hook", err: "no host"},
		{in: "http://example.net:0/", err: `port "0": want 1 to 65535`},
		{in: "http://example.net:99999/", err: `port "99999": want 1 to 65535`},
		{in: "http://example.net:/", err: "empty port"},
		{in: "http://example.net/a#frag", err: "fragment is never sent"},
		{in: "http://exa mple.net/", err: "spaces or control characters"},
		{in: "http://example.net/\x00", err: "spaces or control characters"},
		{in: "http://[::1/", err: "missing ']' in host"},
		{in: "http://user:secret@example.net:0/", err: `"http://user:xxxxx@example.net:0/"`},
		{in: "http://example.net/" + strings.Repeat("a", MaxURLLen), err: "bytes long, at most 2048"},
	}
	for _, c := range cases {
		u, err := ParseURL(c.in)
		switch {
		case c.err == "" && (err != nil || u.String() == ""):
			t.Errorf("ParseURL(%q): %v", c.in, err)
		case c.err != "" && (err == nil || !errors.Is(err, ErrBadURL) || !strings.Contains(err.Error(), c.err)):
			t.Errorf("ParseURL(%q) error %v, want one with %q", c.in, err, c.err)
		case err != nil && strings.Contains(err.Error(), "secret"):
			t.Errorf("ParseURL(%q) error shows the password: %v", c.in, err)
		}
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"http://a/b", "https://u:p@[::1]:443/x?y", "http://a:0", "h://", "http://a/#x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURL(s)
		if err != nil {
			if !errors.Is(err, ErrBadURL) {
				t.Fatalf("error %v does not wrap ErrBadURL", err)
			}
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Hostname() == "" {
			t.Fatalf("ParseURL(%q) accepted %v", s, u)
		}
	})
}

// receiver is a local HTTP server that records each request and answers
// with the status its fail function gives (0: 200).
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
	fail func(n int) int
}

type received struct {
	at       time.Time
	delivery string
	kind     string
	ctype    string
	body     watch.EventJSON
}

func newReceiver(t *testing.T, fail func(n int) int) *receiver {
	r := &receiver{fail: fail}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var ev watch.EventJSON
		if req.Method != http.MethodPost || json.Unmarshal(b, &ev) != nil {
			t.Errorf("webhook request %s %s: %q", req.Method, req.URL, b)
		}
		r.mu.Lock()
		r.reqs = append(r.reqs, received{time.Now(), req.Header.Get("X-Netscanner-Delivery"), req.Header.Get("X-Netscanner-Event"), req.Header.Get("Content-Type"), ev})
		n := len(r.reqs)
		r.mu.Unlock()
		if status := r.fail(n); status != 0 {
			http.Error(w, "no", status)
		}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

// logs collects log lines.
type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) logf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *logs) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func event(kind watch.Kind, ip string) watch.Event {
	return watch.Event{Kind: kind, Time: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC),
		Device: watch.Device{ID: "ip:" + ip, Host: scanner.Host{Addr: netip.MustParseAddr(ip)}, Present: kind != watch.Left}}
}

func closeHook(t *testing.T, h *Hook) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// TestWatcherEvents runs a watcher (fake scans, real store) with a hook:
// the local server receives each event the watcher emits exactly once, in
// order, as JSON.
func TestWatcherEvents(t *testing.T) {
	rcv := newReceiver(t, func(int) int { return 0 })
	var l logs
	h, err := New(Options{URL: rcv.URL + "/hook", Logf: l.logf})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "h.db"), store.Options{Mode: store.ModeRecord})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mk := func(ip, mac string) scanner.Host {
		hw, _ := net.ParseMAC(mac)
		return scanner.Host{Addr: netip.MustParseAddr(ip), MAC: hw, RTT: time.Millisecond}
	}
	a, b := mk("198.18.0.10", "b8:27:eb:00:00:0a"), mk("198.18.0.11", "9c:7b:ef:00:00:0c")
	script := [][]scanner.Host{{a, b}, {a}, {a}, {a, b}}
	var emitted []watch.Event
	i := 0
	w, err := watch.New(watch.Config{
		Scan: func(context.Context) (watch.Result, error) {
			r := watch.Result{Hosts: script[i]}
			i++
			return r, nil
		},
		Store: st, DownAfter: 2,
		Sinks: []watch.Sink{h, watch.SinkFuncs{OnEvent: func(e watch.Event) { emitted = append(emitted, e) }}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for range script {
		if _, err := w.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	closeHook(t, h)
	got := rcv.requests()
	if len(emitted) != 4 || len(got) != len(emitted) {
		t.Fatalf("watcher emitted %d events, server got %d requests, want 4 each", len(emitted), len(got))
	}
	ids := map[string]bool{}
	for i, r := range got {
		e := emitted[i]
		if r.body.Event != e.Kind || r.kind != string(e.Kind) || r.body.Host.IP != e.Device.Host.Addr.String() ||
			r.body.Device.ID != e.Device.ID || r.ctype != "application/json" || r.body.Time == "" {
			t.Errorf("request %d: %+v, for event %v", i, r, e)
		}
		if ids[r.delivery] || r.delivery == "" {
			t.Errorf("request %d: delivery id %q reused or empty", i, r.delivery)
		}
		ids[r.delivery] = true
	}
	if s := h.Stats(); s.Delivered != 4 || s.Attempts != 4 || s.GaveUp != 0 || l.all() != "" {
		t.Errorf("stats %+v, log %q", s, l.all())
	}
}

// TestRetry: a receiver failing twice gets the event a third time, with
// the same delivery id, after backoff.
func TestRetry(t *testing.T) {
	rcv := newReceiver(t, func(n int) int {
		if n <= 2 {
			return http.StatusServiceUnavailable
		}
		return 0
	})
	var l logs
	h, err := New(Options{URL: rcv.URL, Backoff: 50 * time.Millisecond, Logf: l.logf})
	if err != nil {
		t.Fatal(err)
	}
	h.Event(event(watch.Joined, "198.18.0.10"))
	closeHook(t, h)
	got := rcv.requests()
	if len(got) != 3 || got[0].delivery != got[2].delivery {
		t.Fatalf("requests %+v, want 3 with one delivery id", got)
	}
	if gap1, gap2 := got[1].at.Sub(got[0].at), got[2].at.Sub(got[1].at); gap1 < 50*time.Millisecond || gap2 < 100*time.Millisecond {
		t.Errorf("retries after %v and %v, want backoff of 50ms then 100ms", gap1, gap2)
	}
	if s := h.Stats(); s.Delivered != 1 || s.Attempts != 3 || l.all() != "" {
		t.Errorf("stats %+v, log %q", s, l.all())
	}
}

// TestGiveUp: failures are retried a bounded number of times, then given
// up with a log line; a refusal (4xx) is not retried; neither is it
// silent.
func TestGiveUp(t *testing.T) {
	cases := []struct {
		name     string
		status   int
		attempts int
		log      string
	}{
		{"server error", http.StatusInternalServerError, 3, "webhook: gave up on left event for 198.18.0.10 after 3 attempts: POST http://%s/hook: HTTP 500 Internal Server Error"},
		{"refused", http.StatusNotFound, 1, "webhook: gave up on left event for 198.18.0.10: POST http://%s/hook: HTTP 404 Not Found (not retried)"},
		{"too many requests", http.StatusTooManyRequests, 3, "after 3 attempts: POST http://%s/hook: HTTP 429 Too Many Requests"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rcv := newReceiver(t, func(int) int { return c.status })
			var l logs
			h, err := New(Options{URL: rcv.URL + "/hook", Attempts: 3, Backoff: 10 * time.Millisecond, Logf: l.logf})
			if err != nil {
				t.Fatal(err)
			}
			h.Event(event(watch.Left, "198.18.0.10"))
			closeHook(t, h)
			want := fmt.Sprintf(c.log, strings.TrimPrefix(rcv.URL, "http://"))
			if n := len(rcv.requests()); n != c.attempts || !strings.Contains(l.all(), want) {
				t.Errorf("%d requests, log %q; want %d and %q", n, l.all(), c.attempts, want)
			}
			if s := h.Stats(); s.GaveUp != 1 || s.Delivered != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

// TestTimeout: a receiver that never answers costs one Timeout per
// attempt, then the event is given up.
func TestTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	var l logs
	h, err := New(Options{URL: srv.URL, Timeout: 100 * time.Millisecond, Attempts: 2, Backoff: 10 * time.Millisecond, Logf: l.logf})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	h.Event(event(watch.Joined, "198.18.0.10"))
	closeHook(t, h)
	if took := time.Since(start); took < 200*time.Millisecond || took > 5*time.Second {
		t.Errorf("two attempts of 100ms took %v", took)
	}
	if !strings.Contains(l.all(), "after 2 attempts") || !strings.Contains(l.all(), "no answer within 100ms") {
		t.Errorf("log %q", l.all())
	}
}

// TestRefusedConnection: nothing listening is retried, then given up.
func TestRefusedConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var l logs
	h, err := New(Options{URL: "http://" + addr + "/", Attempts: 2, Backoff: 10 * time.Millisecond, Logf: l.logf})
	if err != nil {
		t.Fatal(err)
	}
	h.Event(event(watch.Joined, "198.18.0.10"))
	closeHook(t, h)
	if !strings.Contains(l.all(), "after 2 attempts") || !strings.Contains(l.all(), "connection refused") {
		t.Errorf("log %q", l.all())
	}
}

// TestQueueAndClose: a full queue drops new events with a log line and
// never blocks the watcher; Close with an ended context abandons what is
// left, with a log line, and returns.
func TestQueueAndClose(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	var l logs
	h, err := New(Options{URL: srv.URL, Queue: 2, Timeout: time.Minute, Logf: l.logf})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 10 {
		h.Event(event(watch.Joined, fmt.Sprintf("198.18.0.%d", i+1)))
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("queueing 10 events took %v", took)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := h.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close: %v, want the deadline", err)
	}
	s := h.Stats()
	if s.Dropped < 7 || !strings.Contains(l.all(), "events waiting") || !strings.Contains(l.all(), "shutting down") {
		t.Errorf("stats %+v, log %q", s, l.all())
	}
	h.Event(event(watch.Left, "198.18.0.1")) // after Close: dropped, no panic
}
