package livechat_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/mongostore/storetest"
)

// routed adds routing helpers to the core fixture.
type routed struct {
	*fixture
	t *testing.T
}

func newRouted(t *testing.T) *routed {
	t.Helper()
	return &routed{fixture: newFixture(t), t: t}
}

// agent creates an agent in groups with a chat limit and, when online, one
// live session and the accepting status.
func (r *routed) mkAgent(email string, maxChats int, online bool, groups ...int) livechat.Actor {
	r.t.Helper()
	in := livechat.AgentInput{Email: email, MaxChats: maxChats}
	for _, g := range groups {
		in.Groups = append(in.Groups, livechat.GroupMembership{ID: g, Priority: "normal"})
	}
	a := must[*livechat.Agent](r.t)(r.svc.CreateAgent(context.Background(), livechat.System(), in))
	actor := livechat.AgentActor(a)
	if online {
		r.online(actor)
	}
	return actor
}

// online connects an agent and makes it accept chats.
func (r *routed) online(a livechat.Actor) {
	r.t.Helper()
	ctx := context.Background()
	r.svc.AgentConnected(ctx, a.ID)
	if err := r.svc.SetRoutingStatus(ctx, a, "", livechat.RoutingAccepting); err != nil {
		r.t.Fatal(err)
	}
}

// start makes a new customer start a chat in groups.
func (r *routed) start(groups ...int) *livechat.ChatView {
	r.t.Helper()
	ctx := context.Background()
	cu := must[*livechat.Customer](r.t)(r.svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{}))
	in := livechat.StartChatInput{Active: true, Thread: livechat.ThreadInput{Events: []livechat.Event{msg("help")}}}
	if len(groups) > 0 {
		in.Access = &livechat.Access{GroupIDs: groups}
	}
	return must[*livechat.ChatView](r.t)(r.svc.StartChat(ctx, livechat.CustomerActor(cu), in))
}

// chat reads a chat and its active (or last) thread as stored.
func (r *routed) chat(id string) *livechat.ChatView {
	r.t.Helper()
	return must[*livechat.ChatView](r.t)(r.svc.GetChat(context.Background(), livechat.System(), id, ""))
}

func (r *routed) agentsOf(id string) []string { return r.chat(id).Chat.AgentIDs() }

func (r *routed) wantAgents(id string, want ...string) {
	r.t.Helper()
	if got := r.agentsOf(id); !slices.Equal(got, want) {
		r.t.Fatalf("chat %s agents = %v, want %v", id, got, want)
	}
}

func (r *routed) wantQueued(id string, position int) {
	r.t.Helper()
	v := r.chat(id)
	if len(v.Chat.AgentIDs()) != 0 || v.Thread.Queue == nil || v.Thread.Queue.Position != position {
		r.t.Fatalf("chat %s: agents %v queue %+v, want queued at %d", id, v.Chat.AgentIDs(), v.Thread.Queue, position)
	}
}

// eventsOf returns the recorded domain events of kind k for chat id.
func (r *routed) eventsOf(k livechat.Kind, chatID string) []livechat.DomainEvent {
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	var out []livechat.DomainEvent
	for _, e := range r.rec.events {
		if e.Kind == k && (chatID == "" || e.ChatID == chatID) {
			out = append(out, e)
		}
	}
	return out
}

