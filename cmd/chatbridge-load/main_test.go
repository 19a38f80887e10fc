package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/mongostore/storetest"
	"github.com/chatbridge/chatbridge/rest"
)

func TestResolveLoopbackOnly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr, want string // want "" = refused
	}{
		{"127.0.0.1:18181", "127.0.0.1:18181"},
		{"127.3.4.5:80", "127.3.4.5:80"},
		{"[::1]:8080", "[::1]:8080"},
		{"localhost:8080", ""}, // checked below: resolves to loopback or fails
		{"10.0.0.1:8080", ""},
		{"192.168.1.10:80", ""},
		{"0.0.0.0:8080", ""},
		{"[::]:8080", ""},
		{":8080", ""},
		{"127.0.0.1:0", ""},
		{"127.0.0.1", ""},
		{"[::ffff:10.0.0.1]:80", ""},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			got, err := resolveLoopback(context.Background(), tc.addr)
			if tc.addr == "localhost:8080" {
				if err == nil && got != "127.0.0.1:8080" && got != "[::1]:8080" {
					t.Fatalf("localhost resolved to %s", got)
				}
				return
			}
			if tc.want == "" {
				if err == nil {
					t.Fatalf("%s accepted as %s; want refused", tc.addr, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("resolveLoopback(%s) = %q, %v; want %q", tc.addr, got, err, tc.want)
			}
		})
	}
}

func TestConfigBounds(t *testing.T) {
	t.Parallel()
	base := []string{"--admin-token", "0123456789abcdef"}
	for _, tc := range []struct {
		name string
		args []string
		ok   bool
	}{
		{"defaults", nil, true},
		{"no admin token", []string{"--admin-token", ""}, false},
		{"too many agents", []string{"--agents", "19001"}, false},
		{"most agents", []string{"--agents", "19000", "--concurrency", "1"}, true},
		{"duration over 10 minutes", []string{"--duration", "10m1s"}, false},
		{"zero duration", []string{"--duration", "0s"}, false},
		{"rate too high", []string{"--rate", "5001"}, false},
		{"listeners over agents", []string{"--agents", "5", "--listeners", "6"}, false},
		{"all listening", []string{"--agents", "5", "--listeners", "-1"}, true},
		{"username without password", []string{"--username", "a@x.test"}, false},
		{"connect timeout over 10 minutes", []string{"--connect-timeout", "11m"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig(append(append([]string{}, base...), tc.args...), io.Discard)
			if tc.ok && err != nil && !strings.Contains(err.Error(), "open files") {
				t.Fatalf("want accepted, got %v", err)
			}
			if !tc.ok && err == nil {
				t.Fatal("want refused")
			}
		})
	}
}

func TestPercentileAndMedian(t *testing.T) {
	t.Parallel()
	var s samples
	for i := 100; i >= 1; i-- {
		s.add(time.Duration(i) * time.Millisecond)
	}
	l := s.summary()
	if l.N != 100 || l.P50 != 50 || l.P95 != 95 || l.P99 != 99 || l.Max != 100 {
		t.Fatalf("summary %+v", l)
	}
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Fatalf("median odd = %v", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Fatalf("median even = %v", m)
	}
}

func TestSummarizeTakesMedians(t *testing.T) {
	t.Parallel()
	var in bytes.Buffer
	in.WriteString("some table line\n")
	for _, p50 := range []float64{3, 1, 2} {
		b, _ := json.Marshal(&result{Agents: 10, Listeners: 2, Chats: 1, Rate: 5, DurationSec: 1, SocketsOpened: 10,
			SendEvent: latency{N: 5, P50: p50}})
		in.Write(append(b, '\n'))
	}
	var out bytes.Buffer
	if err := summarize(nil, &in, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[2], "| 10 | 2 | 5 | 3 | 10 |") || !strings.Contains(lines[2], "| 2.00 |") {
		t.Fatalf("summary:\n%s", out.String())
	}
}

// TestRunAgainstServer runs a short load against a real server (the core on
// the embedded store, served on loopback) and checks the run's bookkeeping:
// every socket opens, every event is answered and pushed to every listener.
func TestRunAgainstServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	const token = "load-test-admin-token-0123456789"
	ctx := t.Context()
	store := storetest.Open(t)
	hub := livechat.NewHub(livechat.HubConfig{})
	t.Cleanup(hub.Close)
	metrics := rest.NewMetrics(hub)
	quiet := slog.New(slog.DiscardHandler)
	svc, err := livechat.NewService(ctx, livechat.Config{Store: store, Publisher: livechat.Publishers{metrics.Publisher(), hub},
		PasswordCost: bcrypt.MinCost, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.EnsureOwner(ctx, "owner@load.test", "secret123", token); err != nil {
		t.Fatal(err)
	}
	srv, err := rest.NewServer(rest.Config{Service: svc, Store: store, Hub: hub, Metrics: metrics, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	addr := strings.TrimPrefix(hs.URL, "http://")

	var stdout, stderr bytes.Buffer
	args := []string{"--addr", addr, "--admin-token", token, "--username", "owner@load.test", "--password", "secret123",
		"--agents", "6", "--listeners", "2", "--chats", "3", "--rate", "20", "--duration", "1s", "--settle", "0s", "--json"}
	if err := run(ctx, args, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	var res result
	for line := range strings.Lines(stdout.String()) {
		if strings.HasPrefix(line, "{") {
			if err := json.Unmarshal([]byte(line), &res); err != nil {
				t.Fatal(err)
			}
		}
	}
	if res.SocketsOpened != 6 || res.ServerSockets != 6 || res.EventsSent != 20 || res.EventsOK != 20 ||
		res.PushExpected != 40 || res.PushMissing != 0 || res.Push.N != 40 || res.SocketDrops != 0 || len(res.Errors) != 0 {
		t.Fatalf("result %+v\n%s\n%s", res, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "push latency") {
		t.Fatalf("no summary table:\n%s", stdout.String())
	}
}

func TestRefusesRemoteTarget(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"--addr", "192.0.2.1:80", "--admin-token", "0123456789abcdef"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Fatalf("want a loopback refusal, got %v", err)
	}
}
