package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/api"
	"github.com/chatbridge/chatbridge/livechat/mongostore/storetest"
)

// benchEvent is a typical agent message as stored: ids, author, a
// ~100-character text, no properties.
func benchEvent() *livechat.Event {
	return &livechat.Event{
		ID: "QX1F0Y2V3ZJ4K5M6N7P8Q9R0", ChatID: "QX1F0Y2V3ZJ4K5M6N7P8Q9CH", ThreadID: "QX1F0Y2V3ZJ4K5M6N7P8Q9TH",
		Type: livechat.EventMessage, Visibility: livechat.VisibilityAll, AuthorID: "agent@example.com",
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC),
		Text:      strings.Repeat("Hello, how can I help you today? ", 3),
	}
}

// BenchmarkEncodePushIncomingEvent renders one incoming_event push frame:
// the push table lookup, the payload shape and json.Marshal of the envelope.
// The hub does this once per audience per event.
func BenchmarkEncodePushIncomingEvent(b *testing.B) {
	e := benchEvent()
	ev := &livechat.DomainEvent{Kind: livechat.KindIncomingEvent, ChatID: e.ChatID, ThreadID: e.ThreadID,
		RequesterID: e.AuthorID, Topics: []livechat.Topic{livechat.AgentTopic(e.AuthorID)},
		Data: livechat.IncomingEventData{Event: e}}
	ctx := context.Background()
	for _, v := range []string{"3.5", "3.3"} {
		b.Run("v"+v, func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				name, frame, err := api.EncodePush(ctx, nil, api.AgentPushes, ev, v, "")
				if err != nil || name != "incoming_event" {
					b.Fatalf("EncodePush = %q, %v", name, err)
				}
				size = len(frame)
			}
			b.ReportMetric(float64(size), "bytes/frame")
		})
	}
}

// encodingSub is a subscribed session that encodes pushes for real and
// drops the frames (no socket): it puts the encode into send_event's cost.
type encodingSub struct {
	svc  *livechat.Service
	sent atomic.Int64
}

func (s *encodingSub) SessionID() uint64 { return 1 }
func (s *encodingSub) Audience() string  { return "agent/3.5" }
func (s *encodingSub) Accepts(ev *livechat.DomainEvent) bool {
	return ev.Kind == livechat.KindIncomingEvent
}
func (s *encodingSub) Send([]byte) bool  { s.sent.Add(1); return true }
func (s *encodingSub) Disconnect(string) {}

func (s *encodingSub) Encode(ev *livechat.DomainEvent, requestID string) ([]byte, error) {
	_, f, err := api.EncodePush(context.Background(), s.svc, api.AgentPushes, ev, "3.5", requestID)
	return f, err
}

// sendEventFixture is a core on a fresh embedded store with an owner agent,
// chats with one customer each, and one subscribed session of the owner.
type sendEventFixture struct {
	svc     *livechat.Service
	owner   livechat.Actor
	chatIDs []string
	sub     *encodingSub
	method  api.Method
}

func newSendEventFixture(b *testing.B, chats int) *sendEventFixture {
	b.Helper()
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
	f := &sendEventFixture{svc: svc, owner: livechat.AgentActor(a), sub: &encodingSub{svc: svc}}
	for range chats {
		c, err := svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{})
		if err != nil {
			b.Fatal(err)
		}
		view, err := svc.StartChat(ctx, f.owner, livechat.StartChatInput{CustomerID: c.ID, Active: true})
		if err != nil {
			b.Fatal(err)
		}
		f.chatIDs = append(f.chatIDs, view.Chat.ID)
	}
	hub.Subscribe(f.sub, livechat.AgentTopic(a.ID))
	if f.method, err = api.AgentTable().Lookup("send_event", "3.5", true); err != nil {
		b.Fatal(err)
	}
	return f
}

func (f *sendEventFixture) payload(chatID string, i int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"chat_id":%q,"event":{"type":"message","visibility":"all","text":"Hello, how can I help you today? #%d"}}`, chatID, i))
}

func (f *sendEventFixture) send(b *testing.B, ctx context.Context, chatID string, i int) {
	out, err := f.method.Handler(ctx, &api.Call{Svc: f.svc, Actor: f.owner, Version: "3.5", Payload: f.payload(chatID, i)})
	if err != nil {
		b.Error(err)
		return
	}
	if out.(api.M)["event_id"] == "" {
		b.Error("send_event answered no event_id")
	}
}

// BenchmarkSendEvent is the Agent API's send_event end to end below the
// transport: payload decode, the core (chat lock, authorization, the event
// insert, thread and chat writes on the embedded FerretDB store), the domain
// event through the hub and one incoming_event push encoded for the owner's
// subscribed session. "serial" is one chat, one call at a time (latency);
// "parallel-8chats" spreads concurrent calls over 8 chats (the core
// serializes the writes of one chat, not of different chats).
func BenchmarkSendEvent(b *testing.B) {
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		f := newSendEventFixture(b, 1)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			f.send(b, ctx, f.chatIDs[0], i)
			i++
		}
		if got := f.sub.sent.Load(); got != int64(i) {
			b.Fatalf("%d pushes for %d events", got, i)
		}
	})
	b.Run("parallel-8chats", func(b *testing.B) {
		f := newSendEventFixture(b, 8)
		var next atomic.Int64
		b.ReportAllocs()
		b.SetParallelism(4)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(next.Add(1))
				f.send(b, ctx, f.chatIDs[i%len(f.chatIDs)], i)
			}
		})
		b.StopTimer()
		b.ReportMetric(float64(next.Load())/b.Elapsed().Seconds(), "events/s")
	})
}
