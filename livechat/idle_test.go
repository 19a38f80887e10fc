package livechat_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/mongostore/storetest"
)

const idleRule = 30 * time.Minute

// startIdleCandidate starts an active chat between f.agent and f.customer
// with one message, at the fixture clock's current time.
func startIdleCandidate(t *testing.T, f *fixture) *livechat.ChatView {
	t.Helper()
	return must[*livechat.ChatView](t)(f.svc.StartChat(context.Background(), f.agent, livechat.StartChatInput{
		CustomerID: f.customer.ID, Active: true, Thread: livechat.ThreadInput{Events: []livechat.Event{msg("hello")}}}))
}

// of returns the recorded events of kind about chatID.
func (r *recorder) of(kind livechat.Kind, chatID string) []livechat.DomainEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []livechat.DomainEvent
	for _, e := range r.events {
		if e.Kind == kind && e.ChatID == chatID {
			out = append(out, e)
		}
	}
	return out
}

// archivedInactive returns the routing.archived_inactive system messages of a thread.
func archivedInactive(t *testing.T, store livechat.Store, threadID string) []livechat.Event {
	t.Helper()
	evs, err := store.Events().Find(context.Background(), livechat.Where(livechat.Eq("thread_id", threadID), livechat.Eq("system_message_type", "routing.archived_inactive")))
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func closeIdle(t *testing.T, svc *livechat.Service) int {
	t.Helper()
	n, err := svc.CloseIdleThreads(context.Background(), idleRule)
	if err != nil {
		t.Fatalf("CloseIdleThreads: %v", err)
	}
	return n
}

func TestCloseIdleThreadsDeadline(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		after  time.Duration // since the last event
		closed bool
	}{
		{"just under", idleRule - time.Millisecond, false},
		{"at the deadline", idleRule, true},
		{"just over", idleRule + time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			view := startIdleCandidate(t, f)
			f.clock.Advance(tc.after)
			want := 0
			if tc.closed {
				want = 1
			}
			if n := closeIdle(t, f.svc); n != want {
				t.Fatalf("%v after the last event: closed %d, want %d", tc.after, n, want)
			}
			got := must[*livechat.ChatView](t)(f.svc.GetChat(context.Background(), livechat.System(), view.Chat.ID, ""))
			if got.Chat.Active() == tc.closed || got.Thread.Active == tc.closed {
				t.Fatalf("chat active %v, thread active %v; want closed %v", got.Chat.Active(), got.Thread.Active, tc.closed)
			}
		})
	}
}

func TestCloseIdleThreadsEventAtMinute29(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	view := startIdleCandidate(t, f)
	chatID, threadID := view.Chat.ID, view.Thread.ID

	f.clock.Advance(29 * time.Minute)
	must[*livechat.Event](t)(f.svc.SendEvent(ctx, f.customer, chatID, msg("still there?"), livechat.SendEventOptions{}))
	f.clock.Advance(time.Minute) // 30 minutes after the start, 1 after the last event
	n, next, err := f.svc.SweepIdleThreads(ctx, idleRule)
	if err != nil || n != 0 {
		t.Fatalf("a thread with an event at minute 29 was closed at minute 30 (%d closed, %v)", n, err)
	}
	if want := f.clock.Now().Add(idleRule - time.Minute); !next.Equal(want) {
		t.Fatalf("next sweep due %v, want %v (30 minutes after the event)", next, want)
	}
	f.clock.Advance(idleRule - time.Minute - time.Millisecond)
	if n := closeIdle(t, f.svc); n != 0 {
		t.Fatalf("closed 1 ms before 30 minutes of silence (%d closed)", n)
	}
	f.clock.Advance(time.Millisecond)
	if n := closeIdle(t, f.svc); n != 1 {
		t.Fatalf("after 30 minutes of silence: closed %d, want 1", n)
	}

	// The thread is closed by the system, with its routing message, and the
	// chat stays for the next thread.
	got := must[*livechat.ChatView](t)(f.svc.GetChat(ctx, livechat.System(), chatID, threadID))
	if got.Chat.Active() || got.Thread.Active || got.Thread.ClosedAt == nil || !got.Thread.ClosedAt.Equal(f.clock.Now()) {
		t.Fatalf("after the close: chat active %v, thread %+v", got.Chat.Active(), got.Thread)
	}
	last := got.Events[len(got.Events)-1]
	if last.Type != livechat.EventSystemMessage || last.SystemMessageType != "routing.archived_inactive" || last.AuthorID != "" || last.Visibility != livechat.VisibilityAll {
		t.Fatalf("last event %+v, want the routing.archived_inactive system message", last)
	}
	deact := f.rec.of(livechat.KindChatDeactivated, chatID)
	if len(deact) != 1 {
		t.Fatalf("%d chat_deactivated domain events, want 1", len(deact))
	}
	d := deact[0]
	if d.ThreadID != threadID || d.RequesterID != "" || d.Data.(livechat.ChatDeactivatedData).UserID != "" {
		t.Fatalf("chat_deactivated %+v, want thread %s and no user", d, threadID)
	}
	for _, want := range []livechat.Topic{livechat.AgentTopic(f.agent.ID), livechat.CustomerTopic(f.customer.ID)} {
		if !slices.Contains(d.Topics, want) {
			t.Errorf("chat_deactivated topics %v lack %s", d.Topics, want)
		}
	}
	if evs := f.rec.of(livechat.KindIncomingEvent, chatID); evs[len(evs)-1].Data.(livechat.IncomingEventData).Event.ID != last.ID {
		t.Errorf("the system message was not announced")
	}

	// A second sweep finds nothing; the customer resumes the chat in a new
	// thread, which is closed by the same rule in its turn.
	if n := closeIdle(t, f.svc); n != 0 {
		t.Fatalf("a closed thread was closed again (%d)", n)
	}
	resumed := must[*livechat.ChatView](t)(f.svc.ResumeChat(ctx, f.customer, chatID, livechat.ThreadInput{Events: []livechat.Event{msg("back")}}, true))
	if resumed.Thread.ID == threadID || !resumed.Thread.Active || resumed.Thread.PreviousThreadID != threadID {
		t.Fatalf("resumed thread %+v", resumed.Thread)
	}
	f.clock.Advance(idleRule)
	if n := closeIdle(t, f.svc); n != 1 {
		t.Fatalf("the resumed thread: closed %d, want 1", n)
	}
	if n := len(f.rec.of(livechat.KindChatDeactivated, chatID)); n != 2 {
		t.Fatalf("%d chat_deactivated in all, want 2", n)
	}
}

