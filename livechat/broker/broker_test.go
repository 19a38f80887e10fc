package broker_test

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"golang.org/x/crypto/bcrypt"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/broker"
	"github.com/chatbridge/chatbridge/livechat/mongostore/storetest"
)

// startNATS runs an in-process NATS server on a free loopback port.
func startNATS(t *testing.T) string {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS did not start")
	}
	t.Cleanup(s.Shutdown)
	return s.ClientURL()
}

// recorder is a livechat.Publisher that keeps what it receives.
type recorder struct {
	mu  sync.Mutex
	evs []*livechat.DomainEvent
}

func (r *recorder) Publish(ev *livechat.DomainEvent) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
}

func (r *recorder) wait(t *testing.T, what string, ok func(*livechat.DomainEvent) bool) *livechat.DomainEvent {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for _, ev := range r.evs {
			if ok(ev) {
				r.mu.Unlock()
				return ev
			}
		}
		r.mu.Unlock()
		time.Sleep(5 * time.Millisecond) // poll interval, not a wait for an event
	}
	t.Fatalf("no %s reached the other instance", what)
	return nil
}

// TestBrokerCarriesDomainEvents: the events one instance's core emits
// reach the other instance with their payloads (chats, events with their
// chat and thread ids, properties, typing, routing), and not their own.
func TestBrokerCarriesDomainEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := startNATS(t)
	a, b := &recorder{}, &recorder{}
	ba, err := broker.Connect(ctx, broker.Config{URL: url, OrganizationID: "org", Instance: "a", Local: a})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ba.Close() })
	bb, err := broker.Connect(ctx, broker.Config{URL: url, OrganizationID: "org", Instance: "b", Local: b})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bb.Close() })
	other, err := broker.Connect(ctx, broker.Config{URL: url, OrganizationID: "another-org", Instance: "c", Local: &recorder{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })

	svc, err := livechat.NewService(ctx, livechat.Config{Store: storetest.Open(t), Publisher: ba, PasswordCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	sys := livechat.System()
	ann, err := svc.CreateAgent(ctx, sys, livechat.AgentInput{Email: "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	cust, err := svc.CreateCustomer(ctx, sys, livechat.CustomerInput{Name: ptr("Cleo")})
	if err != nil {
		t.Fatal(err)
	}
	view, err := svc.StartChat(ctx, livechat.AgentActor(ann), livechat.StartChatInput{CustomerID: cust.ID, AgentIDs: []string{ann.ID}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	chatID := view.Chat.ID
	ev, _, err := svc.SendEventWithID(ctx, livechat.CustomerActor(cust), chatID, livechat.NewID(),
		livechat.Event{Type: livechat.EventMessage, Text: "hello", Properties: livechat.Properties{"ns": {"n": 1.5, "s": "x", "b": true}}},
		livechat.SendEventOptions{})
	if err != nil {
		t.Fatal(err)
	}
	custom, _, err := svc.SendEventWithID(ctx, livechat.AgentActor(ann), chatID, livechat.NewID(),
		livechat.Event{Type: livechat.EventCustom, CustomID: "c1", Content: map[string]any{"l": []any{"a", map[string]any{"k": true}}, "n": nil}},
		livechat.SendEventOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SendTypingIndicator(ctx, livechat.AgentActor(ann), chatID, livechat.VisibilityAll, true); err != nil {
		t.Fatal(err)
	}

	got := b.wait(t, "incoming_chat", func(e *livechat.DomainEvent) bool { return e.Kind == livechat.KindIncomingChat })
	if d, ok := got.Data.(livechat.IncomingChatData); !ok || d.Chat == nil || d.Chat.ID != chatID || d.Thread == nil || got.ChatID != chatID {
		t.Fatalf("incoming_chat %+v", got)
	}
	got = b.wait(t, "incoming_event", func(e *livechat.DomainEvent) bool { return e.Kind == livechat.KindIncomingEvent })
	d, ok := got.Data.(livechat.IncomingEventData)
	if !ok || d.Event.ID != ev.ID || d.Event.ChatID != chatID || d.Event.ThreadID != ev.ThreadID || d.Event.Text != "hello" ||
		!d.Event.CreatedAt.Equal(ev.CreatedAt) || d.Event.Properties["ns"]["n"] != 1.5 {
		t.Fatalf("incoming_event %+v %+v", got, d.Event)
	}
	got2 := b.wait(t, "the custom event", func(e *livechat.DomainEvent) bool {
		d, ok := e.Data.(livechat.IncomingEventData)
		return ok && d.Event.ID == custom.ID
	})
	content, _ := got2.Data.(livechat.IncomingEventData).Event.Content.(map[string]any)
	if l, _ := content["l"].([]any); len(l) != 2 || l[1].(map[string]any)["k"] != true {
		t.Fatalf("nested content %#v", content)
	}
	if len(got.Topics) == 0 || got.RequesterID != cust.ID || got.Origin != (livechat.Origin{}) {
		t.Fatalf("envelope %+v", got)
	}
	b.wait(t, "typing", func(e *livechat.DomainEvent) bool { return e.Kind == livechat.KindIncomingTypingIndicator })

	// An instance does not hear its own events back.
	time.Sleep(50 * time.Millisecond)
	a.mu.Lock()
	own := len(a.evs)
	a.mu.Unlock()
	if own != 0 {
		t.Fatalf("instance a heard %d of its own events", own)
	}
	if sent, received, dropped := ba.Stats(); sent == 0 || received != 0 || dropped != 0 {
		t.Fatalf("a: sent %d received %d dropped %d", sent, received, dropped)
	}
	if _, received, _ := other.Stats(); received != 0 {
		t.Fatalf("another organization received %d events", received)
	}
}

func TestBrokerConnectErrors(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := broker.Connect(ctx, broker.Config{URL: "nats://127.0.0.1:1", Local: &recorder{}}); err == nil {
		t.Fatal("connected to nothing")
	}
	if _, err := broker.Connect(ctx, broker.Config{URL: "", Local: &recorder{}}); err == nil {
		t.Fatal("connected without a URL")
	}
}

func ptr[T any](v T) *T { return &v }

// counter counts what it receives.
type counter struct{ n atomic.Int64 }

func (c *counter) Publish(*livechat.DomainEvent) { c.n.Add(1) }

// BenchmarkBrokerRelay is one incoming_event (a short message) from one
// instance's core to another instance's hub through an in-process NATS
// server: encode, publish, deliver, decode.
func BenchmarkBrokerRelay(b *testing.B) {
	ctx := context.Background()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		b.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		b.Fatal("NATS did not start")
	}
	defer s.Shutdown()
	recv := &counter{}
	quiet := slog.New(slog.DiscardHandler)
	from, err := broker.Connect(ctx, broker.Config{URL: s.ClientURL(), OrganizationID: "org", Local: &counter{}, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer from.Close()
	to, err := broker.Connect(ctx, broker.Config{URL: s.ClientURL(), OrganizationID: "org", Local: recv, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer to.Close()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := &livechat.DomainEvent{Kind: livechat.KindIncomingEvent, ChatID: "chat1", ThreadID: "thread1", RequesterID: "cust1", At: at,
		Topics: []livechat.Topic{livechat.AgentTopic("a@example.com"), livechat.CustomerTopic("cust1")},
		Data: livechat.IncomingEventData{Event: &livechat.Event{ID: "ev1", ChatID: "chat1", ThreadID: "thread1", Type: livechat.EventMessage,
			Visibility: livechat.VisibilityAll, AuthorID: "cust1", CreatedAt: at, Text: "Hello, how can I help you today?"}}}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		from.Publish(ev)
	}
	for recv.n.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
		if _, _, dropped := to.Stats(); dropped > 0 {
			b.Fatalf("%d events dropped", dropped)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
