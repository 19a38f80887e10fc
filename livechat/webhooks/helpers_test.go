package webhooks_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/api"
	"github.com/chatbridge/chatbridge/livechat/mongostore/storetest"
	"github.com/chatbridge/chatbridge/livechat/webhooks"
)

// switchPub lets a test swap the dispatcher behind a running core, as a
// restart would.
type switchPub struct {
	p atomic.Pointer[webhooks.Dispatcher]
}

func (s *switchPub) Publish(ev *livechat.DomainEvent) {
	if d := s.p.Load(); d != nil {
		d.Publish(ev)
	}
}

type fixture struct {
	svc      *livechat.Service
	store    livechat.Store
	clock    *livechat.FakeClock
	pub      *switchPub
	owner    livechat.Actor
	agent    livechat.Actor
	customer livechat.Actor
	rcv      *receiver
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{store: storetest.Open(t), clock: livechat.NewFakeClock(time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)), pub: &switchPub{}}
	svc, err := livechat.NewService(ctx, livechat.Config{Store: f.store, Publisher: f.pub, Clock: f.clock, PasswordCost: 4, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	mk := func(email, role string) livechat.Actor {
		a, err := svc.CreateAgent(ctx, livechat.System(), livechat.AgentInput{Email: email, Role: role, Name: email})
		if err != nil {
			t.Fatal(err)
		}
		return livechat.AgentActor(a)
	}
	f.owner = mk("owner@example.com", livechat.RoleOwner)
	f.agent = mk("agent@example.com", livechat.RoleNormal)
	c, err := svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{})
	if err != nil {
		t.Fatal(err)
	}
	f.customer = livechat.CustomerActor(c)
	f.rcv = newReceiver(t)
	return f
}

// start makes and starts a dispatcher on the fixture's core, stopped when
// the test ends, and makes it the core's publisher.
func (f *fixture) start(t *testing.T, cfg webhooks.Config) *webhooks.Dispatcher {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	d, err := webhooks.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background(), f.svc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = d.Stop(ctx)
	})
	f.pub.p.Store(d)
	return d
}

// register registers a webhook through the Configuration API method as the
// owner and returns its id; the dispatchers given reload at once.
func (f *fixture) register(t *testing.T, req map[string]any, ds ...*webhooks.Dispatcher) string {
	t.Helper()
	full := map[string]any{"secret_key": "s3cret", "owner_client_id": "app1", "type": "license"}
	for k, v := range req {
		full[k] = v
	}
	out := f.callAPI(t, f.owner, "register_webhook", full)
	for _, d := range ds {
		if err := d.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return out.(api.M)["id"].(string)
}

func (f *fixture) callAPI(t *testing.T, actor livechat.Actor, method string, req map[string]any) any {
	t.Helper()
	m, err := api.NewTable(api.WebhookMethods...).Lookup(method, "3.5", true)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(req)
	out, err := m.Handler(context.Background(), &api.Call{Svc: f.svc, Actor: actor, Version: "3.5", Payload: raw})
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return out
}

// chat starts a chat between the agent and the customer and returns its id.
func (f *fixture) chat(t *testing.T) string {
	t.Helper()
	v, err := f.svc.StartChat(context.Background(), f.agent, livechat.StartChatInput{CustomerID: f.customer.ID, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	return v.Chat.ID
}

func (f *fixture) send(t *testing.T, actor livechat.Actor, chatID, text string) *livechat.Event {
	t.Helper()
	e, err := f.svc.SendEvent(context.Background(), actor, chatID, livechat.Event{Type: livechat.EventMessage, Text: text}, livechat.SendEventOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// deliveries returns the stored deliveries of a webhook.
func (f *fixture) deliveries(t *testing.T, webhookID string) []livechat.WebhookDelivery {
	t.Helper()
	list, err := f.store.Deliveries().Find(context.Background(), livechat.Where(livechat.Eq("webhook_id", webhookID)))
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// post is one request the receiver got.
type post struct {
	path        string
	contentType string
	env         webhooks.Envelope
	raw         map[string]any
}

// receiver is a real HTTP webhook receiver; answer decides the status of
// the n-th (from 1) POST to a path.
type receiver struct {
	srv *httptest.Server

	mu     sync.Mutex
	posts  []post
	counts map[string]int
	answer func(path string, n int) int
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{counts: map[string]int{}, answer: func(string, int) int { return http.StatusOK }}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		p := post{path: req.URL.Path, contentType: req.Header.Get("Content-Type")}
		_ = json.Unmarshal(b, &p.env)
		_ = json.Unmarshal(b, &p.raw)
		r.mu.Lock()
		r.counts[p.path]++
		n := r.counts[p.path]
		r.posts = append(r.posts, p)
		answer := r.answer
		r.mu.Unlock()
		w.WriteHeader(answer(p.path, n))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) url(path string) string { return r.srv.URL + path }

func (r *receiver) setAnswer(f func(path string, n int) int) {
	r.mu.Lock()
	r.answer = f
	r.mu.Unlock()
}

func (r *receiver) count(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[path]
}

func (r *receiver) postsTo(path string) []post {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []post
	for _, p := range r.posts {
		if p.path == path {
			out = append(out, p)
		}
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
