package daemons

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"netscanner/internal/testnet"
)

// MosquittoSpec configures one mosquitto broker.
type MosquittoSpec struct {
	// Listen is the host:port of its only listener, an address of its
	// namespace.
	Listen string
	// Users, if set, turns anonymous access off: only these user names
	// and passwords may connect (a password file made with
	// mosquitto_passwd).
	Users map[string]string
	// CertPEM and KeyPEM, if set, make the listener MQTT over TLS with
	// this certificate and its private key (PEM, as SelfSignedCert makes
	// them), so that a test can check a client's certificate
	// verification against a real broker. Unset, the listener is plain
	// MQTT.
	CertPEM, KeyPEM []byte
}

// Mosquitto is a running mosquitto broker.
type Mosquitto struct {
	*Daemon
	Host string // its listener's address
	Port string
	// CAFile is the file holding the TLS listener's certificate, for
	// clients to trust (SSL_CERT_FILE, mosquitto_sub --cafile); empty
	// for a plain listener.
	CAFile string
}

// StartMosquitto runs mosquitto in ns with its own configuration, no
// persistence and one listener, plain or TLS (spec.CertPEM), and returns
// once it accepts TCP connections.
func StartMosquitto(t testing.TB, ns *testnet.NS, spec MosquittoSpec) *Mosquitto {
	t.Helper()
	host, port, err := net.SplitHostPort(spec.Listen)
	if err != nil {
		t.Fatalf("daemons: mosquitto: Listen %q: %v", spec.Listen, err)
	}
	dirs := NewDirs(t, "mosquitto")
	var conf strings.Builder
	fmt.Fprintf(&conf, "per_listener_settings false\npersistence false\nlog_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\nlog_type subscribe\nconnection_messages true\n")
	fmt.Fprintf(&conf, "listener %s %s\n", port, host)
	var caFile string
	if len(spec.CertPEM) > 0 || len(spec.KeyPEM) > 0 {
		if len(spec.CertPEM) == 0 || len(spec.KeyPEM) == 0 {
			t.Fatalf("daemons: mosquitto: CertPEM and KeyPEM go together")
		}
		// certfile and keyfile after the listener line are that
		// listener's: it speaks TLS only, no plain MQTT beside it.
		caFile = WriteFile(t, dirs.Config, "cert.pem", string(spec.CertPEM))
		key := WriteFile(t, dirs.Config, "key.pem", string(spec.KeyPEM))
		fmt.Fprintf(&conf, "certfile %s\nkeyfile %s\n", caFile, key)
	}
	if len(spec.Users) == 0 {
		conf.WriteString("allow_anonymous true\n")
	} else {
		pw := WriteFile(t, dirs.Config, "passwd", "")
		for u, p := range spec.Users {
			if out, err := exec.Command("mosquitto_passwd", "-b", pw, u, p).CombinedOutput(); err != nil {
				t.Fatalf("daemons: mosquitto_passwd: %v\n%s", err, out)
			}
		}
		fmt.Fprintf(&conf, "allow_anonymous false\npassword_file %s\n", pw)
	}
	path := WriteFile(t, dirs.Config, "mosquitto.conf", conf.String())
	// A TCP connect is readiness enough for TLS too: mosquitto loads
	// the certificate and key while it opens its listeners, before its
	// main loop accepts anyone (an early connect waits in the backlog),
	// and exits when they will not load.
	d := Start(t, Spec{
		Name:  "mosquitto",
		NS:    ns,
		Dirs:  dirs,
		Argv:  []string{"mosquitto", "-c", path},
		Ready: PortOpen(spec.Listen),
	})
	return &Mosquitto{Daemon: d, Host: host, Port: port, CAFile: caFile}
}

// MQTTMessage is one message a Subscriber received.
type MQTTMessage struct {
	Topic    string
	Payload  string
	Retained bool
}

// Subscriber is a mosquitto_sub process collecting messages.
type Subscriber struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	msgs []MQTTMessage
	done chan struct{}
}

// Subscribe runs `mosquitto_sub -v` in ns against the broker for topics
// until the test ends, collecting every message. Extra arguments (such
// as "-u", "name", "-P", "secret") are passed on. Against a TLS
// listener it trusts the listener's certificate (--cafile) and checks
// that it names the host, so the certificate must name m.Host (or extra
// hold "--insecure"). It returns once the subscription is in place.
func (m *Mosquitto) Subscribe(t testing.TB, ns *testnet.NS, topics []string, extra ...string) *Subscriber {
	t.Helper()
	id := fmt.Sprintf("sub%d-%d", os.Getpid(), subSeq.Add(1))
	// %r: retained flag; %t: topic; %p: payload (ours are one line).
	args := []string{"mosquitto_sub", "-h", m.Host, "-p", m.Port, "-i", id, "-q", "1", "-F", `%r %t %p`}
	if m.CAFile != "" {
		// No --insecure: the certificate names the address.
		args = append(args, "--cafile", m.CAFile)
	}
	for _, tp := range topics {
		args = append(args, "-t", tp)
	}
	args = append(args, extra...)
	cmd := ns.Command(testnet.Root, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("mosquitto_sub: %v", err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("mosquitto_sub: %v", err)
	}
	s := &Subscriber{cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			retained, rest, _ := strings.Cut(sc.Text(), " ")
			topic, payload, _ := strings.Cut(rest, " ")
			s.mu.Lock()
			s.msgs = append(s.msgs, MQTTMessage{Topic: topic, Payload: payload, Retained: retained == "1"})
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		<-s.done
		_ = cmd.Wait()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("mosquitto_sub stderr: %s", stderr.String())
		}
	})
	// The broker logs each subscription ("ID 1 TOPIC", log_type
	// subscribe) once it is in place: messages published after that
	// reach the subscriber.
	deadline := time.Now().Add(DefaultReadyTimeout)
	for _, tp := range topics {
		for !m.LogContains(id + " 1 " + tp) {
			if ended, _ := m.Exited(); ended || time.Now().After(deadline) {
				t.Fatalf("mosquitto_sub did not subscribe to %s:\n%s\n%s", tp, stderr.String(), m.Log())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return s
}

// subSeq numbers subscribers' client ids.
var subSeq atomic.Int64

// Messages returns what arrived so far.
func (s *Subscriber) Messages() []MQTTMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]MQTTMessage(nil), s.msgs...)
}

// WaitFor polls until ok holds for the messages so far, or timeout; it
// returns the messages and whether ok held.
func (s *Subscriber) WaitFor(timeout time.Duration, ok func([]MQTTMessage) bool) ([]MQTTMessage, bool) {
	deadline := time.Now().Add(timeout)
	for {
		msgs := s.Messages()
		if ok(msgs) {
			return msgs, true
		}
		if time.Now().After(deadline) {
			return msgs, false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
