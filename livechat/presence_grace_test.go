package livechat_test

import (
	"context"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

// graceAgent is an accepting agent of group 1 whose only session just closed.
func graceAgent(t *testing.T, r *routed, email string) livechat.Actor {
	t.Helper()
	a := r.mkAgent(email, 5, true, 1)
	r.svc.AgentDisconnected(context.Background(), a.ID)
	return a
}

func (r *routed) statusOf(a livechat.Actor) string {
	r.t.Helper()
	return r.svc.EffectiveRoutingStatus(must[*livechat.Agent](r.t)(r.svc.GetAgent(context.Background(), r.owner, a.ID)))
}

func (r *routed) lastOfflineOf(id string) bool {
	for _, e := range r.eventsOf(livechat.KindRoutingStatusSet, "") {
		if d := e.Data.(livechat.RoutingStatusData); d.AgentID == id && d.Status == livechat.RoutingOffline {
			return true
		}
	}
	return false
}

func TestOfflineGraceJustUnder(t *testing.T) {
	t.Parallel()
	r := newRouted(t)
	ctx := context.Background()
	a := graceAgent(t, r, "under@example.com")
	r.clock.Advance(30*time.Second - time.Millisecond)
	if n := must[int](t)(r.svc.ExpireOfflineAgents(ctx)); n != 0 {
		t.Fatalf("expired %d agents within the grace", n)
	}
	if s := r.statusOf(a); s != livechat.RoutingAccepting {
		t.Fatalf("status within the grace %s", s)
	}
	c := r.start(1)
	r.wantAgents(c.Chat.ID, a.ID)
	if r.lastOfflineOf(a.ID) {
		t.Fatal("routing_status_set offline within the grace")
	}
}

func TestOfflineGraceJustOver(t *testing.T) {
	t.Parallel()
	r := newRouted(t)
	ctx := context.Background()
	a := graceAgent(t, r, "over@example.com")
	r.clock.Advance(30*time.Second + time.Millisecond)
	if s := r.statusOf(a); s != livechat.RoutingOffline {
		t.Fatalf("status past the grace %s", s)
	}
	if n := must[int](t)(r.svc.ExpireOfflineAgents(ctx)); n != 1 {
		t.Fatalf("expired %d agents, want 1", n)
	}
	if !r.lastOfflineOf(a.ID) {
		t.Fatal("no routing_status_set offline past the grace")
	}
	if n := must[int](t)(r.svc.ExpireOfflineAgents(ctx)); n != 0 {
		t.Fatalf("expired %d agents again", n)
	}
	c := r.start(1)
	r.wantQueued(c.Chat.ID, 1)
}

func TestOfflineGraceReconnect(t *testing.T) {
	t.Parallel()
	r := newRouted(t)
	ctx := context.Background()
	a := graceAgent(t, r, "back@example.com")
	before := len(r.eventsOf(livechat.KindRoutingStatusSet, ""))
	r.clock.Advance(20 * time.Second)
	r.svc.AgentConnected(ctx, a.ID)
	r.clock.Advance(20 * time.Second) // past the first grace
	if n := must[int](t)(r.svc.ExpireOfflineAgents(ctx)); n != 0 {
		t.Fatalf("expired %d agents after a reconnect", n)
	}
	if s := r.statusOf(a); s != livechat.RoutingAccepting {
		t.Fatalf("status after a reconnect %s", s)
	}
	if after := len(r.eventsOf(livechat.KindRoutingStatusSet, "")); after != before {
		t.Fatalf("routing_status_set events across a reconnect within the grace: %d -> %d", before, after)
	}
	c := r.start(1)
	r.wantAgents(c.Chat.ID, a.ID)
}
