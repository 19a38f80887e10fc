package rtm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/api"
	"github.com/chatbridge/chatbridge/livechat/mongostore/storetest"
)

// benchConn is an in-memory Conn: the benchmark writes client frames into in
// and reads server frames from out.
type benchConn struct {
	in   chan []byte
	out  chan []byte
	done chan struct{}
}

func newBenchConn() *benchConn {
	return &benchConn{in: make(chan []byte, 64), out: make(chan []byte, 256), done: make(chan struct{})}
}

func (c *benchConn) Read(ctx context.Context) ([]byte, error) {
	select {
	case m := <-c.in:
		return m, nil
	case <-c.done:
		return nil, errors.New("closed")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *benchConn) Write(_ context.Context, msg []byte) error {
	select {
	case c.out <- msg:
		return nil
	case <-c.done:
		return errors.New("closed")
	}
}

func (c *benchConn) Ping(context.Context) error { return nil }
func (c *benchConn) Close(int, string) error {
	select {
	case <-c.done:
	default:
		close(c.done)
	}
	return nil
}
func (c *benchConn) LastActivity() time.Time { return time.Time{} }
func (c *benchConn) RemoteAddr() string      { return "bench" }

// next reads one server frame, failing after a generous deadline.
func (c *benchConn) next(b *testing.B) []byte {
	select {
	case f := <-c.out:
		return f
	case <-time.After(10 * time.Second):
		b.Fatal("no frame from the session")
		return nil
	}
}

// serveBench runs a session on a benchConn with cfg and logs it in as
// actor (subscribed to topics); the session ends with the benchmark.
func serveBench(b *testing.B, cfg *Config, actor livechat.Actor, topics ...livechat.Topic) *benchConn {
	b.Helper()
	cfg.API, cfg.Version = "agent", "3.5"
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Login = func(ctx context.Context, s *Session, _ json.RawMessage) (any, error) {
		s.Identify(actor, topics, nil)
		return struct{}{}, nil
	}
	c := newBenchConn()
	done := make(chan struct{})
	go func() { Serve(context.Background(), c, cfg); close(done) }()
	b.Cleanup(func() { c.Close(1000, ""); <-done })
	c.in <- []byte(`{"action":"login","request_id":"login","payload":{"token":"x"}}`)
	var r response
	if err := json.Unmarshal(c.next(b), &r); err != nil || !r.Success {
		b.Fatalf("login: %v %+v", err, r)
	}
	return c
}

// sendEventFrame is a typical agent request: send_event of a short message.
func sendEventFrame(chatID, requestID string) []byte {
	return fmt.Appendf(nil, `{"action":"send_event","request_id":%q,"payload":{"chat_id":%q,"event":{"type":"message","visibility":"all","text":"Hello, how can I help you today?"}}}`, requestID, chatID)
}

// BenchmarkFrameDecode is the reader's work per inbound frame: the envelope
// decode (payload kept raw) and the request id.
func BenchmarkFrameDecode(b *testing.B) {
	frame := sendEventFrame("QX1F0Y2V3ZJ4K5M6N7P8Q9CH", "42")
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		var req request
		if err := json.Unmarshal(frame, &req); err != nil || req.Action != "send_event" || req.requestID() != "42" {
			b.Fatalf("decode: %v %+v", err, req)
		}
	}
}

// BenchmarkSessionRequest is one request through a logged-in session with
// a stub send_event that decodes its typed payload and answers an event id:
// reader decode, pending count, hand-off to the worker, table lookup,
// handler, response encode, outbox and writer. No core, no store.
// "roundtrip" waits for each response (latency); "pipelined" keeps 8
// requests in flight (below the pending limit of 10: throughput).
func BenchmarkSessionRequest(b *testing.B) {
	table := api.NewTable(api.Method{Name: "send_event", Handler: func(_ context.Context, c *api.Call) (any, error) {
		var p struct {
			ChatID string `json:"chat_id"`
			Event  struct {
				Type       string `json:"type"`
				Visibility string `json:"visibility"`
				Text       string `json:"text"`
			} `json:"event"`
		}
		if err := json.Unmarshal(c.Payload, &p); err != nil {
			return nil, err
		}
		return api.M{"event_id": "QX1F0Y2V3ZJ4K5M6N7P8Q9R0"}, nil
	}})
	actor := livechat.AgentActor(&livechat.Agent{ID: "agent@example.com"})
	frame := sendEventFrame("QX1F0Y2V3ZJ4K5M6N7P8Q9CH", "42")
	b.Run("roundtrip", func(b *testing.B) {
		c := serveBench(b, &Config{Table: table}, actor)
		b.ReportAllocs()
		for b.Loop() {
			c.in <- frame
			c.next(b)
		}
	})
	b.Run("pipelined", func(b *testing.B) {
		const window = 8
		c := serveBench(b, &Config{Table: table}, actor)
		b.ReportAllocs()
		inFlight := 0
		for b.Loop() {
			for inFlight < window {
				c.in <- frame
				inFlight++
			}
			c.next(b)
			inFlight--
		}
		for ; inFlight > 0; inFlight-- {
			c.next(b)
		}
	})
}

