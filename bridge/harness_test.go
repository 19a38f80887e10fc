package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/chatbridge/chatbridge/ddp"
	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/mongostore/storetest"
)

// The bridge in process: the core on a throwaway store, a hub, a ddp.Server
// with the bridge registered, and DDP clients on in-memory connections.

const waitFor = 10 * time.Second

type harness struct {
	t   testing.TB
	svc *livechat.Service
	hub *livechat.Hub
	b   *Bridge
	srv *ddp.Server
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	store := storetest.Open(t)
	hub := livechat.NewHub(livechat.HubConfig{})
	t.Cleanup(hub.Close)
	svc, err := livechat.NewService(context.Background(), livechat.Config{Store: store, Publisher: hub, PasswordCost: bcrypt.MinCost, AgentOfflineGrace: -1}) // offline as soon as the last session closes
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ddp.NewServer(ddp.Config{RateLimits: RateLimits()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Config{Service: svc, Hub: hub})
	if err != nil {
		t.Fatal(err)
	}
	b.Register(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return &harness{t: t, svc: svc, hub: hub, b: b, srv: srv}
}

func (h *harness) agent(email string) *livechat.Agent {
	h.t.Helper()
	a, err := h.svc.CreateAgent(context.Background(), livechat.System(), livechat.AgentInput{Email: email, Password: "secret123"})
	if err != nil {
		h.t.Fatal(err)
	}
	return a
}

// pipe is an in-memory ddp.Conn.
type pipe struct {
	in   chan []byte
	out  chan []byte
	done chan struct{}
	once sync.Once
}

func (p *pipe) Read(ctx context.Context) ([]byte, error) {
	select {
	case m := <-p.in:
		return m, nil
	case <-p.done:
		return nil, errors.New("closed")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *pipe) Write(ctx context.Context, msg []byte) error {
	select {
	case p.out <- msg:
		return nil
	case <-p.done:
		return errors.New("closed")
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *pipe) Ping(context.Context) error { return nil }
func (p *pipe) LastActivity() time.Time    { return time.Time{} }
func (p *pipe) RemoteAddr() string         { return "192.0.2.7" }

func (p *pipe) Close(int, string) error {
	p.once.Do(func() { close(p.done) })
	return nil
}

func newPipe() *pipe {
	return &pipe{in: make(chan []byte, 64), out: make(chan []byte, 4096), done: make(chan struct{})}
}

func (c *client) nextID() string {
	c.n++
	return strconv.Itoa(c.n)
}

func (c *client) rawSend(m map[string]any) {
	b, _ := json.Marshal(m)
	c.p.in <- b
}

func (c *client) seen() []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs)
}

func (c *client) count(ok func(map[string]any) bool) int {
	n := 0
	for _, m := range c.seen() {
		if ok(m) {
			n++
		}
	}
	return n
}

// client is one DDP connection of the harness.
type client struct {
	t    testing.TB
	p    *pipe
	n    int
	mu   sync.Mutex
	msgs []map[string]any
	took []bool
	more chan struct{}
}

func (h *harness) dial() *client {
	p := newPipe()
	h.t.Cleanup(func() { _ = p.Close(1000, "") })
	go h.srv.Serve(context.Background(), p)
	c := &client{t: h.t, p: p, more: make(chan struct{}, 1)}
	go func() {
		for {
			select {
			case b := <-p.out:
				var m map[string]any
				if json.Unmarshal(b, &m) != nil {
					continue
				}
				c.mu.Lock()
				c.msgs = append(c.msgs, m)
				c.took = append(c.took, false)
				c.mu.Unlock()
				select {
				case c.more <- struct{}{}:
				default:
				}
			case <-p.done:
				return
			}
		}
	}()
	c.rawSend(map[string]any{"msg": "connect", "version": "1", "support": []string{"1"}})
	c.take("connected", func(m map[string]any) bool { return m["msg"] == "connected" })
	return c
}

func (c *client) take(what string, ok func(map[string]any) bool) map[string]any {
	c.t.Helper()
	deadline := time.After(waitFor)
	for {
		c.mu.Lock()
		for i, m := range c.msgs {
			if !c.took[i] && ok(m) {
				c.took[i] = true
				c.mu.Unlock()
				return m
			}
		}
		c.mu.Unlock()
		select {
		case <-c.more:
		case <-deadline:
			c.t.Fatalf("timed out waiting for %s; got %v", what, c.seen())
		}
	}
}

func (c *client) call(method string, params ...any) (any, map[string]any) {
	c.t.Helper()
	if params == nil {
		params = []any{}
	}
	id := c.nextID()
	c.rawSend(map[string]any{"msg": "method", "id": id, "method": method, "params": params})
	r := c.take("result "+method, func(m map[string]any) bool { return m["msg"] == "result" && m["id"] == id })
	e, _ := r["error"].(map[string]any)
	return r["result"], e
}

func (c *client) mustCall(method string, params ...any) any {
	c.t.Helper()
	r, e := c.call(method, params...)
	if e != nil {
		c.t.Fatalf("%s: %v", method, e)
	}
	return r
}

func (c *client) sub(name string, params ...any) map[string]any {
	c.t.Helper()
	if params == nil {
		params = []any{}
	}
	id := "s" + c.nextID()
	c.rawSend(map[string]any{"msg": "sub", "id": id, "name": name, "params": params})
	m := c.take("sub "+name, func(m map[string]any) bool {
		subs, _ := m["subs"].([]any)
		return m["msg"] == "ready" && slices.Contains(subs, any(id)) || m["msg"] == "nosub" && m["id"] == id
	})
	if m["msg"] == "nosub" {
		e, _ := m["error"].(map[string]any)
		return e
	}
	return nil
}

func (c *client) login(username, password string) string {
	c.t.Helper()
	r := c.mustCall("login", map[string]any{"user": map[string]any{"username": username}, "password": password})
	return r.(map[string]any)["id"].(string)
}

func (c *client) stream(collection, eventName string, ok func([]any) bool) []any {
	c.t.Helper()
	m := c.take(collection+" "+eventName, func(m map[string]any) bool {
		f, _ := m["fields"].(map[string]any)
		args, _ := f["args"].([]any)
		return m["msg"] == "changed" && m["collection"] == collection && f["eventName"] == eventName && (ok == nil || ok(args))
	})
	return m["fields"].(map[string]any)["args"].([]any)
}