func TestRoutingLeastLoadedFairness(t *testing.T) {
	t.Parallel()
	r := newRouted(t)
	a1 := r.mkAgent("a1@example.com", 6, true, 1)
	a2 := r.mkAgent("a2@example.com", 6, true, 1)
	a3 := r.mkAgent("a3@example.com", 6, true, 1)
	r.mkAgent("idle@example.com", 6, false, 1) // offline: never chosen
	load := map[string]int{}
	var first []string
	for i := range 6 {
		v := r.start(1)
		agents := r.agentsOf(v.Chat.ID)
		if len(agents) != 1 {
			t.Fatalf("chat %d agents %v, want one", i, agents)
		}
		load[agents[0]]++
		if i < 3 {
			first = append(first, agents[0])
		}
		r.clock.Advance(time.Second)
	}
	for _, a := range []livechat.Actor{a1, a2, a3} {
		if load[a.ID] != 2 {
			t.Fatalf("loads %v, want 2 each", load)
		}
	}
	slices.Sort(first)
	if !slices.Equal(first, []string{a1.ID, a2.ID, a3.ID}) {
		t.Fatalf("first three chats went to %v, want one each", first)
	}

	// The assignment as the chat's audience and the assignee see it.
	v := r.start(1)
	got := r.chat(v.Chat.ID)
	assignee := got.Chat.AgentIDs()[0]
	last := got.Events[len(got.Events)-1]
	if last.Type != livechat.EventSystemMessage || last.SystemMessageType != "routing.assigned" || last.TextVars["agent"] == "" || last.AuthorID != "" {
		t.Fatalf("routing system message %+v", last)
	}
	if !slices.Contains(got.Thread.UserIDs, assignee) || got.Thread.Queue != nil {
		t.Fatalf("thread after assignment %+v", got.Thread)
	}
	added := r.eventsOf(livechat.KindUserAddedToChat, v.Chat.ID)
	if len(added) != 1 || added[0].Data.(livechat.UserChangeData).Reason != "assigned" || added[0].Data.(livechat.UserChangeData).User.ID != assignee {
		t.Fatalf("user_added_to_chat %+v", added)
	}
	assigned := r.eventsOf(livechat.KindChatAssigned, v.Chat.ID)
	if len(assigned) != 1 || !slices.Equal(assigned[0].Topics, []livechat.Topic{livechat.AgentTopic(assignee)}) {
		t.Fatalf("chat_assigned %+v", assigned)
	}
	d := assigned[0].Data.(livechat.ChatAssignedData)
	if d.Chat.User(assignee) == nil || d.Thread == nil || len(d.Events) != 2 || d.TransferredFrom != nil {
		t.Fatalf("chat_assigned payload %+v", d)
	}
	if !slices.Contains(added[0].Topics, livechat.AgentTopic(assignee)) {
		t.Fatalf("user_added_to_chat does not reach the assignee: %v", added[0].Topics)
	}

	// Ties on load go to the agent waiting longest since its last assignment,
	// whatever the ids say.
	r2 := newRouted(t)
	za := r2.mkAgent("za@example.com", 6, true, 2)
	c1 := r2.start(2)
	r2.clock.Advance(time.Minute)
	aa := r2.mkAgent("aa@example.com", 6, true, 2)
	c2 := r2.start(2)
	r2.wantAgents(c1.Chat.ID, za.ID)
	r2.wantAgents(c2.Chat.ID, aa.ID)
	for _, c := range []*livechat.ChatView{c1, c2} {
		if err := r2.svc.DeactivateChat(context.Background(), livechat.System(), c.Chat.ID, false); err != nil {
			t.Fatal(err)
		}
	}
	r2.clock.Advance(time.Minute)
	r2.wantAgents(r2.start(2).Chat.ID, za.ID)
}