func TestCloseIdleThreadsLeavesOthers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	idle := startIdleCandidate(t, f)
	inactive := must[*livechat.ChatView](t)(f.svc.StartChat(ctx, f.other, livechat.StartChatInput{Active: false}))
	f.clock.Advance(idleRule / 2)
	busy := must[*livechat.ChatView](t)(f.svc.StartChat(ctx, f.owner, livechat.StartChatInput{CustomerID: f.stranger.ID, Active: true}))
	f.clock.Advance(idleRule / 2)
	if n := closeIdle(t, f.svc); n != 1 {
		t.Fatalf("closed %d, want only the idle chat", n)
	}
	if k := f.rec.of(livechat.KindChatDeactivated, idle.Chat.ID); len(k) != 1 {
		t.Fatalf("the idle chat got %d chat_deactivated", len(k))
	}
	for _, id := range []string{inactive.Chat.ID, busy.Chat.ID} {
		if k := f.rec.of(livechat.KindChatDeactivated, id); len(k) != 0 {
			t.Fatalf("chat %s was deactivated", id)
		}
	}
	if got := must[*livechat.ChatView](t)(f.svc.GetChat(ctx, livechat.System(), busy.Chat.ID, "")); !got.Chat.Active() {
		t.Fatal("the chat started 15 minutes ago was closed")
	}
	if _, err := f.svc.CloseIdleThreads(ctx, 0); err == nil {
		t.Fatal("a zero idle timeout was accepted")
	}
}

