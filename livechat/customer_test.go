package livechat_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

func intp(v int) *int { return &v }

func TestCustomerVisitsAndPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	name := "Ann"
	in := livechat.CustomerLoginInput{Profile: livechat.CustomerInput{Name: &name}, GroupID: intp(1), Referrer: "https://search.example.com/",
		Page: &livechat.Page{URL: "https://shop.example.com/", Title: "Shop"}}
	c := must[*livechat.Customer](t)(f.svc.CustomerConnected(ctx, f.customer, in))
	if c.Name != "Ann" || c.VisitsCount != 1 || c.PageViewsCount != 1 || !slices.Equal(c.GroupIDs, []int{1}) ||
		c.LastVisit == nil || c.LastVisit.Referrer != "https://search.example.com/" || len(c.LastVisit.LastPages) != 1 {
		t.Fatalf("after login: %+v visit %+v", c, c.LastVisit)
	}
	upd := f.rec.last(livechat.KindCustomerUpdated)
	if upd == nil || !slices.Equal(upd.Data.(livechat.CustomerData).Changed, []string{"name", "group_ids"}) ||
		!slices.Contains(upd.Topics, livechat.CustomerTopic(c.ID)) {
		t.Fatalf("customer_updated %+v", upd)
	}
	page := f.rec.last(livechat.KindCustomerPageUpdated)
	if page == nil || !page.AgentsOnly || page.Data.(livechat.CustomerPageData).Page.URL != "https://shop.example.com/" || page.Data.(livechat.CustomerPageData).VisitID != 1 {
		t.Fatalf("customer_page_updated %+v", page)
	}
	if !f.svc.CustomerOnline(c.ID) {
		t.Fatal("not online after login")
	}

	// A second tab: same visit, and the same profile changes nothing.
	before := len(f.rec.kinds())
	c = must[*livechat.Customer](t)(f.svc.CustomerConnected(ctx, f.customer, livechat.CustomerLoginInput{Profile: livechat.CustomerInput{Name: &name}}))
	if c.VisitsCount != 1 || len(f.rec.kinds()) != before {
		t.Fatalf("second session: visits %d, events %v", c.VisitsCount, f.rec.kinds()[before:])
	}
	f.clock.Advance(time.Minute)
	must[struct{}](t)(struct{}{}, f.svc.UpdateCustomerPage(ctx, f.customer, "https://shop.example.com/cart", "Cart"))
	f.svc.CustomerDisconnected(ctx, c.ID)
	c = must[*livechat.Customer](t)(f.svc.GetCustomer(ctx, f.customer, c.ID))
	if c.LastVisit.EndedAt != nil || c.PageViewsCount != 2 || len(c.LastVisit.LastPages) != 2 {
		t.Fatalf("one tab left: %+v", c.LastVisit)
	}
	f.svc.CustomerDisconnected(ctx, c.ID)
	c = must[*livechat.Customer](t)(f.svc.GetCustomer(ctx, f.customer, c.ID))
	if c.LastVisit.EndedAt == nil || f.svc.CustomerOnline(c.ID) {
		t.Fatalf("the visit did not end with the last session: %+v", c.LastVisit)
	}
	c = must[*livechat.Customer](t)(f.svc.CustomerConnected(ctx, f.customer, livechat.CustomerLoginInput{}))
	if c.VisitsCount != 2 || c.LastVisit.ID != 2 || len(c.LastVisit.LastPages) != 0 {
		t.Fatalf("a new visit: %+v", c.LastVisit)
	}
	f.svc.CustomerDisconnected(ctx, c.ID)

	// Refusals leave no live session behind.
	_, err := f.svc.CustomerConnected(ctx, f.agent, livechat.CustomerLoginInput{})
	wantType(t, err, livechat.TypeAuthorization)
	_, err = f.svc.CustomerConnected(ctx, f.customer, livechat.CustomerLoginInput{GroupID: intp(77)})
	wantType(t, err, livechat.TypeGroupNotFound)
	_, err = f.svc.CustomerConnected(ctx, f.customer, livechat.CustomerLoginInput{Page: &livechat.Page{URL: "not a url"}})
	wantType(t, err, livechat.TypeValidation)
	wantType(t, f.svc.UpdateCustomerPage(ctx, f.customer, "", ""), livechat.TypeValidation)
	wantType(t, f.svc.UpdateCustomerPage(ctx, f.agent, "https://x.example.com/", ""), livechat.TypeAuthorization)
	must[*livechat.Customer](t)(f.svc.BanCustomer(ctx, f.owner, c.ID, 1))
	_, err = f.svc.CustomerConnected(ctx, f.customer, livechat.CustomerLoginInput{})
	wantType(t, err, livechat.TypeCustomerBanned)
	if f.svc.CustomerOnline(c.ID) {
		t.Fatal("a refused login left a live session")
	}
}