func TestRoutingPrioritiesAndGroups(t *testing.T) {
	t.Parallel()
	r := newRouted(t)
	ctx := context.Background()
	mk := func(email, prio string, group int) livechat.Actor {
		a := must[*livechat.Agent](t)(r.svc.CreateAgent(ctx, livechat.System(), livechat.AgentInput{Email: email,
			Groups: []livechat.GroupMembership{{ID: group, Priority: prio}}}))
		r.online(livechat.AgentActor(a))
		return livechat.AgentActor(a)
	}
	sup := mk("sup@example.com", "supervisor", 2)
	lastA := mk("last@example.com", "last", 2)
	firstA := mk("first@example.com", "first", 2)
	// "first" agents are served before the others, however loaded; supervisors never.
	for range 3 {
		r.wantAgents(r.start(2).Chat.ID, firstA.ID)
	}
	if err := r.svc.SetRoutingStatus(ctx, firstA, "", livechat.RoutingNotAccepting); err != nil {
		t.Fatal(err)
	}
	r.wantAgents(r.start(2).Chat.ID, lastA.ID)
	if err := r.svc.SetRoutingStatus(ctx, lastA, "", livechat.RoutingNotAccepting); err != nil {
		t.Fatal(err)
	}
	v := r.start(2)
	r.wantQueued(v.Chat.ID, 1)
	// A chat of group 1 never goes to agents of group 2 only; group 0 chats go to anyone.
	g1 := r.start(1)
	r.wantQueued(g1.Chat.ID, 1)
	r.online(r.agent) // the fixture's agent is in group 1
	r.wantAgents(g1.Chat.ID, r.agent.ID)
	// Group 0 holds everyone: the supervisor of group 2 is an ordinary member there, and the least loaded.
	r.wantAgents(r.start(0).Chat.ID, sup.ID)
	r.wantQueued(v.Chat.ID, 1)
}

func TestRoutingRespectsMaxChats(t *testing.T) {
	t.Parallel()
	r := newRouted(t)
	ctx := context.Background()
	a := r.mkAgent("solo@example.com", 1, true, 1)
	c1 := r.start(1)
	r.wantAgents(c1.Chat.ID, a.ID)
	c2 := r.start(1)
	r.clock.Advance(time.Second)
	c3 := r.start(1)
	r.wantQueued(c2.Chat.ID, 1)
	r.wantQueued(c3.Chat.ID, 2)
	q := r.chat(c3.Chat.ID).Thread.Queue
	if q.WaitTime <= 0 || q.QueuedAt.IsZero() {
		t.Fatalf("queue %+v", q)
	}
	if ev := r.eventsOf(livechat.KindQueuePositionsUpdated, c3.Chat.ID); len(ev) != 1 || ev[0].Data.(livechat.QueuePositionsData).Positions[0].Queue.Position != 2 {
		t.Fatalf("queue_positions_updated %+v", ev)
	}
	// The agent finishes its chat: the oldest queued chat is its next, the other moves up.
	if err := r.svc.DeactivateChat(ctx, a, c1.Chat.ID, true); err != nil {
		t.Fatal(err)
	}
	r.wantAgents(c2.Chat.ID, a.ID)
	r.wantQueued(c3.Chat.ID, 1)
	if ev := r.eventsOf(livechat.KindQueuePositionsUpdated, c3.Chat.ID); len(ev) != 2 {
		t.Fatalf("want a second queue_positions_updated for the chat that moved up, got %d", len(ev))
	}
	// Manual additions are not limited by MaxChats.
	if err := r.svc.AddUserToChat(ctx, r.owner, c3.Chat.ID, a.ID, livechat.UserAgent, livechat.VisibilityAll, true); err != nil {
		t.Fatal(err)
	}
	// The next pass drops the stale queue place of the chat that got an agent by hand.
	if err := r.svc.RouteQueued(ctx); err != nil {
		t.Fatal(err)
	}
	if q := r.chat(c3.Chat.ID).Thread.Queue; q != nil {
		t.Fatalf("stale queue place %+v", q)
	}
}

