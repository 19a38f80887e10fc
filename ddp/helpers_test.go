package ddp

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is moved by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// pipeConn is an in-memory Conn: the test writes client messages into in
// and reads server messages from out.
type pipeConn struct {
	in      chan []byte
	out     chan []byte
	done    chan struct{}
	gate    chan struct{} // when not nil, each Write waits for a token (or close)
	waiting chan struct{} // with gate: signaled when a Write starts waiting

	pings    atomic.Int32
	activity atomic.Int64 // LastActivity, unix nanoseconds
	remote   string

	mu     sync.Mutex
	closed bool
	code   int
	reason string
}

func newPipe() *pipeConn {
	return &pipeConn{in: make(chan []byte, 256), out: make(chan []byte, 4096), done: make(chan struct{}), remote: "192.0.2.1"}
}

func (p *pipeConn) Read(ctx context.Context) ([]byte, error) {
	select {
	case m := <-p.in:
		return m, nil
	case <-p.done:
		return nil, errors.New("pipe closed")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *pipeConn) Write(ctx context.Context, msg []byte) error {
	if p.gate != nil {
		select {
		case p.waiting <- struct{}{}:
		default:
		}
		select {
		case <-p.gate:
		case <-p.done:
			return errors.New("pipe closed")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	select {
	case p.out <- msg:
		return nil
	case <-p.done:
		return errors.New("pipe closed")
	}
}

func (p *pipeConn) Ping(context.Context) error {
	p.pings.Add(1)
	return nil
}

func (p *pipeConn) Close(code int, reason string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed, p.code, p.reason = true, code, reason
		close(p.done)
	}
	return nil
}

func (p *pipeConn) LastActivity() time.Time { return time.Unix(0, p.activity.Load()) }
func (p *pipeConn) RemoteAddr() string      { return p.remote }

// client drives one session.
type client struct {
	*pipeConn
	t      *testing.T
	result chan CloseReason
}

const waitFor = 5 * time.Second

// tick is the TickInterval tests use: the writer sees a moved fake clock
// within a millisecond or so.
const tick = time.Millisecond

func testConfig(clock Clock) Config {
	return Config{Clock: clock, TickInterval: tick, NoRateLimits: true, Logger: slog.New(slog.DiscardHandler)}
}

// serve starts srv on a new pipe; the session is torn down at cleanup.
func serve(t *testing.T, srv *Server) *client {
	t.Helper()
	return serveOn(t, srv, newPipe())
}

func serveOn(t *testing.T, srv *Server, p *pipeConn) *client {
	t.Helper()
	c := &client{pipeConn: p, t: t, result: make(chan CloseReason, 1)}
	go func() { c.result <- srv.Serve(context.Background(), p) }()
	t.Cleanup(func() {
		p.Close(1000, "test over")
		select {
		case <-c.result:
		case <-time.After(waitFor):
			t.Error("Serve did not return")
		}
	})
	return c
}

func newTestServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func (c *client) send(s string) {
	c.t.Helper()
	select {
	case c.in <- []byte(s):
	case <-time.After(waitFor):
		c.t.Fatal("client message not taken")
	}
}

// next returns the next server message, decoded.
func (c *client) next() map[string]any {
	c.t.Helper()
	select {
	case b := <-c.out:
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			c.t.Fatalf("server sent invalid JSON %q: %v", b, err)
		}
		return m
	case <-time.After(waitFor):
		c.t.Fatal("no message from the server")
	}
	return nil
}

// expect reads the next message and compares it with want (JSON).
func (c *client) expect(want string) map[string]any {
	c.t.Helper()
	got := c.next()
	var w map[string]any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		c.t.Fatalf("bad want %q: %v", want, err)
	}
	if !reflect.DeepEqual(got, w) {
		gb, _ := json.Marshal(got)
		c.t.Fatalf("got  %s\nwant %s", gb, want)
	}
	return got
}

// none asserts that nothing arrives for a while (a few dozen ticks).
func (c *client) none(d time.Duration) {
	c.t.Helper()
	select {
	case b := <-c.out:
		c.t.Fatalf("unexpected message %s", b)
	case <-time.After(d):
	}
}

// connect performs the handshake and returns the session id.
func (c *client) connect() string {
	c.t.Helper()
	c.send(`{"msg":"connect","version":"1","support":["1","pre2","pre1"]}`)
	m := c.next()
	if m["msg"] != "connected" || m["session"] == "" {
		c.t.Fatalf("want connected, got %v", m)
	}
	return m["session"].(string)
}

// sync makes sure everything sent so far was read: a ping's pong comes back
// only after the messages before it were handled by the reader.
func (c *client) sync() {
	c.t.Helper()
	c.send(`{"msg":"ping","id":"sync"}`)
	for {
		m := c.next()
		if m["msg"] == "pong" && m["id"] == "sync" {
			return
		}
	}
}

// closed waits for Serve to return and checks the close code and text.
func (c *client) closed(want CloseReason) {
	c.t.Helper()
	select {
	case r := <-c.result:
		c.result <- r // for cleanup
		if r != want {
			c.t.Fatalf("closed for %v, want %v", r, want)
		}
		c.mu.Lock()
		code, reason := c.code, c.reason
		c.mu.Unlock()
		if want != CloseClientGone && (code != want.Code || reason != want.Text) {
			c.t.Fatalf("conn closed with %d %q, want %d %q", code, reason, want.Code, want.Text)
		}
	case <-time.After(waitFor):
		c.t.Fatalf("session not closed (want %v)", want)
	}
}

func (c *client) isOpen() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}
