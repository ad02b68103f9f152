package daemons

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"netscanner/internal/testnet"
)

// PrometheusSpec configures one prometheus server.
type PrometheusSpec struct {
	// Listen is the host:port its web UI and API listen on, an address
	// of its namespace.
	Listen string
	// Targets are the host:port endpoints it scrapes (job "netscanner",
	// path /metrics).
	Targets []string
	// Labels are added to every scraped series, as a site labels each
	// network's watcher (e.g. network="office").
	Labels map[string]string
	// Interval is the scrape interval; default 1s, so that tests wait
	// little.
	Interval time.Duration
}

// Prometheus is a running prometheus server.
type Prometheus struct {
	*Daemon
	// URL is its base URL, such as http://198.18.100.20:9090.
	URL    string
	client *http.Client
}

// StartPrometheus runs prometheus in ns with its own configuration file
// and its own TSDB directory (dirs.State), and returns once it serves
// its API.
func StartPrometheus(t testing.TB, ns *testnet.NS, spec PrometheusSpec) *Prometheus {
	t.Helper()
	if _, _, err := net.SplitHostPort(spec.Listen); err != nil {
		t.Fatalf("daemons: prometheus: Listen %q: %v", spec.Listen, err)
	}
	if spec.Interval <= 0 {
		spec.Interval = time.Second
	}
	dirs := NewDirs(t, "prometheus")
	conf := WriteFile(t, dirs.Config, "prometheus.yml", prometheusConf(spec))
	d := Start(t, Spec{
		Name: "prometheus",
		NS:   ns,
		Dirs: dirs,
		Argv: []string{"prometheus",
			"--config.file=" + conf,
			"--storage.tsdb.path=" + dirs.State,
			"--web.listen-address=" + spec.Listen,
			"--web.console.templates=" + dirs.Config,
			"--web.console.libraries=" + dirs.Config,
			"--log.level=info",
		},
		Ready:   All(LogLine("Server is ready to receive web requests."), PortOpen(spec.Listen)),
		Timeout: 30 * time.Second,
	})
	return &Prometheus{
		Daemon: d,
		URL:    "http://" + spec.Listen,
		client: &http.Client{Transport: &http.Transport{DialContext: DialIn(ns.Name)}, Timeout: 10 * time.Second},
	}
}

// prometheusConf is a prometheus.yml scraping spec's targets.
func prometheusConf(spec PrometheusSpec) string {
	var b strings.Builder
	iv := spec.Interval.String()
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\n", iv, iv, iv)
	b.WriteString("scrape_configs:\n  - job_name: netscanner\n    metrics_path: /metrics\n    static_configs:\n      - targets:\n")
	for _, tg := range spec.Targets {
		fmt.Fprintf(&b, "          - %q\n", tg)
	}
	if len(spec.Labels) > 0 {
		b.WriteString("        labels:\n")
		for k, v := range spec.Labels {
			fmt.Fprintf(&b, "          %s: %q\n", k, v)
		}
	}
	return b.String()
}

// PromSample is one series of an instant query's vector result.
type PromSample struct {
	Metric map[string]string
	Value  string // as prometheus prints it, such as "1" or "0.000213"
}

// Query runs an instant PromQL query through the HTTP API
// (/api/v1/query) and returns the vector it yields.
func (p *Prometheus) Query(ctx context.Context, expr string) ([]PromSample, error) {
	u := p.URL + "/api/v1/query?query=" + url.QueryEscape(expr)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	var r struct {
		Status    string `json:"status"`
		Error     string `json:"error"`
		ErrorType string `json:"errorType"`
		Data      struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("prometheus query %q: HTTP %s: %w: %.200s", expr, resp.Status, err, body)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("prometheus query %q: %s: %s", expr, r.ErrorType, r.Error)
	}
	if r.Data.ResultType != "vector" {
		return nil, fmt.Errorf("prometheus query %q: result type %q, want vector", expr, r.Data.ResultType)
	}
	out := make([]PromSample, 0, len(r.Data.Result))
	for _, s := range r.Data.Result {
		v, _ := s.Value[1].(string)
		out = append(out, PromSample{Metric: s.Metric, Value: v})
	}
	return out, nil
}

// Targets returns the health of each scrape target ("up", "down",
// "unknown") and its last error, by scrape URL, from /api/v1/targets.
func (p *Prometheus) Targets(ctx context.Context) (map[string][2]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/api/v1/targets", nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			ActiveTargets []struct {
				ScrapeURL string `json:"scrapeUrl"`
				Health    string `json:"health"`
				LastError string `json:"lastError"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&r); err != nil {
		return nil, fmt.Errorf("prometheus targets: %w", err)
	}
	out := map[string][2]string{}
	for _, tg := range r.Data.ActiveTargets {
		out[tg.ScrapeURL] = [2]string{tg.Health, tg.LastError}
	}
	return out, nil
}

// DialIn returns a DialContext that opens its TCP connections inside the
// network namespace called nsName, for HTTP clients that talk to
// daemons from the test process.
func DialIn(nsName string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		var err error
		if nerr := testnet.Do(nsName, func() {
			c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		}); nerr != nil {
			return nil, nerr
		}
		return c, err
	}
}
