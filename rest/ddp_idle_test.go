package rest_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/mongostore/storetest"
	"github.com/chatbridge/chatbridge/rest"
)

// newIdleEnv starts a server whose core runs on clock. The RTM sessions keep
// the system clock, so jumping the core's clock by minutes does not trip
// their 30-second liveness rule; DDP sessions follow the core's clock and
// stay up by answering the heartbeats the jump triggers (see ddpNudge).
func newIdleEnv(t *testing.T, clock livechat.Clock) *env {
	t.Helper()
	store := storetest.Open(t)
	hub := livechat.NewHub(livechat.HubConfig{})
	t.Cleanup(hub.Close)
	svc, err := livechat.NewService(t.Context(), livechat.Config{Store: store, Publisher: hub, Clock: clock, PasswordCost: bcrypt.MinCost})
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	s, err := rest.NewServer(rest.Config{Service: svc, Store: store, Hub: hub, RTM: rest.RTMTuning{Clock: livechat.SystemClock{}}})
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &env{svc: svc, store: store, srv: srv}
}

// TestDDPIdleThreadClose: a thread that gets an event at minute 29 survives
// the 30-minute idle rule; 30 minutes after its last event it is closed, and
// the agent (Agent RTM), the customer (Customer RTM) and the agent on DDP all
// receive the close.
func TestDDPIdleThreadClose(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := livechat.NewFakeClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	e := newIdleEnv(t, clock)
	a, d, uid := e.ddpAgent(t, "idle.ddp@example.com")
	b, err := e.svc.CreateAgent(ctx, livechat.System(), livechat.AgentInput{Email: "idle.rtm@example.com", Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	agent := e.dialRTM(t, "3.5")
	agent.call("login", map[string]any{"token": "Bearer " + e.passwordGrant(t, b.Email, testPassword)["access_token"].(string)})
	cu := e.newCustomer(t)
	cust, _ := e.loginCustomer(t, cu)
	view, err := e.svc.StartChat(ctx, livechat.AgentActor(b), livechat.StartChatInput{CustomerID: cu.id, AgentIDs: []string{a.ID}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	rid := view.Chat.ID
	agent.push("incoming_chat")
	cust.push("incoming_chat")
	d.mustSub("stream-room-messages", rid, false)
	d.mustSub("stream-notify-user", uid+"/rooms-changed", false)
	d.mustSub("stream-notify-user", uid+"/subscriptions-changed", false)

	// advance moves the core's clock; an inbound DDP message right after it
	// answers any heartbeat ping the jump makes the server send.
	advance := func(by time.Duration) {
		t.Helper()
		clock.Advance(by)
		d.mustCall("rooms/get")
	}
	sweep := func(want int) {
		t.Helper()
		n, err := e.svc.CloseIdleThreads(ctx, 30*time.Minute)
		if err != nil || n != want {
			t.Fatalf("CloseIdleThreads at %v = %d, %v; want %d", clock.Now(), n, err, want)
		}
	}

	// An event at minute 29 keeps the thread open past minute 30.
	advance(29 * time.Minute)
	cust.call("send_event", map[string]any{"chat_id": rid, "event": map[string]any{"type": "message", "text": "still here"}})
	agent.push("incoming_event")
	d.stream("stream-room-messages", rid, func(a []any) bool { return msgOf(a)["msg"] == "still here" })
	advance(time.Minute)
	sweep(0)
	advance(28*time.Minute + 59*time.Second) // just under 30 minutes after the last event
	sweep(0)
	if v, err := e.svc.GetChat(ctx, livechat.AgentActor(b), rid, ""); err != nil || v.Thread == nil || !v.Thread.Active {
		t.Fatalf("thread after 29:59 idle: %+v, %v", v, err)
	}

	// 30 minutes after the last event: closed, and everyone is told.
	advance(time.Second)
	sweep(1)
	for who, rc := range map[string]*rtmClient{"agent": agent, "customer": cust} {
		if p := payload(rc.push("chat_deactivated")); p["chat_id"] != rid {
			t.Fatalf("%s chat_deactivated %v", who, p)
		}
	}
	closed := d.stream("stream-notify-user", uid+"/rooms-changed", func(a []any) bool {
		return a[0] == "updated" && a[1].(map[string]any)["_id"] == rid && a[1].(map[string]any)["open"] == nil
	})
	if closed[1].(map[string]any)["closedAt"] == nil {
		t.Fatalf("closed room %v", closed)
	}
	d.stream("stream-room-messages", rid, func(a []any) bool { return msgOf(a)["t"] == "livechat-close" })
	d.stream("stream-notify-user", uid+"/subscriptions-changed", func(a []any) bool { return a[0] == "removed" })
	sweep(0) // closed once
}