func TestRoutingQueuesUntilAnAgentIsAvailable(t *testing.T) {
	t.Parallel()
	r := newRouted(t)
	ctx := context.Background()
	a := r.mkAgent("late@example.com", 5, false, 1)
	c1 := r.start(1)
	r.clock.Advance(time.Second)
	c2 := r.start(1)
	r.wantQueued(c1.Chat.ID, 1)
	r.wantQueued(c2.Chat.ID, 2)

	// Connecting alone is not enough: the stored status is not accepting.
	r.svc.AgentConnected(ctx, a.ID)
	r.wantQueued(c1.Chat.ID, 1)
	st := r.eventsOf(livechat.KindRoutingStatusSet, "")
	if len(st) == 0 || st[len(st)-1].Data.(livechat.RoutingStatusData) != (livechat.RoutingStatusData{AgentID: a.ID, Status: livechat.RoutingNotAccepting}) {
		t.Fatalf("routing_status_set on connect: %+v", st)
	}
	// Accepting: the queue is served oldest first.
	if err := r.svc.SetRoutingStatus(ctx, a, "", livechat.RoutingAccepting); err != nil {
		t.Fatal(err)
	}
	r.wantAgents(c1.Chat.ID, a.ID)
	r.wantAgents(c2.Chat.ID, a.ID)

	// Away on every connection: not accepting; back: accepting, the queue is served.
	r.svc.AgentConnected(ctx, a.ID) // a second connection
	noErr(t, r.svc.SetAway(ctx, a.ID, "s1", true))
	if s := r.svc.EffectiveRoutingStatus(must[*livechat.Agent](t)(r.svc.GetAgent(ctx, r.owner, a.ID))); s != livechat.RoutingAccepting {
		t.Fatalf("one of two connections away: status %s", s)
	}
	noErr(t, r.svc.SetAway(ctx, a.ID, "s2", true))
	c3 := r.start(1)
	r.wantQueued(c3.Chat.ID, 1)
	noErr(t, r.svc.SetAway(ctx, a.ID, "s2", false))
	r.wantAgents(c3.Chat.ID, a.ID)

	// The last connection closing makes the agent offline for routing.
	r.svc.AgentDisconnected(ctx, a.ID)
	noErr(t, r.svc.SetAway(ctx, a.ID, "s1", false))
	r.svc.AgentDisconnected(ctx, a.ID)
	r.clock.Advance(31 * time.Second) // past the offline grace (presence_grace_test.go)
	must[int](t)(r.svc.ExpireOfflineAgents(ctx))
	statuses := must[[]livechat.RoutingStatusEntry](t)(r.svc.ListRoutingStatuses(ctx, r.agent, []int{1}))
	if i := slices.IndexFunc(statuses, func(e livechat.RoutingStatusEntry) bool { return e.AgentID == a.ID }); i < 0 || statuses[i].Status != livechat.RoutingOffline {
		t.Fatalf("statuses after disconnect %+v", statuses)
	}
	c4 := r.start(1)
	r.wantQueued(c4.Chat.ID, 1)
	// Reconnecting restores the stored accepting status and serves the queue.
	r.svc.AgentConnected(ctx, a.ID)
	r.wantAgents(c4.Chat.ID, a.ID)
}

func TestRoutingBots(t *testing.T) {
	t.Parallel()
	r := newRouted(t)
	ctx := context.Background()
	bot := must[*livechat.Agent](t)(r.svc.CreateAgent(ctx, r.owner, livechat.AgentInput{Bot: true, Name: "Helper",
		Groups: []livechat.GroupMembership{{ID: 1, Priority: "normal"}}}))
	// A bot accepts chats without any connection.
	c1 := r.start(1)
	r.wantAgents(c1.Chat.ID, bot.ID)
	if last := r.chat(c1.Chat.ID).Events; last[len(last)-1].TextVars["agent"] != "Helper" {
		t.Fatalf("system message %+v", last[len(last)-1])
	}
	// Offline is for bots only; the bot's owner may set it, other agents may not.
	wantType(t, r.svc.SetRoutingStatus(ctx, r.agent, bot.ID, livechat.RoutingOffline), livechat.TypeAuthorization)
	wantType(t, r.svc.SetRoutingStatus(ctx, r.agent, "", livechat.RoutingOffline), livechat.TypeValidation)
	wantType(t, r.svc.SetRoutingStatus(ctx, r.agent, "", "busy"), livechat.TypeValidation)
	wantType(t, r.svc.SetRoutingStatus(ctx, r.agent, r.other.ID, livechat.RoutingAccepting), livechat.TypeAuthorization)
	wantType(t, r.svc.SetRoutingStatus(ctx, r.customer, "", livechat.RoutingAccepting), livechat.TypeAuthorization)
	wantType(t, r.svc.SetRoutingStatus(ctx, r.owner, "nobody@example.com", livechat.RoutingAccepting), livechat.TypeNotFound)
	if err := r.svc.SetRoutingStatus(ctx, r.owner, bot.ID, livechat.RoutingOffline); err != nil {
		t.Fatal(err)
	}
	c2 := r.start(1)
	r.wantQueued(c2.Chat.ID, 1)
	statuses := must[[]livechat.RoutingStatusEntry](t)(r.svc.ListRoutingStatuses(ctx, r.agent, nil))
	if i := slices.IndexFunc(statuses, func(e livechat.RoutingStatusEntry) bool { return e.AgentID == bot.ID }); i < 0 || statuses[i].Status != livechat.RoutingOffline {
		t.Fatalf("bot status %+v", statuses)
	}
	// The bot acting as itself (X-Author-Id) accepts chats again: the queue is served.
	botActor := must[livechat.Actor](t)(r.svc.ActAs(ctx, r.owner, bot.ID))
	if err := r.svc.SetRoutingStatus(ctx, botActor, "", livechat.RoutingAccepting); err != nil {
		t.Fatal(err)
	}
	r.wantAgents(c2.Chat.ID, bot.ID)
	// Managers set anyone's status.
	if err := r.svc.SetRoutingStatus(ctx, r.owner, r.agent.ID, livechat.RoutingAccepting); err != nil {
		t.Fatal(err)
	}
	if e := r.eventsOf(livechat.KindRoutingStatusSet, ""); e[len(e)-1].Topics[0] != livechat.OrgTopic {
		t.Fatalf("routing_status_set topics %v", e[len(e)-1].Topics)
	}
}

func TestRoutingQueueSurvivesRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := storetest.Open(t)
	clock := livechat.NewFakeClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	first := must[*livechat.Service](t)(livechat.NewService(ctx, livechat.Config{Store: store, Clock: clock, PasswordCost: 4}))
	a := must[*livechat.Agent](t)(first.CreateAgent(ctx, livechat.System(), livechat.AgentInput{Email: "night@example.com"}))
	if err := first.SetRoutingStatus(ctx, livechat.AgentActor(a), "", livechat.RoutingAccepting); err != nil {
		t.Fatal(err)
	}
	cu := must[*livechat.Customer](t)(first.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{}))
	v := must[*livechat.ChatView](t)(first.StartChat(ctx, livechat.CustomerActor(cu), livechat.StartChatInput{Active: true}))
	queued := must[*livechat.ChatView](t)(first.GetChat(ctx, livechat.System(), v.Chat.ID, ""))
	if queued.Thread.Queue == nil || queued.Thread.Queue.Position != 1 {
		t.Fatalf("not queued: %+v", queued.Thread)
	}

	// A new process on the same store: no memory of the queue, the store has it.
	rec := &recorder{}
	second := must[*livechat.Service](t)(livechat.NewService(ctx, livechat.Config{Store: store, Publisher: rec, Clock: clock, PasswordCost: 4}))
	if err := second.RouteQueued(ctx); err != nil { // cron's pass: nobody online yet, the place stays
		t.Fatal(err)
	}
	if k := rec.last(livechat.KindQueuePositionsUpdated); k != nil {
		t.Fatalf("an unchanged queue place was announced again: %+v", k)
	}
	second.AgentConnected(ctx, a.ID)
	got := must[*livechat.ChatView](t)(second.GetChat(ctx, livechat.System(), v.Chat.ID, ""))
	if !slices.Equal(got.Chat.AgentIDs(), []string{a.ID}) || got.Thread.Queue != nil {
		t.Fatalf("after restart and connect: agents %v queue %+v", got.Chat.AgentIDs(), got.Thread.Queue)
	}
}