// TestCloseIdleThreadsOnceAcrossInstances runs two cores on one store (two
// instances) sweeping at once, again and again: the thread is closed once.
func TestCloseIdleThreadsOnceAcrossInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := storetest.Open(t)
	clock := livechat.NewFakeClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	recs := []*recorder{{}, {}}
	var svcs []*livechat.Service
	for _, rec := range recs {
		svcs = append(svcs, must[*livechat.Service](t)(livechat.NewService(ctx, livechat.Config{Store: store, Publisher: rec, Clock: clock, PasswordCost: 4})))
	}
	a := must[*livechat.Agent](t)(svcs[0].CreateAgent(ctx, livechat.System(), livechat.AgentInput{Email: "a@example.com"}))
	var chats []*livechat.ChatView
	for range 3 {
		cu := must[*livechat.Customer](t)(svcs[0].CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{}))
		chats = append(chats, must[*livechat.ChatView](t)(svcs[1].StartChat(ctx, livechat.AgentActor(a), livechat.StartChatInput{
			CustomerID: cu.ID, Active: true, Thread: livechat.ThreadInput{Events: []livechat.Event{msg("hi")}}})))
	}
	clock.Advance(idleRule)

	var mu sync.Mutex
	closed := 0
	var wg sync.WaitGroup
	for round := range 3 {
		for i := range 4 {
			wg.Go(func() {
				n, err := svcs[(i+round)%2].CloseIdleThreads(ctx, idleRule)
				if err != nil {
					t.Errorf("sweep: %v", err)
				}
				mu.Lock()
				closed += n
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	if closed != len(chats) {
		t.Fatalf("the sweeps closed %d threads, want %d", closed, len(chats))
	}
	for _, v := range chats {
		if n := len(archivedInactive(t, store, v.Thread.ID)); n != 1 {
			t.Errorf("chat %s: %d routing.archived_inactive messages, want 1", v.Chat.ID, n)
		}
		if n := len(recs[0].of(livechat.KindChatDeactivated, v.Chat.ID)) + len(recs[1].of(livechat.KindChatDeactivated, v.Chat.ID)); n != 1 {
			t.Errorf("chat %s: %d chat_deactivated over both instances, want 1", v.Chat.ID, n)
		}
	}
}

// claimHook is a store whose claim inserts run a hook once they succeed: an
// event arriving between the sweep's read and its re-check.
type claimHook struct {
	livechat.Store
	after func()
}

func (h *claimHook) Claims() livechat.Collection[livechat.Claim, string] {
	return hookedClaims{h.Store.Claims(), h}
}

type hookedClaims struct {
	livechat.Collection[livechat.Claim, string]
	h *claimHook
}

func (c hookedClaims) Insert(ctx context.Context, doc *livechat.Claim) error {
	err := c.Collection.Insert(ctx, doc)
	if err == nil && c.h.after != nil {
		c.h.after()
	}
	return err
}

func TestCloseIdleThreadsRechecksAndReleases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	hook := &claimHook{Store: storetest.Open(t)}
	clock := livechat.NewFakeClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	rec := &recorder{}
	svc := must[*livechat.Service](t)(livechat.NewService(ctx, livechat.Config{Store: hook, Publisher: rec, Clock: clock, PasswordCost: 4}))
	a := livechat.AgentActor(must[*livechat.Agent](t)(svc.CreateAgent(ctx, livechat.System(), livechat.AgentInput{Email: "a@example.com"})))
	v := must[*livechat.ChatView](t)(svc.StartChat(ctx, a, livechat.StartChatInput{Active: true}))
	claimID := "idle-close:" + v.Thread.ID
	clock.Advance(idleRule)

	// A message lands after the sweep read the chat as idle: the re-check
	// sees it, the thread stays, and the claim is given back.
	hook.after = func() {
		if _, err := svc.SendEvent(ctx, a, v.Chat.ID, msg("just in time"), livechat.SendEventOptions{}); err != nil {
			t.Error(err)
		}
	}
	if n := closeIdle(t, svc); n != 0 {
		t.Fatalf("closed %d despite the late event", n)
	}
	hook.after = nil
	if _, err := hook.Claims().Get(ctx, claimID); !errors.Is(err, livechat.ErrNotFound) {
		t.Fatalf("claim after a skipped close: %v, want it released", err)
	}

	// Another instance holds the claim and dies: the thread waits for the
	// claim to expire and be cleaned up, then the next sweep closes it.
	clock.Advance(idleRule)
	now := clock.Now()
	if err := hook.Claims().Insert(ctx, &livechat.Claim{ID: claimID, Owner: "dead", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if n := closeIdle(t, svc); n != 0 {
		t.Fatalf("closed %d while another instance holds the claim", n)
	}
	if n := must[int64](t)(svc.DeleteExpiredClaims(ctx)); n != 0 {
		t.Fatalf("removed %d live claims", n)
	}
	clock.Advance(time.Minute)
	if n := must[int64](t)(svc.DeleteExpiredClaims(ctx)); n != 1 {
		t.Fatalf("removed %d expired claims, want 1", n)
	}
	if n := closeIdle(t, svc); n != 1 {
		t.Fatalf("after the dead claim expired: closed %d, want 1", n)
	}
	c := must[*livechat.Claim](t)(hook.Claims().Get(ctx, claimID))
	if !c.ExpiresAt.Equal(clock.Now().Add(time.Minute)) || c.Owner == "" || c.Owner == "dead" {
		t.Fatalf("claim after the close %+v", c)
	}
}

func TestClaimWork(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if !must[bool](t)(f.svc.ClaimWork(ctx, "w", time.Minute)) {
		t.Fatal("a free claim was refused")
	}
	if must[bool](t)(f.svc.ClaimWork(ctx, "w", time.Minute)) {
		t.Fatal("a held claim was given twice")
	}
	if err := f.svc.ReleaseClaim(ctx, "w"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ReleaseClaim(ctx, "w"); err != nil {
		t.Fatalf("releasing a released claim: %v", err)
	}
	if !must[bool](t)(f.svc.ClaimWork(ctx, "w", time.Minute)) {
		t.Fatal("a released claim was refused")
	}
}
