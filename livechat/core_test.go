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

// recorder is a Publisher that keeps every domain event.
type recorder struct {
	mu     sync.Mutex
	events []livechat.DomainEvent
}

func (r *recorder) Publish(ev *livechat.DomainEvent) {
	r.mu.Lock()
	r.events = append(r.events, *ev)
	r.mu.Unlock()
}

func (r *recorder) kinds() []livechat.Kind {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]livechat.Kind, 0, len(r.events))
	for _, e := range r.events {
		out = append(out, e.Kind)
	}
	return out
}

func (r *recorder) last(k livechat.Kind) *livechat.DomainEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.events) - 1; i >= 0; i-- {
		if r.events[i].Kind == k {
			e := r.events[i]
			return &e
		}
	}
	return nil
}

type fixture struct {
	svc      *livechat.Service
	store    livechat.Store
	rec      *recorder
	clock    *livechat.FakeClock
	owner    livechat.Actor
	agent    livechat.Actor // group 0 and 1
	other    livechat.Actor // group 2 only (and 0)
	customer livechat.Actor
	stranger livechat.Actor // another customer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	store := storetest.Open(t)
	f := &fixture{store: store, rec: &recorder{}, clock: livechat.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))}
	svc, err := livechat.NewService(ctx, livechat.Config{Store: store, Publisher: f.rec, Clock: f.clock, PasswordCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	for _, g := range []livechat.Group{{ID: 1, Name: "Sales"}, {ID: 2, Name: "Support"}} {
		if err := store.Groups().Insert(ctx, &g); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(email, role string, groups ...int) livechat.Actor {
		in := livechat.AgentInput{Email: email, Role: role, Password: "secret123"}
		for _, g := range groups {
			in.Groups = append(in.Groups, livechat.GroupMembership{ID: g, Priority: "normal"})
		}
		a, err := svc.CreateAgent(ctx, livechat.System(), in)
		if err != nil {
			t.Fatal(err)
		}
		return livechat.AgentActor(a)
	}
	f.owner = mk("owner@example.com", livechat.RoleOwner)
	f.agent = mk("agent@example.com", livechat.RoleNormal, 1)
	f.other = mk("other@example.com", livechat.RoleNormal, 2)
	for _, dst := range []*livechat.Actor{&f.customer, &f.stranger} {
		c, err := svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{})
		if err != nil {
			t.Fatal(err)
		}
		*dst = livechat.CustomerActor(c)
	}
	return f
}

func msg(text string) livechat.Event { return livechat.Event{Type: livechat.EventMessage, Text: text} }

func wantType(t *testing.T, err error, typ string) {
	t.Helper()
	if !livechat.IsType(err, typ) {
		t.Fatalf("want %s error, got %v", typ, err)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestThreadRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()

	view := must[*livechat.ChatView](t)(f.svc.StartChat(ctx, f.customer, livechat.StartChatInput{Active: true, Thread: livechat.ThreadInput{Events: []livechat.Event{msg("hello")}}}))
	chatID, first := view.Chat.ID, view.Thread.ID
	if !view.Thread.Active || len(view.Events) != 1 || view.Events[0].AuthorID != f.customer.ID {
		t.Fatalf("new chat: thread active=%v events=%+v", view.Thread.Active, view.Events)
	}
	if k := f.rec.last(livechat.KindIncomingChat); k == nil || k.ChatID != chatID {
		t.Fatal("no incoming_chat domain event")
	}

	// One open chat per customer by default.
	_, err := f.svc.StartChat(ctx, f.customer, livechat.StartChatInput{Active: true})
	wantType(t, err, livechat.TypeLimitReached)

	// Resuming an active chat is refused; events go to the active thread.
	_, err = f.svc.ResumeChat(ctx, f.customer, chatID, livechat.ThreadInput{}, true)
	wantType(t, err, livechat.TypeValidation)
	ev := must[*livechat.Event](t)(f.svc.SendEvent(ctx, f.customer, chatID, msg("again"), livechat.SendEventOptions{}))
	if ev.ThreadID != first {
		t.Fatalf("event went to %s, want active thread %s", ev.ThreadID, first)
	}

	// Closing: the thread becomes inactive, the chat stays, a system message is added.
	if err := f.svc.DeactivateChat(ctx, f.customer, chatID, false); err != nil {
		t.Fatal(err)
	}
	wantType(t, f.svc.DeactivateChat(ctx, f.customer, chatID, false), livechat.TypeChatInactive)
	got := must[*livechat.ChatView](t)(f.svc.GetChat(ctx, f.customer, chatID, ""))
	if got.Thread.Active || got.Chat.Active() || got.Thread.ClosedAt == nil {
		t.Fatalf("thread still active after deactivate: %+v", got.Thread)
	}
	if last := got.Events[len(got.Events)-1]; last.Type != livechat.EventSystemMessage || last.SystemMessageType != "manual_archived_customer" {
		t.Fatalf("want closing system message, got %+v", last)
	}
	if d := f.rec.last(livechat.KindChatDeactivated); d == nil || d.ThreadID != first {
		t.Fatal("no chat_deactivated domain event for the closed thread")
	}

	// Events are refused on an inactive chat, except system messages attached to the last thread.
	_, err = f.svc.SendEvent(ctx, f.customer, chatID, msg("late"), livechat.SendEventOptions{})
	wantType(t, err, livechat.TypeChatInactive)
	sys := livechat.Event{Type: livechat.EventSystemMessage, Text: "note"}
	late := must[*livechat.Event](t)(f.svc.SendEvent(ctx, livechat.System(), chatID, sys, livechat.SendEventOptions{AttachToLastThread: true}))
	if late.ThreadID != first {
		t.Fatalf("system message attached to %s, want %s", late.ThreadID, first)
	}

	// Resume: a new thread, the only active one, linked to the previous.
	f.clock.Advance(time.Minute)
	resumed := must[*livechat.ChatView](t)(f.svc.ResumeChat(ctx, f.customer, chatID, livechat.ThreadInput{Events: []livechat.Event{msg("back")}}, true))
	second := resumed.Thread.ID
	if second == first || !resumed.Thread.Active || resumed.Thread.PreviousThreadID != first {
		t.Fatalf("resumed thread %+v", resumed.Thread)
	}
	prev := must[*livechat.ChatView](t)(f.svc.GetChat(ctx, f.customer, chatID, first))
	if prev.Thread.Active || prev.Thread.NextThreadID != second {
		t.Fatalf("previous thread after resume: %+v", prev.Thread)
	}
	views, total, err := f.svc.ListThreads(ctx, f.customer, chatID, false, 0, 10)
	if err != nil || total != 2 || len(views) != 2 || views[0].Thread.ID != second {
		t.Fatalf("ListThreads = %d/%d, %v", len(views), total, err)
	}
	active := 0
	for _, v := range views {
		if v.Thread.Active {
			active++
		}
	}
	if active != 1 {
		t.Fatalf("%d active threads, want exactly 1", active)
	}
	ev = must[*livechat.Event](t)(f.svc.SendEvent(ctx, f.customer, chatID, msg("newest"), livechat.SendEventOptions{}))
	if ev.ThreadID != second {
		t.Fatalf("event went to %s, want the newest thread %s", ev.ThreadID, second)
	}
	// Events persist in order, each as its own document.
	got = must[*livechat.ChatView](t)(f.svc.GetChat(ctx, f.customer, chatID, second))
	if len(got.Events) != 2 || got.Events[0].Text != "back" || got.Events[1].Text != "newest" {
		t.Fatalf("second thread events: %+v", got.Events)
	}
	cust := must[*livechat.Customer](t)(f.svc.GetCustomer(ctx, f.customer, f.customer.ID))
	if cust.ChatsCount != 1 || cust.ThreadsCount != 2 {
		t.Fatalf("customer statistics %d chats %d threads", cust.ChatsCount, cust.ThreadsCount)
	}
}

func TestSeveralAgentsAndOfflineRecipients(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	// An agent starts a chat with a customer (who is not connected) and another agent.
	view := must[*livechat.ChatView](t)(f.svc.StartChat(ctx, f.owner, livechat.StartChatInput{
		Active: true, CustomerID: f.customer.ID, AgentIDs: []string{f.agent.ID},
		Thread: livechat.ThreadInput{Events: []livechat.Event{msg("hi from owner")}},
	}))
	chatID := view.Chat.ID
	if n := len(view.Chat.AgentIDs()); n != 2 {
		t.Fatalf("%d agents in chat, want 2", n)
	}
	if _, err := f.svc.SendEvent(ctx, f.agent, chatID, msg("hi from agent"), livechat.SendEventOptions{}); err != nil {
		t.Fatal(err)
	}
	// Non-members are refused (3.4+), or join without presence (3.3).
	_, err := f.svc.SendEvent(ctx, f.other, chatID, msg("intruder"), livechat.SendEventOptions{})
	if err == nil {
		t.Fatal("non-member agent could send")
	}
	// The customer reads everything later, from the store.
	got := must[*livechat.ChatView](t)(f.svc.GetChat(ctx, f.customer, chatID, ""))
	if len(got.Events) != 2 {
		t.Fatalf("customer sees %d events, want 2", len(got.Events))
	}
	// Agents-only events never reach customers, in reads or in pushes.
	note := msg("internal note")
	note.Visibility = livechat.VisibilityAgents
	if _, err := f.svc.SendEvent(ctx, f.owner, chatID, note, livechat.SendEventOptions{}); err != nil {
		t.Fatal(err)
	}
	push := f.rec.last(livechat.KindIncomingEvent)
	if !push.AgentsOnly || slices.Contains(push.Topics, livechat.CustomerTopic(f.customer.ID)) {
		t.Fatalf("agents-only event addressed to the customer: %+v", push.Topics)
	}
	got = must[*livechat.ChatView](t)(f.svc.GetChat(ctx, f.customer, chatID, ""))
	if len(got.Events) != 2 {
		t.Fatalf("customer sees %d events after an agents-only note, want 2", len(got.Events))
	}
	got = must[*livechat.ChatView](t)(f.svc.GetChat(ctx, f.agent, chatID, ""))
	if len(got.Events) != 3 {
		t.Fatalf("agent sees %d events, want 3", len(got.Events))
	}
	_, err = f.svc.SendEvent(ctx, f.customer, chatID, note, livechat.SendEventOptions{})
	wantType(t, err, livechat.TypeValidation)
}

func TestAccessRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	// A chat in group 1 only.
	view := must[*livechat.ChatView](t)(f.svc.StartChat(ctx, f.customer, livechat.StartChatInput{Active: true, Access: &livechat.Access{GroupIDs: []int{1}}}))
	chatID := view.Chat.ID
	if !slices.Contains(f.rec.last(livechat.KindIncomingChat).Topics, livechat.GroupTopic(1)) {
		t.Fatal("incoming_chat does not reach group 1")
	}

	cases := []struct {
		name  string
		actor livechat.Actor
		want  string // "" = allowed
	}{
		{"owner sees every chat", f.owner, ""},
		{"agent of the chat's group", f.agent, ""},
		{"agent of another group", f.other, livechat.TypeMissingAccess},
		{"the chat's customer", f.customer, ""},
		{"another customer learns nothing", f.stranger, livechat.TypeNotFound},
		{"system", livechat.System(), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.GetChat(ctx, tc.actor, chatID, "")
			if tc.want == "" {
				if err != nil {
					t.Fatalf("GetChat: %v", err)
				}
				return
			}
			wantType(t, err, tc.want)
		})
	}

	// Writes follow the same rules.
	_, err := f.svc.SendEvent(ctx, f.stranger, chatID, msg("let me in"), livechat.SendEventOptions{})
	wantType(t, err, livechat.TypeNotFound)
	wantType(t, f.svc.UpdateProperties(ctx, f.other, livechat.PropertyTarget{ChatID: chatID}, livechat.Properties{"test": {"x": 1}}), livechat.TypeMissingAccess)
	wantType(t, f.svc.DeactivateChat(ctx, f.stranger, chatID, false), livechat.TypeNotFound)

	// Lists hold only what the actor may see.
	other := must[*livechat.ChatView](t)(f.svc.StartChat(ctx, f.stranger, livechat.StartChatInput{Active: true, Access: &livechat.Access{GroupIDs: []int{2}}}))
	list := func(a livechat.Actor) []string {
		chats, _, err := f.svc.ListChats(ctx, a, livechat.ChatFilter{IncludeInactive: true})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range chats {
			ids = append(ids, c.ID)
		}
		slices.Sort(ids)
		return ids
	}
	both := []string{chatID, other.Chat.ID}
	slices.Sort(both)
	for name, tc := range map[string]struct {
		a    livechat.Actor
		want []string
	}{
		"owner":    {f.owner, both},
		"agent":    {f.agent, []string{chatID}},
		"other":    {f.other, []string{other.Chat.ID}},
		"customer": {f.customer, []string{chatID}},
		"stranger": {f.stranger, []string{other.Chat.ID}},
	} {
		if got := list(tc.a); !slices.Equal(got, tc.want) {
			t.Errorf("%s lists %v, want %v", name, got, tc.want)
		}
	}

	// Moving the chat to group 2 changes who sees it.
	if err := f.svc.SetChatAccess(ctx, f.owner, chatID, []int{2}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.GetChat(ctx, f.other, chatID, ""); err != nil {
		t.Fatalf("agent of group 2 after transfer: %v", err)
	}
	_, err = f.svc.GetChat(ctx, f.agent, chatID, "")
	wantType(t, err, livechat.TypeMissingAccess)
	wantType(t, f.svc.SetChatAccess(ctx, f.owner, chatID, []int{99}), livechat.TypeGroupNotFound)

	// Customers cannot read other customers; agents can.
	_, err = f.svc.GetCustomer(ctx, f.customer, f.stranger.ID)
	wantType(t, err, livechat.TypeNotFound)
	if _, err := f.svc.GetCustomer(ctx, f.agent, f.stranger.ID); err != nil {
		t.Fatal(err)
	}
	// Only managers create agents; only owners create owners.
	_, err = f.svc.CreateAgent(ctx, f.agent, livechat.AgentInput{Email: "x@example.com"})
	wantType(t, err, livechat.TypeAuthorization)
	admin := must[*livechat.Agent](t)(f.svc.CreateAgent(ctx, f.owner, livechat.AgentInput{Email: "admin@example.com", Role: livechat.RoleAdministrator}))
	_, err = f.svc.CreateAgent(ctx, livechat.AgentActor(admin), livechat.AgentInput{Email: "o2@example.com", Role: livechat.RoleOwner})
	wantType(t, err, livechat.TypeAuthorization)
	_, err = f.svc.CreateAgent(ctx, f.owner, livechat.AgentInput{Email: "agent@example.com"})
	wantType(t, err, livechat.TypeAlreadyExists)
}

func TestProperties(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	view := must[*livechat.ChatView](t)(f.svc.StartChat(ctx, f.customer, livechat.StartChatInput{
		Active: true, Properties: livechat.Properties{"source": {"type": "widget"}},
		Thread: livechat.ThreadInput{Events: []livechat.Event{msg("hi")}},
	}))
	chatID, threadID, eventID := view.Chat.ID, view.Thread.ID, view.Events[0].ID
	targets := map[string]livechat.PropertyTarget{
		"chat":   {ChatID: chatID},
		"thread": {ChatID: chatID, ThreadID: threadID},
		"event":  {ChatID: chatID, ThreadID: threadID, EventID: eventID},
	}
	read := func(name string) livechat.Properties {
		got := must[*livechat.ChatView](t)(f.svc.GetChat(ctx, f.customer, chatID, threadID))
		switch name {
		case "chat":
			return got.Chat.Properties
		case "thread":
			return got.Thread.Properties
		}
		return got.Events[0].Properties
	}
	for name, target := range targets {
		t.Run(name, func(t *testing.T) {
			upd := livechat.Properties{"test": {"int_property": 7, "bool_property": true, "string_property": "s"}}
			if err := f.svc.UpdateProperties(ctx, f.customer, target, upd); err != nil {
				t.Fatal(err)
			}
			p := read(name)
			if v, ok := p["test"]["int_property"]; !ok || toInt(v) != 7 || p["test"]["bool_property"] != true || p["test"]["string_property"] != "s" {
				t.Fatalf("after update: %#v", p)
			}
			if err := f.svc.DeleteProperties(ctx, f.customer, target, map[string][]string{"test": {"int_property"}}); err != nil {
				t.Fatal(err)
			}
			if _, ok := read(name)["test"]["int_property"]; ok {
				t.Fatal("deleted property still there")
			}
			wantType(t, f.svc.DeleteProperties(ctx, f.customer, target, map[string][]string{"test": {"nope"}}), livechat.TypeValidation)
			wantType(t, f.svc.UpdateProperties(ctx, f.customer, target, livechat.Properties{"test": {"bad": []int{1}}}), livechat.TypeValidation)
			wantType(t, f.svc.UpdateProperties(ctx, f.stranger, target, livechat.Properties{"test": {"x": 1}}), livechat.TypeNotFound)
		})
	}
	if p := read("chat"); p["source"]["type"] != "widget" {
		t.Fatalf("initial chat properties lost: %#v", p)
	}
	kinds := f.rec.kinds()
	for _, k := range []livechat.Kind{livechat.KindChatPropertiesUpdated, livechat.KindThreadPropertiesUpdate, livechat.KindEventPropertiesUpdate,
		livechat.KindChatPropertiesDeleted, livechat.KindThreadPropertiesDelete, livechat.KindEventPropertiesDelete} {
		if !slices.Contains(kinds, k) {
			t.Errorf("no %s domain event", k)
		}
	}

	// Thread tags.
	if err := f.svc.TagThread(ctx, f.owner, chatID, threadID, "vip", true); err != nil {
		t.Fatal(err)
	}
	wantType(t, f.svc.TagThread(ctx, f.owner, chatID, threadID, "vip", true), livechat.TypeValidation)
	wantType(t, f.svc.TagThread(ctx, f.customer, chatID, threadID, "x", true), livechat.TypeAuthorization)
	got := must[*livechat.ChatView](t)(f.svc.GetChat(ctx, f.owner, chatID, threadID))
	if !slices.Equal(got.Thread.Tags, []string{"vip"}) {
		t.Fatalf("tags %v", got.Thread.Tags)
	}
	if err := f.svc.TagThread(ctx, f.owner, chatID, threadID, "vip", false); err != nil {
		t.Fatal(err)
	}
	wantType(t, f.svc.TagThread(ctx, f.owner, chatID, threadID, "vip", false), livechat.TypeValidation)
}

func toInt(v any) int64 {
	switch n := v.(type) {
	case int:
		return int64(n)
	case int32:
		return int64(n)
	case int64:
		return n
	case float64:
		return int64(n)
	}
	return -1
}

func TestEventValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	view := must[*livechat.ChatView](t)(f.svc.StartChat(ctx, f.customer, livechat.StartChatInput{Active: true}))
	chatID := view.Chat.ID
	big := make([]byte, livechat.MaxMessageText+1)
	for i := range big {
		big[i] = 'a'
	}
	for _, tc := range []struct {
		name string
		ev   livechat.Event
		ok   bool
	}{
		{"message", msg("hi"), true},
		{"empty message", livechat.Event{Type: livechat.EventMessage}, false},
		{"too long", msg(string(big)), false},
		{"no type", livechat.Event{Text: "x"}, false},
		{"unknown type", livechat.Event{Type: "sticker"}, false},
		{"file", livechat.Event{Type: livechat.EventFile, URL: "http://localhost/f.png"}, true},
		{"file without url", livechat.Event{Type: livechat.EventFile}, false},
		{"filled form", livechat.Event{Type: livechat.EventFilledForm, FormID: "f1", Fields: []any{map[string]any{"type": "name", "id": "1", "label": "Name", "answer": "Ann"}}}, true},
		{"form without fields", livechat.Event{Type: livechat.EventForm, FormID: "f1"}, false},
		{"rich message", livechat.Event{Type: livechat.EventRichMessage, TemplateID: "cards", Elements: []any{map[string]any{"title": "t"}}}, true},
		{"rich message bad template", livechat.Event{Type: livechat.EventRichMessage, TemplateID: "nope"}, false},
		{"custom", livechat.Event{Type: livechat.EventCustom, Content: map[string]any{"k": "v", "n": 1.5}}, true},
		{"bad visibility", livechat.Event{Type: livechat.EventMessage, Text: "x", Visibility: "some"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.SendEvent(ctx, f.customer, chatID, tc.ev, livechat.SendEventOptions{})
			if tc.ok && err != nil {
				t.Fatal(err)
			}
			if !tc.ok {
				wantType(t, err, livechat.TypeValidation)
			}
		})
	}
	got := must[*livechat.ChatView](t)(f.svc.GetChat(ctx, f.customer, chatID, ""))
	var custom, form *livechat.Event
	for i := range got.Events {
		switch got.Events[i].Type {
		case livechat.EventCustom:
			custom = &got.Events[i]
		case livechat.EventFilledForm:
			form = &got.Events[i]
		}
	}
	if custom == nil || custom.Content.(map[string]any)["k"] != "v" {
		t.Fatalf("custom content not kept: %+v", custom)
	}
	if form == nil || form.Fields[0].(map[string]any)["answer"] != "Ann" {
		t.Fatalf("form fields not kept: %+v", form)
	}
}