func TestRoutingConcurrentStartsNeverOverAssign(t *testing.T) {
	t.Parallel()
	r := newRouted(t)
	ctx := context.Background()
	a1 := r.mkAgent("c1@example.com", 3, true, 1)
	a2 := r.mkAgent("c2@example.com", 3, true, 1)
	const n = 12
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		cu := must[*livechat.Customer](t)(r.svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{}))
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := r.svc.StartChat(ctx, livechat.CustomerActor(cu), livechat.StartChatInput{Active: true, Access: &livechat.Access{GroupIDs: []int{1}}})
			if err != nil {
				errs <- err
				return
			}
			ids[i] = v.Chat.ID
		}()
	}
	// Agents come and go while chats arrive.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 5 {
			r.svc.AgentConnected(ctx, a1.ID)
			r.svc.AgentDisconnected(ctx, a1.ID)
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	load := map[string]int{}
	queued := 0
	for _, id := range ids {
		agents := r.agentsOf(id)
		switch len(agents) {
		case 0:
			queued++
		case 1:
			load[agents[0]]++
		default:
			t.Fatalf("chat %s assigned twice: %v", id, agents)
		}
	}
	if load[a1.ID] != 3 || load[a2.ID] != 3 || queued != n-6 {
		t.Fatalf("loads %v, queued %d; want 3 each and %d queued", load, queued, n-6)
	}
	if got := len(r.eventsOf(livechat.KindChatAssigned, "")); got != 6 {
		t.Fatalf("%d chat_assigned events, want 6", got)
	}
}