func TestGroupAvailabilityAndPrediction(t *testing.T) {
	t.Parallel()
	r := newRouted(t)
	ctx := context.Background()
	avail := func() map[int]string { return must[map[int]string](t)(r.svc.GroupAvailabilities(ctx, nil)) }
	if got := avail(); got[0] != livechat.GroupOffline || got[1] != livechat.GroupOffline || len(got) != 3 {
		t.Fatalf("nobody online: %v", got)
	}
	_, err := r.svc.PredictAgent(ctx, r.customer, intp(1))
	wantType(t, err, livechat.TypeGroupOffline)
	_, err = r.svc.PredictAgent(ctx, r.customer, intp(9))
	wantType(t, err, livechat.TypeGroupNotFound)

	// Online but not accepting: unavailable.
	r.svc.AgentConnected(ctx, r.agent.ID)
	_, err = r.svc.PredictAgent(ctx, r.customer, intp(1))
	wantType(t, err, livechat.TypeGroupUnavailable)

	// Accepting with room: online; customers of groups 0 and 1 hear it.
	must[struct{}](t)(struct{}{}, r.svc.SetRoutingStatus(ctx, r.agent, "", livechat.RoutingAccepting))
	if got := avail(); got[0] != livechat.GroupOnline || got[1] != livechat.GroupOnline || got[2] != livechat.GroupOffline {
		t.Fatalf("agent accepting: %v", got)
	}
	// Announced off the request's path.
	announced := func(group int, status string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			last := ""
			for _, e := range r.eventsOf(livechat.KindGroupAvailabilityChanged, "") {
				if g := e.Data.(livechat.GroupAvailability); g.GroupID == group {
					last = g.Status
				}
			}
			if last == status {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("group %d: last announced %q, want %q", group, last, status)
			}
			time.Sleep(5 * time.Millisecond) // poll interval, not a wait for an event
		}
	}
	announced(0, livechat.GroupOnline)
	announced(1, livechat.GroupOnline)
	for _, e := range r.eventsOf(livechat.KindGroupAvailabilityChanged, "") {
		g := e.Data.(livechat.GroupAvailability)
		if g.GroupID == 2 || !slices.Equal(e.Topics, []livechat.Topic{livechat.CustomerGroupTopic(g.GroupID)}) || e.Origin != (livechat.Origin{}) {
			t.Fatalf("availability event %+v", e)
		}
	}
	p := must[*livechat.PredictedAgent](t)(r.svc.PredictAgent(ctx, r.customer, intp(1)))
	if p.Agent.ID != r.agent.ID || p.Queue {
		t.Fatalf("predicted %+v", p)
	}

	// Full (the fixture's agents take 6 chats): online for the queue.
	for range 6 {
		r.start(1)
	}
	if got := avail(); got[1] != livechat.GroupOnlineForQueue {
		t.Fatalf("agent full: %v", got)
	}
	announced(1, livechat.GroupOnlineForQueue)
	p = must[*livechat.PredictedAgent](t)(r.svc.PredictAgent(ctx, r.customer, intp(1)))
	if p.Agent.ID != r.agent.ID || !p.Queue {
		t.Fatalf("predicted when full %+v", p)
	}
	if got := must[map[int]string](t)(r.svc.GroupAvailabilities(ctx, []int{2, 5})); len(got) != 1 || got[2] != livechat.GroupOffline {
		t.Fatalf("selected groups: %v", got)
	}
}

func TestSneakPeek(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	view := must[*livechat.ChatView](t)(f.svc.StartChat(ctx, f.customer, livechat.StartChatInput{Active: true}))
	chatID := view.Chat.ID
	if u := view.Chat.User(f.customer.ID); u == nil || u.EventsSeenUpTo.IsZero() {
		t.Fatalf("the customer who starts a chat has seen it: %+v", u)
	}
	must[struct{}](t)(struct{}{}, f.svc.AddUserToChat(ctx, f.owner, chatID, f.agent.ID, livechat.UserAgent, "", true))
	must[struct{}](t)(struct{}{}, f.svc.SendSneakPeek(ctx, f.customer, chatID, "typing…"))
	ev := f.rec.last(livechat.KindIncomingSneakPeek)
	if ev == nil || !ev.AgentsOnly || ev.Data.(livechat.SneakPeekData).Text != "typing…" || ev.ThreadID != view.Thread.ID {
		t.Fatalf("sneak peek event %+v", ev)
	}
	if !slices.Contains(ev.Topics, livechat.AgentTopic(f.agent.ID)) || slices.ContainsFunc(ev.Topics, func(t livechat.Topic) bool {
		return strings.HasPrefix(string(t), "group:") || strings.HasPrefix(string(t), "customer:")
	}) {
		t.Fatalf("sneak peek topics %v", ev.Topics)
	}
	wantType(t, f.svc.SendSneakPeek(ctx, f.stranger, chatID, "x"), livechat.TypeNotFound)
	wantType(t, f.svc.SendSneakPeek(ctx, f.agent, chatID, "x"), livechat.TypeAuthorization)
	wantType(t, f.svc.SendSneakPeek(ctx, f.customer, chatID, strings.Repeat("x", livechat.MaxMessageText+1)), livechat.TypeValidation)
	must[struct{}](t)(struct{}{}, f.svc.DeactivateChat(ctx, f.customer, chatID, false))
	wantType(t, f.svc.SendSneakPeek(ctx, f.customer, chatID, "x"), livechat.TypeChatInactive)

	// After the chat closed, a customer's form goes to the last thread only
	// when the Customer API asks for any event type.
	form := livechat.Event{Type: livechat.EventFilledForm, FormID: "f", Fields: []any{map[string]any{"id": "1", "type": "rating", "answer": "good"}}}
	_, err := f.svc.SendEvent(ctx, f.customer, chatID, form, livechat.SendEventOptions{AttachToLastThread: true})
	wantType(t, err, livechat.TypeChatInactive)
	ev2 := must[*livechat.Event](t)(f.svc.SendEvent(ctx, f.customer, chatID, form, livechat.SendEventOptions{AttachToLastThread: true, AttachAnyType: true}))
	if ev2.ThreadID != view.Thread.ID {
		t.Fatalf("form went to %s, want the last thread %s", ev2.ThreadID, view.Thread.ID)
	}
}

