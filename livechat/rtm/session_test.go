package rtm_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/api"
	"github.com/chatbridge/chatbridge/livechat/rtm"
)

// pipeConn is an in-memory Conn: the test writes client frames into in and
// reads server frames from out.
type pipeConn struct {
	in     chan []byte
	out    chan []byte
	mu     sync.Mutex
	closed bool
	done   chan struct{}
	pings  int
	code   int
	reason string
}

func newPipe() *pipeConn {
	return &pipeConn{in: make(chan []byte, 64), out: make(chan []byte, 256), done: make(chan struct{})}
}

func (p *pipeConn) Read(ctx context.Context) ([]byte, error) {
	select {
	case m := <-p.in:
		return m, nil
	case <-p.done:
		return nil, errors.New("closed")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *pipeConn) Write(_ context.Context, msg []byte) error {
	select {
	case p.out <- msg:
		return nil
	case <-p.done:
		return errors.New("closed")
	}
}

func (p *pipeConn) Ping(context.Context) error {
	p.mu.Lock()
	p.pings++
	p.mu.Unlock()
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

func (p *pipeConn) LastActivity() time.Time { return time.Time{} }
func (p *pipeConn) RemoteAddr() string      { return "pipe" }

func (p *pipeConn) send(t *testing.T, action, id string) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"action": action, "request_id": id, "payload": map[string]any{}})
	p.in <- b
}

func (p *pipeConn) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case b := <-p.out:
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no frame")
	}
	return nil
}

// start runs a session whose login always succeeds and whose table has a
// method that blocks until release is closed.
func start(t *testing.T, clock livechat.Clock, release chan struct{}) (*pipeConn, chan struct{}) {
	t.Helper()
	table := api.NewTable(api.Method{Name: "block", Handler: func(ctx context.Context, c *api.Call) (any, error) {
		<-release
		return map[string]any{}, nil
	}})
	cfg := &rtm.Config{Table: table, API: "agent", Version: "3.5", Clock: clock, TickInterval: 5 * time.Millisecond,
		Login: func(ctx context.Context, s *rtm.Session, _ json.RawMessage) (any, error) {
			s.Identify(livechat.AgentActor(&livechat.Agent{ID: "a@example.com"}), nil, nil)
			return map[string]any{}, nil
		}}
	p := newPipe()
	done := make(chan struct{})
	go func() { rtm.Serve(context.Background(), p, cfg); close(done) }()
	t.Cleanup(func() { p.Close(1000, ""); <-done })
	return p, done
}

func TestPendingRequestsLimit(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	p, _ := start(t, livechat.SystemClock{}, release)
	p.send(t, "login", "l")
	if f := p.next(t); f["success"] != true {
		t.Fatalf("login %v", f)
	}
	for i := range 12 {
		p.send(t, "block", string(rune('a'+i)))
	}
	// Ten are pending (one running, nine queued); the 11th and 12th are refused at once.
	for range 2 {
		f := p.next(t)
		if f["success"] != false || f["payload"].(map[string]any)["error"].(map[string]any)["type"] != "pending_requests_limit_reached" {
			t.Fatalf("want pending_requests_limit_reached, got %v", f)
		}
	}
	// A ping is still answered while the requests are pending.
	p.send(t, "ping", "p")
	if f := p.next(t); f["action"] != "ping" || f["success"] != true {
		t.Fatalf("ping %v", f)
	}
	close(release)
	for range 10 {
		if f := p.next(t); f["success"] != true || f["action"] != "block" {
			t.Fatalf("released request %v", f)
		}
	}
}

func TestLoginDeadlineOnInjectedClock(t *testing.T) {
	t.Parallel()
	clock := livechat.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p, done := start(t, clock, nil)
	p.send(t, "ping", "sync") // the session is running (its clock started) once a ping is answered
	p.next(t)
	clock.Advance(29 * time.Second)
	select {
	case f := <-p.out:
		t.Fatalf("disconnected before the deadline: %s", f)
	case <-time.After(100 * time.Millisecond):
	}
	clock.Advance(2 * time.Second)
	f := p.next(t)
	if f["action"] != "agent_disconnected" || f["payload"].(map[string]any)["reason"] != "connection_timeout" {
		t.Fatalf("want agent_disconnected connection_timeout, got %v", f)
	}
	<-done
}

func TestIdleTimerAndServerPings(t *testing.T) {
	t.Parallel()
	clock := livechat.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p, done := start(t, clock, nil)
	p.send(t, "login", "l")
	p.next(t)
	// Pings reset the silence timer: 20 s, ping, 20 s more is still alive.
	clock.Advance(20 * time.Second)
	time.Sleep(30 * time.Millisecond) // let the ticker see the new time (the server pings an idle socket)
	p.send(t, "ping", "p")
	p.next(t)
	clock.Advance(20 * time.Second)
	time.Sleep(30 * time.Millisecond)
	p.mu.Lock()
	pings := p.pings
	p.mu.Unlock()
	if pings == 0 {
		t.Fatal("the server never pinged an idle socket")
	}
	select {
	case f := <-p.out:
		t.Fatalf("disconnected although a ping came 20 s ago: %s", f)
	default:
	}
	clock.Advance(11 * time.Second)
	f := p.next(t)
	if f["action"] != "agent_disconnected" || f["payload"].(map[string]any)["reason"] != "connection_timeout" {
		t.Fatalf("want connection_timeout after 31 s of silence, got %v", f)
	}
	<-done
}