func TestTransferChat(t *testing.T) {
	t.Parallel()
	r := newRouted(t)
	ctx := context.Background()
	a1 := r.mkAgent("t1@example.com", 5, true, 1)
	a2 := r.mkAgent("t2@example.com", 5, false, 1)
	g2 := r.mkAgent("t3@example.com", 5, true, 2)
	v := r.start(1)
	r.wantAgents(v.Chat.ID, a1.ID)
	in := func(typ string, ids ...any) livechat.TransferInput {
		x := livechat.TransferInput{TargetType: typ, RequireActive: true, RequirePresence: true}
		for _, id := range ids {
			switch id := id.(type) {
			case string:
				x.AgentIDs = append(x.AgentIDs, id)
			case int:
				x.GroupIDs = append(x.GroupIDs, id)
			}
		}
		return x
	}

	// Refusals: an offline agent, an agent without access, a requester not in the chat, a customer.
	wantType(t, r.svc.TransferChat(ctx, a1, v.Chat.ID, in("agent", a2.ID)), livechat.TypeAgentOffline)
	wantType(t, r.svc.TransferChat(ctx, a1, v.Chat.ID, in("agent", g2.ID)), livechat.TypeMissingAccess)
	wantType(t, r.svc.TransferChat(ctx, a1, v.Chat.ID, in("agent", "ghost@example.com")), livechat.TypeNotFound)
	wantType(t, r.svc.TransferChat(ctx, a1, v.Chat.ID, in("agent")), livechat.TypeValidation)
	wantType(t, r.svc.TransferChat(ctx, a1, v.Chat.ID, in("robot", "x")), livechat.TypeValidation)
	wantType(t, r.svc.TransferChat(ctx, r.agent, v.Chat.ID, in("agent", a2.ID)), livechat.TypeAuthorization)
	wantType(t, r.svc.TransferChat(ctx, g2, v.Chat.ID, in("group", 2)), livechat.TypeMissingAccess)
	wantType(t, r.svc.TransferChat(ctx, r.customer, v.Chat.ID, in("group", 2)), livechat.TypeAuthorization)

	// To an agent: it replaces the chat's agents and gets incoming_chat with transferred_from.
	r.online(a2)
	if err := r.svc.TransferChat(ctx, a1, v.Chat.ID, in("agent", a2.ID)); err != nil {
		t.Fatal(err)
	}
	r.wantAgents(v.Chat.ID, a2.ID)
	assigned := r.eventsOf(livechat.KindChatAssigned, v.Chat.ID)
	last := assigned[len(assigned)-1]
	if d := last.Data.(livechat.ChatAssignedData); last.Topics[0] != livechat.AgentTopic(a2.ID) || d.TransferredFrom == nil ||
		!slices.Equal(d.TransferredFrom.AgentIDs, []string{a1.ID}) || !slices.Equal(d.TransferredFrom.GroupIDs, []int{1}) {
		t.Fatalf("incoming_chat to the new agent %+v", last)
	}
	removed := r.eventsOf(livechat.KindUserRemovedFromChat, v.Chat.ID)
	if len(removed) != 1 || removed[0].Data.(livechat.UserChangeData).User.ID != a1.ID || !slices.Contains(removed[0].Topics, livechat.AgentTopic(a1.ID)) {
		t.Fatalf("user_removed_from_chat %+v", removed)
	}
	tr := r.eventsOf(livechat.KindChatTransferred, v.Chat.ID)
	if len(tr) != 1 || tr[0].RequesterID != a1.ID || !slices.Contains(tr[0].Topics, livechat.AgentTopic(a1.ID)) || !slices.Contains(tr[0].Topics, livechat.AgentTopic(a2.ID)) {
		t.Fatalf("chat_transferred %+v", tr)
	}
	if d := tr[0].Data.(livechat.ChatTransferredData); d.Reason != "manual" || !slices.Equal(d.TransferredTo.AgentIDs, []string{a2.ID}) || d.Queue != nil {
		t.Fatalf("chat_transferred payload %+v", d)
	}
	if evs := r.chat(v.Chat.ID).Events; evs[len(evs)-1].SystemMessageType != "manual_transfer" {
		t.Fatalf("transfer system message %+v", evs[len(evs)-1])
	}

	// To a group: the access moves, the router picks an agent of the group.
	if err := r.svc.TransferChat(ctx, a2, v.Chat.ID, in("group", 2)); err != nil {
		t.Fatal(err)
	}
	got := r.chat(v.Chat.ID)
	if !slices.Equal(got.Chat.Access.GroupIDs, []int{2}) || !slices.Equal(got.Thread.Access.GroupIDs, []int{2}) {
		t.Fatalf("access after group transfer %+v / %+v", got.Chat.Access, got.Thread.Access)
	}
	r.wantAgents(v.Chat.ID, g2.ID)
	if upd := r.eventsOf(livechat.KindChatAccessUpdated, v.Chat.ID); len(upd) != 1 || !slices.Contains(upd[0].Topics, livechat.GroupTopic(1)) || !slices.Contains(upd[0].Topics, livechat.GroupTopic(2)) {
		t.Fatalf("chat_access_updated %+v", upd)
	}

	// Within the group with nobody available: refused, or queued with ignore_agents_availability.
	noErr(t, r.svc.SetRoutingStatus(ctx, g2, "", livechat.RoutingNotAccepting))
	wantType(t, r.svc.TransferChat(ctx, g2, v.Chat.ID, in("")), livechat.TypeAgentOffline)
	wantType(t, r.svc.TransferChat(ctx, g2, v.Chat.ID, in("group", 99)), livechat.TypeGroupNotFound)
	force := in("")
	force.IgnoreAgentsAvailability = true
	if err := r.svc.TransferChat(ctx, g2, v.Chat.ID, force); err != nil {
		t.Fatal(err)
	}
	r.wantQueued(v.Chat.ID, 1)
	tr = r.eventsOf(livechat.KindChatTransferred, v.Chat.ID)
	if d := tr[len(tr)-1].Data.(livechat.ChatTransferredData); d.Queue == nil || d.Queue.Position != 1 || len(d.TransferredTo.AgentIDs) != 0 {
		t.Fatalf("queued transfer payload %+v", d)
	}
	// A manager who is not in the chat moves it back to group 1 with ignore_requester_presence.
	back := in("group", 1)
	back.RequirePresence = false
	if err := r.svc.TransferChat(ctx, r.owner, v.Chat.ID, back); err != nil {
		t.Fatal(err)
	}
	if agents := r.agentsOf(v.Chat.ID); len(agents) != 1 || (agents[0] != a1.ID && agents[0] != a2.ID) {
		t.Fatalf("agents after transfer back %v", agents)
	}

	// Inactive chats: refused from 3.4 (RequireActive), allowed before.
	if err := r.svc.DeactivateChat(ctx, r.owner, v.Chat.ID, false); err != nil {
		t.Fatal(err)
	}
	wantType(t, r.svc.TransferChat(ctx, r.owner, v.Chat.ID, back), livechat.TypeChatInactive)
	old := livechat.TransferInput{TargetType: "group", GroupIDs: []int{2}}
	if err := r.svc.TransferChat(ctx, r.owner, v.Chat.ID, old); err != nil {
		t.Fatal(err)
	}
	if got := r.chat(v.Chat.ID); !slices.Equal(got.Chat.Access.GroupIDs, []int{2}) || got.Chat.Active() {
		t.Fatalf("inactive transfer %+v", got.Chat)
	}
}

