// Package webhook POSTs each watcher event as JSON to a URL, with a
// timeout per attempt and a bounded number of retries with exponential
// backoff; an event that cannot be delivered is given up with a log line.
//
// Deliveries run on one goroutine of their own, in event order, from a
// bounded queue, so that a slow or dead receiver never holds up a scan.
// Every attempt at one event carries the same X-Netscanner-Delivery
// header, so that a receiver can drop a retry of an event it already
// took.
package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"netscanner/internal/watch"
)

// Defaults for Options.
const (
	DefaultTimeout    = 10 * time.Second
	DefaultAttempts   = 4
	DefaultBackoff    = time.Second
	DefaultMaxBackoff = 30 * time.Second
	DefaultQueue      = 256
	// MaxURLLen bounds a webhook URL.
	MaxURLLen = 2048
)

// Options configures a Hook. Zero fields take the defaults.
type Options struct {
	URL      string
	Timeout  time.Duration // one attempt, connect to response
	Attempts int           // tries per event, the first included
	// Backoff is the wait before the first retry; each further wait
	// doubles, up to MaxBackoff.
	Backoff    time.Duration
	MaxBackoff time.Duration
	Queue      int // events waiting to be sent; beyond, new events are dropped with a log line
	// Logf prints a line for a given-up or dropped event; nil is silent.
	Logf func(format string, args ...any)
	// Client sends the requests; nil means one with Timeout. Its own
	// Timeout, if any, is left as is.
	Client *http.Client
}

// Hook is a watch.Sink that delivers events to a webhook.
type Hook struct {
	opts   Options
	url    *url.URL
	client *http.Client
	queue  chan watch.Event
	ctx    context.Context // ends when Close gives up waiting
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	closed bool
	stats  Stats
}

// Stats counts deliveries.
type Stats struct {
	Delivered int // events the receiver took (2xx)
	GaveUp    int // events given up after their attempts, or refused with a 4xx
	Dropped   int // events dropped because the queue was full or the hook closed
	Attempts  int // requests sent
}

// ErrBadURL is wrapped by ParseURL's errors.
var ErrBadURL = errors.New("bad webhook URL")

// ParseURL checks a --webhook URL: absolute http or https, a host, a
// valid port if any, no fragment, no spaces or control characters.
func ParseURL(s string) (*url.URL, error) {
	switch {
	case s == "":
		return nil, fmt.Errorf("%w: empty (want http:// or https://HOST/PATH)", ErrBadURL)
	case len(s) > MaxURLLen:
		return nil, fmt.Errorf("%w: %d bytes long, at most %d", ErrBadURL, len(s), MaxURLLen)
	case strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0:
		return nil, fmt.Errorf("%w %q: holds spaces or control characters (percent-encode them)", ErrBadURL, s)
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%w %q: %v", ErrBadURL, s, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%w %q: scheme %q, want http or https", ErrBadURL, redact(u, s), u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("%w %q: no host", ErrBadURL, redact(u, s))
	case u.Fragment != "" || strings.Contains(s, "#"):
		return nil, fmt.Errorf("%w %q: a #fragment is never sent; remove it", ErrBadURL, redact(u, s))
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%w %q: port %q: want 1 to 65535", ErrBadURL, redact(u, s), p)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, fmt.Errorf("%w %q: empty port", ErrBadURL, redact(u, s))
	}
	return u, nil
}