func TestBannedCustomerAndUsers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	view := must[*livechat.ChatView](t)(f.svc.StartChat(ctx, f.customer, livechat.StartChatInput{Active: true}))
	chatID := view.Chat.ID
	if err := f.svc.AddUserToChat(ctx, f.owner, chatID, f.agent.ID, livechat.UserAgent, livechat.VisibilityAll, true); err != nil {
		t.Fatal(err)
	}
	wantType(t, f.svc.AddUserToChat(ctx, f.owner, chatID, f.agent.ID, livechat.UserAgent, livechat.VisibilityAll, true), livechat.TypeValidation)
	wantType(t, f.svc.AddUserToChat(ctx, f.owner, chatID, f.stranger.ID, livechat.UserCustomer, livechat.VisibilityAll, true), livechat.TypeValidation)
	wantType(t, f.svc.RemoveUserFromChat(ctx, f.owner, chatID, f.customer.ID), livechat.TypeValidation)
	if err := f.svc.RemoveUserFromChat(ctx, f.owner, chatID, f.agent.ID); err != nil {
		t.Fatal(err)
	}
	if ev := f.rec.last(livechat.KindUserRemovedFromChat); ev == nil || !slices.Contains(ev.Topics, livechat.AgentTopic(f.agent.ID)) {
		t.Fatal("removed agent not told")
	}
	if err := f.svc.DeactivateChat(ctx, f.owner, chatID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.BanCustomer(ctx, f.owner, f.customer.ID, 1); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.ResumeChat(ctx, f.customer, chatID, livechat.ThreadInput{}, true)
	wantType(t, err, livechat.TypeCustomerBanned)
	_, err = f.svc.StartChat(ctx, f.customer, livechat.StartChatInput{Active: true})
	wantType(t, err, livechat.TypeCustomerBanned)
	f.clock.Advance(25 * time.Hour) // the ban ends
	if _, err := f.svc.ResumeChat(ctx, f.customer, chatID, livechat.ThreadInput{}, true); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentSendsKeepEveryEvent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	view := must[*livechat.ChatView](t)(f.svc.StartChat(ctx, f.owner, livechat.StartChatInput{Active: true, CustomerID: f.customer.ID}))
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			a := f.owner
			if i%2 == 0 {
				a = f.customer
			}
			_, err := f.svc.SendEvent(ctx, a, view.Chat.ID, msg("m"), livechat.SendEventOptions{})
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := must[*livechat.ChatView](t)(f.svc.GetChat(ctx, f.owner, view.Chat.ID, ""))
	if len(got.Events) != n || got.Thread.EventCount != n {
		t.Fatalf("%d events stored, thread counts %d, want %d", len(got.Events), got.Thread.EventCount, n)
	}
	for i := 1; i < len(got.Events); i++ {
		if got.Events[i].ID <= got.Events[i-1].ID {
			t.Fatal("events not in id order")
		}
	}
}