func TestResumeChatWithAndUnread(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	view := must[*livechat.ChatView](t)(f.svc.StartChat(ctx, f.customer, livechat.StartChatInput{Active: true, Thread: livechat.ThreadInput{Events: []livechat.Event{msg("hi")}}}))
	chatID := view.Chat.ID
	chats := must[[]livechat.CustomerChat](t)(f.svc.CustomerChats(ctx, f.customer))
	if len(chats) != 1 || !chats[0].Active || chats[0].HasUnreadEvents {
		t.Fatalf("customer chats %+v", chats)
	}
	f.clock.Advance(time.Second)
	must[*livechat.Event](t)(f.svc.SendEvent(ctx, f.owner, chatID, msg("hello from us"), livechat.SendEventOptions{JoinIfAbsent: true}))
	must[*livechat.Event](t)(f.svc.SendEvent(ctx, f.owner, chatID, livechat.Event{Type: livechat.EventMessage, Text: "whisper", Visibility: livechat.VisibilityAgents}, livechat.SendEventOptions{}))
	if chats = must[[]livechat.CustomerChat](t)(f.svc.CustomerChats(ctx, f.customer)); !chats[0].HasUnreadEvents {
		t.Fatalf("an agent's message is unread: %+v", chats)
	}
	f.clock.Advance(time.Second)
	must[struct{}](t)(struct{}{}, f.svc.MarkEventsAsSeen(ctx, f.customer, chatID, f.clock.Now()))
	if chats = must[[]livechat.CustomerChat](t)(f.svc.CustomerChats(ctx, f.customer)); chats[0].HasUnreadEvents {
		t.Fatalf("after mark_events_as_seen: %+v", chats)
	}
	_, err := f.svc.CustomerChats(ctx, f.agent)
	wantType(t, err, livechat.TypeAuthorization)

	// Resuming with new access, properties and continuity.
	cont := true
	opts := livechat.ResumeOptions{Access: &livechat.Access{GroupIDs: []int{1}}, Properties: livechat.Properties{"test": {"string_property": "v"}}, Continuous: &cont}
	_, err = f.svc.ResumeChatWith(ctx, f.customer, chatID, opts, livechat.ThreadInput{}, true)
	wantType(t, err, livechat.TypeValidation) // still active
	must[struct{}](t)(struct{}{}, f.svc.DeactivateChat(ctx, f.customer, chatID, false))
	_, err = f.svc.ResumeChatWith(ctx, f.stranger, chatID, opts, livechat.ThreadInput{}, true)
	wantType(t, err, livechat.TypeNotFound)
	_, err = f.svc.ResumeChatWith(ctx, f.customer, chatID, livechat.ResumeOptions{Access: &livechat.Access{GroupIDs: []int{42}}}, livechat.ThreadInput{}, true)
	wantType(t, err, livechat.TypeGroupNotFound)
	resumed := must[*livechat.ChatView](t)(f.svc.ResumeChatWith(ctx, f.customer, chatID, opts, livechat.ThreadInput{}, true))
	c := resumed.Chat
	if !slices.Equal(c.Access.GroupIDs, []int{1}) || c.Properties["test"]["string_property"] != "v" || !c.Continuous || !c.Active() {
		t.Fatalf("resumed chat %+v", c)
	}
	if !slices.Equal(resumed.Thread.Access.GroupIDs, []int{1}) {
		t.Fatalf("the new thread's access %v", resumed.Thread.Access)
	}
	for _, k := range []livechat.Kind{livechat.KindChatAccessUpdated, livechat.KindChatPropertiesUpdated} {
		if e := f.rec.last(k); e == nil || e.ChatID != chatID {
			t.Fatalf("no %s", k)
		}
	}
	if e := f.rec.last(livechat.KindIncomingChat); e == nil || e.ThreadID != resumed.Thread.ID {
		t.Fatalf("incoming_chat %+v", e)
	}
}