// redact is the URL without its password, for messages.
func redact(u *url.URL, s string) string {
	if u == nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// New checks opts.URL and starts the delivery goroutine.
func New(opts Options) (*Hook, error) {
	u, err := ParseURL(opts.URL)
	if err != nil {
		return nil, err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Attempts <= 0 {
		opts.Attempts = DefaultAttempts
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.Queue <= 0 {
		opts.Queue = DefaultQueue
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	client := opts.Client
	if client == nil {
		client = &http.Client{Timeout: opts.Timeout}
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hook{
		opts: opts, url: u, client: client,
		queue: make(chan watch.Event, opts.Queue),
		ctx:   ctx, cancel: cancel,
		done: make(chan struct{}),
	}
	go h.run()
	return h, nil
}

// Event queues e for delivery; it never blocks.
func (h *Hook) Event(e watch.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		h.stats.Dropped++
		return
	}
	select {
	case h.queue <- e:
	default:
		h.stats.Dropped++
		h.opts.Logf("webhook: %d events waiting for %s; dropped %s event for %s", cap(h.queue), h.url.Redacted(), e.Kind, e.Device)
	}
}

// Scanned does nothing: a webhook gets events only.
func (h *Hook) Scanned(watch.Report) {}

// Stats returns the counts so far.
func (h *Hook) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stats
}

// Close stops taking events and delivers those queued until ctx ends;
// then it abandons the rest, with a log line, and returns ctx's error.
func (h *Hook) Close(ctx context.Context) error {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		close(h.queue)
	}
	h.mu.Unlock()
	select {
	case <-h.done:
		return nil
	case <-ctx.Done():
		h.cancel()
		<-h.done
		return ctx.Err()
	}
}

func (h *Hook) run() {
	defer close(h.done)
	defer h.cancel()
	for e := range h.queue {
		if h.ctx.Err() != nil {
			h.count(func(s *Stats) { s.Dropped++ })
			continue
		}
		h.deliver(e)
	}
}

// deliver sends one event, retrying as Options say.
func (h *Hook) deliver(e watch.Event) {
	body, err := json.Marshal(e)
	if err != nil { // cannot happen for our types; say so rather than panic
		h.opts.Logf("webhook: %s event for %s: %v", e.Kind, e.Device, err)
		h.count(func(s *Stats) { s.GaveUp++ })
		return
	}
	id := deliveryID()
	wait := h.opts.Backoff
	var last error
	for attempt := 1; attempt <= h.opts.Attempts; attempt++ {
		retry, after, err := h.post(body, e.Kind, id)
		if err == nil {
			h.count(func(s *Stats) { s.Delivered++ })
			return
		}
		last = err
		if !retry {
			h.opts.Logf("webhook: gave up on %s event for %s: %v (not retried)", e.Kind, e.Device, err)
			h.count(func(s *Stats) { s.GaveUp++ })
			return
		}
		if attempt == h.opts.Attempts {
			break
		}
		if after > 0 && after <= h.opts.MaxBackoff {
			wait = after // the receiver asked for this pause (Retry-After)
		}
		select {
		case <-time.After(wait):
		case <-h.ctx.Done():
			h.opts.Logf("webhook: gave up on %s event for %s: shutting down after %d attempts: %v", e.Kind, e.Device, attempt, last)
			h.count(func(s *Stats) { s.GaveUp++ })
			return
		}
		wait = min(2*wait, h.opts.MaxBackoff)
	}
	h.opts.Logf("webhook: gave up on %s event for %s after %d attempts: %v", e.Kind, e.Device, h.opts.Attempts, last)
	h.count(func(s *Stats) { s.GaveUp++ })
}

// post makes one attempt. It says whether a failure is worth a retry,
// and how long the receiver asked to wait.
func (h *Hook) post(body []byte, kind watch.Kind, id string) (retry bool, after time.Duration, err error) {
	h.count(func(s *Stats) { s.Attempts++ })
	ctx, cancel := context.WithTimeout(h.ctx, h.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url.String(), bytes.NewReader(body))
	if err != nil {
		return false, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "netscanner-watch")
	req.Header.Set("X-Netscanner-Event", string(kind))
	req.Header.Set("X-Netscanner-Delivery", id)
	resp, err := h.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the log line already
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			err = fmt.Errorf("no answer within %v", h.opts.Timeout)
		}
		return true, 0, fmt.Errorf("POST %s: %w", h.url.Redacted(), err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, 0, nil
	}
	err = fmt.Errorf("POST %s: HTTP %s", h.url.Redacted(), resp.Status)
	switch {
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusRequestTimeout,
		resp.StatusCode == http.StatusTooEarly, resp.StatusCode == http.StatusTooManyRequests:
		if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s > 0 {
			after = time.Duration(s) * time.Second
		}
		return true, after, err
	}
	return false, 0, err // the receiver refuses it; trying again changes nothing
}

func (h *Hook) count(f func(*Stats)) {
	h.mu.Lock()
	f(&h.stats)
	h.mu.Unlock()
}

// deliveryID is a random id for one event's attempts.
func deliveryID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