func TestOrganizationIsKept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := storetest.Open(t)
	a, err := livechat.NewService(ctx, livechat.Config{Store: store, OrganizationID: "0b0b0b0b-1111-4222-8333-444444444444", LicenseID: 123})
	if err != nil {
		t.Fatal(err)
	}
	b, err := livechat.NewService(ctx, livechat.Config{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if a.Organization() != b.Organization() || b.Organization().LicenseID != 123 {
		t.Fatalf("organization changed: %+v vs %+v", a.Organization(), b.Organization())
	}
	if _, err := livechat.NewService(ctx, livechat.Config{Store: store, OrganizationID: "other"}); err == nil {
		t.Fatal("a different organization id was accepted on an existing store")
	}
}

func TestGroups(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	g := must[*livechat.Group](t)(f.svc.CreateGroup(ctx, f.owner, "Billing", ""))
	if g.ID != 3 || g.LanguageCode != "en" { // the fixture holds 0, 1 and 2
		t.Fatalf("group %+v", g)
	}
	_, err := f.svc.CreateGroup(ctx, f.agent, "Nope", "")
	wantType(t, err, livechat.TypeAuthorization)
	_, err = f.svc.CreateGroup(ctx, f.owner, " ", "")
	wantType(t, err, livechat.TypeValidation)
	groups := must[[]livechat.Group](t)(f.svc.ListGroups(ctx, f.agent))
	if len(groups) != 4 || groups[0].ID != 0 || groups[3].Name != "Billing" {
		t.Fatalf("groups %+v", groups)
	}
	_, err = f.svc.ListGroups(ctx, f.customer)
	wantType(t, err, livechat.TypeAuthorization)
	// A new group's agents see the group's chats.
	a := must[*livechat.Agent](t)(f.svc.CreateAgent(ctx, f.owner, livechat.AgentInput{Email: "billing@example.com", Groups: []livechat.GroupMembership{{ID: g.ID, Priority: "first"}}}))
	view := must[*livechat.ChatView](t)(f.svc.StartChat(ctx, f.customer, livechat.StartChatInput{Active: true, Access: &livechat.Access{GroupIDs: []int{g.ID}}}))
	if _, err := f.svc.GetChat(ctx, livechat.AgentActor(a), view.Chat.ID, ""); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.GetChat(ctx, f.agent, view.Chat.ID, "")
	wantType(t, err, livechat.TypeMissingAccess)
}