// BenchmarkSessionSendEvent is send_event end to end over an RTM session on
// the real core and the embedded FerretDB store: frame decode, dispatch
// through the Agent API table, the core's writes, the domain event through
// the hub, then the response and the requester's own incoming_event push
// (with its request_id) written to the socket. One request at a time.
func BenchmarkSessionSendEvent(b *testing.B) {
	ctx := context.Background()
	store := storetest.Open(b)
	hub := livechat.NewHub(livechat.HubConfig{})
	svc, err := livechat.NewService(ctx, livechat.Config{Store: store, Publisher: hub, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	a, err := svc.CreateAgent(ctx, livechat.System(), livechat.AgentInput{Email: "owner@bench.test", Role: livechat.RoleOwner})
	if err != nil {
		b.Fatal(err)
	}
	owner := livechat.AgentActor(a)
	cu, err := svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{})
	if err != nil {
		b.Fatal(err)
	}
	view, err := svc.StartChat(ctx, owner, livechat.StartChatInput{CustomerID: cu.ID, Active: true})
	if err != nil {
		b.Fatal(err)
	}
	cfg := &Config{Service: svc, Hub: hub, Table: api.AgentTable(), Pushes: api.AgentPushes}
	c := serveBench(b, cfg, owner, livechat.AgentTopic(a.ID))
	frame := sendEventFrame(view.Chat.ID, "42")
	b.ReportAllocs()
	for b.Loop() {
		c.in <- frame
		var r response
		if err := json.Unmarshal(c.next(b), &r); err != nil || !r.Success || r.Action != "send_event" {
			b.Fatalf("response: %v %+v", err, r)
		}
		var p api.PushFrame
		if err := json.Unmarshal(c.next(b), &p); err != nil || p.Action != "incoming_event" || p.RequestID != "42" {
			b.Fatalf("push: %v %+v", err, p)
		}
	}
}

// BenchmarkSessionAccepts is the hub's per-session filter for one chat
// event reaching an agent through its own topic (run for every subscribed
// session on every event).
func BenchmarkSessionAccepts(b *testing.B) {
	agent := &livechat.Agent{ID: "agent.one@example.com", Kind: livechat.AgentKindHuman, Role: livechat.RoleNormal}
	actor := livechat.AgentActor(agent)
	var sess *Session
	cfg := &Config{Table: api.AgentTable(), Pushes: api.AgentPushes}
	c := newBenchConn()
	cfg.API, cfg.Version = "agent", "3.5"
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Login = func(_ context.Context, s *Session, _ json.RawMessage) (any, error) {
		s.Identify(actor, nil, nil)
		sess = s
		return struct{}{}, nil
	}
	done := make(chan struct{})
	go func() { Serve(context.Background(), c, cfg); close(done) }()
	b.Cleanup(func() { c.Close(1000, ""); <-done })
	c.in <- []byte(`{"action":"login","request_id":"login","payload":{"token":"x"}}`)
	c.next(b)
	ev := &livechat.DomainEvent{Kind: livechat.KindIncomingEvent, ChatID: "chat1",
		Topics: []livechat.Topic{livechat.CustomerTopic("c1"), livechat.AgentTopic("agent.two@example.com"), livechat.AgentTopic(agent.ID)}}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if !sess.Accepts(ev) {
			b.Fatal("the agent's own event was not accepted")
		}
	}
}