func TestListAgentsForTransferAndStatuses(t *testing.T) {
	t.Parallel()
	r := newRouted(t)
	ctx := context.Background()
	busy := r.mkAgent("busy@example.com", 5, true, 1)
	free := r.mkAgent("free@example.com", 5, true, 1)
	away := r.mkAgent("away@example.com", 5, true, 1)
	r.mkAgent("gone@example.com", 5, false, 1)
	outsider := r.mkAgent("outsider@example.com", 5, true, 2)
	// busy gets two chats, away one.
	for _, a := range []livechat.Actor{free, away} {
		noErr(t, r.svc.SetRoutingStatus(ctx, a, "", livechat.RoutingNotAccepting))
	}
	r.start(1)
	r.start(1)
	noErr(t, r.svc.SetRoutingStatus(ctx, busy, "", livechat.RoutingNotAccepting))
	noErr(t, r.svc.SetRoutingStatus(ctx, away, "", livechat.RoutingAccepting))
	v := r.start(1)
	r.wantAgents(v.Chat.ID, away.ID)
	noErr(t, r.svc.SetAway(ctx, away.ID, "k", true))

	list := must[[]livechat.AgentLoad](t)(r.svc.ListAgentsForTransfer(ctx, away, v.Chat.ID))
	var ids []string
	for _, l := range list {
		ids = append(ids, l.AgentID)
	}
	// Online agents with access (not the requester or the chat's agents, not offline, not
	// the group-2 outsider), least loaded first; the owner sees every chat but is offline.
	if !slices.Equal(ids, []string{free.ID, busy.ID}) || list[0].TotalActiveChats != 0 || list[1].TotalActiveChats != 2 {
		t.Fatalf("agents for transfer %+v", list)
	}
	_, err := r.svc.ListAgentsForTransfer(ctx, outsider, v.Chat.ID)
	wantType(t, err, livechat.TypeMissingAccess)
	_, err = r.svc.ListAgentsForTransfer(ctx, r.customer, v.Chat.ID)
	wantType(t, err, livechat.TypeAuthorization)

	statuses := must[[]livechat.RoutingStatusEntry](t)(r.svc.ListRoutingStatuses(ctx, free, []int{1}))
	got := map[string]string{}
	for _, s := range statuses {
		got[s.AgentID] = s.Status
	}
	want := map[string]string{busy.ID: "not_accepting_chats", free.ID: "not_accepting_chats", away.ID: "not_accepting_chats", "gone@example.com": "offline", r.agent.ID: "offline"}
	for id, st := range want {
		if got[id] != st {
			t.Errorf("status of %s = %q, want %q (all: %v)", id, got[id], st, got)
		}
	}
	if _, ok := got[outsider.ID]; ok {
		t.Errorf("group filter kept %s", outsider.ID)
	}
	if all := must[[]livechat.RoutingStatusEntry](t)(r.svc.ListRoutingStatuses(ctx, free, nil)); !slices.ContainsFunc(all, func(e livechat.RoutingStatusEntry) bool { return e.AgentID == outsider.ID }) {
		t.Errorf("without a group filter every agent is listed: %v", all)
	}
	_, err = r.svc.ListRoutingStatuses(ctx, r.customer, nil)
	wantType(t, err, livechat.TypeAuthorization)
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
