package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/ddp"
	"github.com/chatbridge/chatbridge/livechat"
)

func TestBundleRoundTrip(t *testing.T) {
	t.Parallel()
	var bu bundle
	if bu.bytes() != nil {
		t.Fatal("an empty bundle must be nil (the hub then sends nothing)")
	}
	entries := []struct {
		kind      byte
		key, body string
	}{
		{entryFrame, streamKey(streamRoomMessages, "R1"), `{"msg":"changed"}`},
		{entryInquiryAdded, "T1", `{"rid":"R1"}`},
		{entryInquiryRemoved, "T1", ""},
		{entryFrame, strings.Repeat("k", 300), strings.Repeat("b", 70000)},
	}
	for _, e := range entries {
		bu.add(e.kind, e.key, []byte(e.body))
	}
	i := 0
	err := walkBundle(bu.bytes(), func(kind byte, key, body []byte) {
		want := entries[i]
		if kind != want.kind || string(key) != want.key || string(body) != want.body {
			t.Errorf("entry %d = %c %q %.20q, want %c %q %.20q", i, kind, key, body, want.kind, want.key, want.body)
		}
		i++
	})
	if err != nil || i != len(entries) {
		t.Fatalf("walk: %v after %d entries", err, i)
	}
	for cut := 1; cut < 12; cut++ {
		if err := walkBundle(bu.bytes()[:cut], func(byte, []byte, []byte) {}); !errors.Is(err, errBadBundle) {
			t.Errorf("bundle cut at %d: %v, want errBadBundle", cut, err)
		}
	}
}

func FuzzWalkBundle(f *testing.F) {
	var bu bundle
	bu.add(entryFrame, "k", []byte("v"))
	f.Add(bu.bytes())
	f.Add([]byte{'f', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		total := 0
		_ = walkBundle(b, func(_ byte, key, body []byte) { total += len(key) + len(body) })
		if total > len(b) {
			t.Fatalf("walked %d bytes out of %d", total, len(b))
		}
	})
}

func TestStreamOptions(t *testing.T) {
	t.Parallel()
	raw := func(s string) ddp.Params { return ddp.Params{json.RawMessage(`"R1"`), json.RawMessage(s)} }
	for _, tc := range []struct {
		params ddp.Params
		use    bool
		token  string
	}{
		{raw(`false`), false, ""},
		{raw(`true`), true, ""},
		{raw(`{"useCollection":false,"args":[null]}`), false, ""},
		{raw(`{"useCollection":true,"args":[{"token":"abc"}]}`), true, "abc"},
		{raw(`{"args":[{"visitorToken":"xyz"}]}`), false, "xyz"},
		{ddp.Params{json.RawMessage(`"R1"`)}, false, ""},
	} {
		use, extra := streamOptions(tc.params)
		if use != tc.use || tokenOf(extra) != tc.token {
			t.Errorf("%s: useCollection %v token %q, want %v %q", tc.params, use, tokenOf(extra), tc.use, tc.token)
		}
	}
}

func TestRCError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		code any
	}{
		{livechat.Errorf(livechat.TypeValidation, "bad"), codeInvalidParams},
		{livechat.Errorf(livechat.TypeMissingAccess, "no"), codeNotAllowed},
		{livechat.Errorf(livechat.TypeAuthorization, "no"), codeNotAllowed},
		{livechat.Errorf(livechat.TypeNotFound, "gone"), codeInvalidRoom},
		{livechat.Errorf(livechat.TypeChatInactive, "closed"), codeRoomClosed},
		{ddp.NewError(403, "kept"), 403},
	} {
		var de *ddp.Error
		if !errors.As(rcError(tc.err, "m", codeInvalidRoom), &de) || de.Code != tc.code {
			t.Errorf("%v → %v, want code %v", tc.err, de, tc.code)
		}
	}
	internal := errors.New("disk on fire")
	if got := rcError(internal, "m", ""); got != internal {
		t.Errorf("an internal error must stay itself (ddp masks it): %v", got)
	}
	if de := rcError(livechat.Errorf(livechat.TypeValidation, "bad"), "sendMessage", "").(*ddp.Error); de.Details.(map[string]any)["method"] != "sendMessage" {
		t.Errorf("details %v", de.Details)
	}
}

func TestStatusParam(t *testing.T) {
	t.Parallel()
	p := func(vals ...string) ddp.Params {
		var out ddp.Params
		for _, v := range vals {
			b, _ := json.Marshal(v)
			out = append(out, b)
		}
		return out
	}
	for _, tc := range []struct {
		p    ddp.Params
		want string
		ok   bool
	}{
		{p("away"), "away", true},
		{p("uid", "busy"), "busy", true},
		{p("nope"), "", false},
		{nil, "", false},
	} {
		if got, ok := statusParam(tc.p); got != tc.want || ok != tc.ok {
			t.Errorf("%s: %q %v, want %q %v", tc.p, got, ok, tc.want, tc.ok)
		}
	}
}

func TestMessageShapes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	a := h.agent("shapes@example.com")
	cust, err := h.svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{Name: ptr("Carla")})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	edited := at.Add(time.Minute).Format(time.RFC3339Nano)
	for _, tc := range []struct {
		name  string
		e     livechat.Event
		check func(m message) bool
	}{
		{"agent message", livechat.Event{Type: livechat.EventMessage, Text: "hi", AuthorID: a.ID},
			func(m message) bool {
				return m.Msg == "hi" && m.U.ID == a.AccountID && m.U.Username == a.Username && m.T == "" && m.Alias == ""
			}},
		{"customer message", livechat.Event{Type: livechat.EventMessage, Text: "yo", AuthorID: cust.ID},
			func(m message) bool {
				return m.U.ID == cust.ID && m.U.Username == "guest-"+cust.ID && m.Alias == "Carla"
			}},
		{"close", livechat.Event{Type: livechat.EventSystemMessage, SystemMessageType: "manual_archived_agent", Text: "Chat closed by agent"},
			func(m message) bool {
				return m.T == msgLivechatEnd && m.U == rocketCat && m.Msg == "Chat closed by agent"
			}},
		{"other system message", livechat.Event{Type: livechat.EventSystemMessage, SystemMessageType: "routing.assigned", Text: "Ann joined"},
			func(m message) bool { return m.T == "" && m.U == rocketCat && m.Groupable != nil && !*m.Groupable }},
		{"image", livechat.Event{Type: livechat.EventFile, AuthorID: a.ID, URL: "https://x/y.png", Name: "y.png", ContentType: "image/png", Size: 10, Width: 3, Height: 4},
			func(m message) bool {
				return m.File != nil && m.File.Name == "y.png" && len(m.Attachments) == 1 && m.Attachments[0].ImageURL == "https://x/y.png" &&
					m.Attachments[0].ImageDimensions.Width == 3 && m.Attachments[0].TitleLink == "https://x/y.png"
			}},
		{"rich message", livechat.Event{Type: livechat.EventRichMessage, TemplateID: "cards", AuthorID: a.ID, Elements: []any{map[string]any{
			"title": "Card", "subtitle": "sub", "image": map[string]any{"url": "https://x/i.png"},
			"buttons": []any{map[string]any{"text": "Open", "type": "url", "value": "https://x"}, map[string]any{"text": "Yes", "type": "message", "value": "yes"}}}}},
			func(m message) bool {
				att := m.Attachments[0]
				return att.Title == "Card" && att.Text == "sub" && att.ImageURL == "https://x/i.png" && len(att.Actions) == 2 &&
					att.Actions[0].URL == "https://x" && att.Actions[1].Msg == "yes"
			}},
		{"filled form", livechat.Event{Type: livechat.EventFilledForm, FormID: "f", FormType: "prechat", AuthorID: cust.ID, Fields: []any{
			map[string]any{"type": "name", "label": "Name", "answer": "Carla"}, map[string]any{"label": "Pick", "answers": []any{map[string]any{"label": "A"}, map[string]any{"label": "B"}}}}},
			func(m message) bool {
				f := m.Attachments[0].Fields
				return len(f) == 2 && f[0].Value == "Carla" && f[1].Value == "A, B"
			}},
		{"custom", livechat.Event{Type: livechat.EventCustom, AuthorID: a.ID, Content: map[string]any{"k": 1.0}},
			func(m message) bool { return m.CustomFields["livechat"] != nil }},
		{"agents only, edited, reacted", livechat.Event{Type: livechat.EventMessage, Text: "note", AuthorID: a.ID, Visibility: livechat.VisibilityAgents,
			Properties: livechat.Properties{livechat.RCNamespace: {livechat.RCEditedAt: edited, livechat.RCEditedBy: a.ID, livechat.RCReactions: `{":+1:":["ann"]}`}}},
			func(m message) bool {
				return m.CustomFields["visibility"] == livechat.VisibilityAgents && m.EditedAt != nil && m.EditedBy.ID == a.AccountID &&
					m.UpdatedAt.Equal(*m.EditedAt) && m.Reactions[":+1:"].Usernames[0] == "ann"
			}},
	} {
		e := tc.e
		e.ID, e.ChatID, e.CreatedAt = "E1", "C1", at
		m := h.b.toMessage(ctx, &e)
		if m.ID != "E1" || m.RID != "C1" || !m.TS.Equal(at) || m.Mentions == nil {
			t.Errorf("%s: ids and dates: %+v", tc.name, m)
		}
		if !tc.check(m) {
			t.Errorf("%s: %+v", tc.name, m)
		}
		if _, err := ddp.EncodeEJSON(m); err != nil {
			t.Errorf("%s: encode: %v", tc.name, err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// Every DDP session of one agent shares one encoding of an event; each agent
// is one audience; a session gets only the streams it subscribed.
func TestOneEncodingPerAudience(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	ann, bob := h.agent("ann@example.com"), h.agent("bob@example.com")
	cust, err := h.svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{})
	if err != nil {
		t.Fatal(err)
	}
	view, err := h.svc.StartChat(ctx, livechat.AgentActor(ann), livechat.StartChatInput{CustomerID: cust.ID, AgentIDs: []string{bob.ID}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	rid := view.Chat.ID
	var clients []*client
	for _, who := range []*livechat.Agent{ann, ann, bob} {
		c := h.dial()
		c.login(who.Username, "secret123")
		if e := c.sub(streamRoomMessages, rid, false); e != nil {
			t.Fatal(e)
		}
		clients = append(clients, c)
	}
	quiet := h.dial() // logged in, no stream: hears nothing
	quiet.login(bob.Username, "secret123")

	before := h.hub.Stats().Encodes
	if _, err := h.svc.SendEvent(ctx, livechat.CustomerActor(cust), rid, livechat.Event{Type: livechat.EventMessage, Text: "ping"}, livechat.SendEventOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		c.stream(streamRoomMessages, rid, func(a []any) bool { return a[0].(map[string]any)["msg"] == "ping" })
	}
	if n := h.hub.Stats().Encodes - before; n != 2 {
		t.Fatalf("%d encodings for two agents' three sessions, want 2", n)
	}
	quiet.mustCall("rooms/get")
	if n := quiet.count(func(m map[string]any) bool { return m["msg"] == "changed" }); n != 0 {
		t.Fatalf("a session without streams received %d stream messages", n)
	}
	// The shared parts were built once: the memo holds the event's message once.
	var raw []byte
	for _, e := range h.b.memo.ring {
		if e != nil && e.p != nil && len(e.p.msgs) == 1 {
			raw = e.p.msgs[0]
		}
	}
	if !bytes.Contains(raw, []byte(`"msg":"ping"`)) {
		t.Fatalf("memo has no shared message: %s", raw)
	}
}

func TestIdentityBothWays(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	a := h.agent("who@example.com")
	for _, id := range []string{a.AccountID, a.ID, a.Username} {
		got, err := h.b.agentByUID(ctx, id)
		if err != nil || got.ID != a.ID {
			t.Errorf("agentByUID(%q) = %v, %v", id, got, err)
		}
	}
	p, ok := h.b.people.get(ctx, a.ID)
	if !ok || p.ref.ID != a.AccountID {
		t.Fatalf("person of %s: %+v", a.ID, p)
	}
	cust, err := h.svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{})
	if err != nil {
		t.Fatal(err)
	}
	pc, _ := h.b.people.get(ctx, cust.ID)
	back, err := h.b.customerByUID(ctx, pc.ref.Username)
	if err != nil || back.ID != cust.ID || pc.ref.ID != cust.ID {
		t.Fatalf("visitor %+v back %v %v", pc, back, err)
	}
	if p, _ := h.b.people.get(ctx, ""); p.ref != rocketCat {
		t.Fatalf("system author %+v", p)
	}
}

// logout revokes the token, ends the user's streams and its `users` document.
func TestLogoutEndsUserStreams(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.agent("out@example.com")
	c := h.dial()
	uid := c.login(a.Username, "secret123")
	if e := c.sub(streamNotifyUser, uid+"/rooms-changed", false); e != nil {
		t.Fatal(e)
	}
	if e := c.sub(streamNotifyAll, "public-settings-changed", false); e != nil {
		t.Fatal(e)
	}
	c.mustCall("logout")
	c.take("nosub of the user stream", func(m map[string]any) bool { return m["msg"] == "nosub" })
	c.take("users removed", func(m map[string]any) bool {
		return m["msg"] == "removed" && m["collection"] == "users" && m["id"] == uid
	})
	if n := c.count(func(m map[string]any) bool { return m["msg"] == "nosub" }); n != 1 {
		t.Fatalf("%d subscriptions ended, want only the user stream", n)
	}
	if r, _ := c.call("rooms/get"); r == nil || len(r.([]any)) != 0 {
		t.Fatalf("rooms/get after logout: %v", r)
	}
	if _, e := c.call("sendMessage", map[string]any{"rid": "x", "msg": "y"}); e["error"] != codeInvalidUser {
		t.Fatalf("sendMessage after logout: %v", e)
	}
	if s := h.svc.EffectiveRoutingStatus(a); s != livechat.RoutingOffline {
		t.Fatalf("routing status after logout: %s", s)
	}
}

func TestPresenceFollowsSessions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	a := h.agent("present@example.com")
	if err := h.svc.SetRoutingStatus(ctx, livechat.AgentActor(a), a.ID, livechat.RoutingAccepting); err != nil {
		t.Fatal(err)
	}
	c := h.dial()
	c.login(a.Username, "secret123")
	a, _ = h.svc.GetAgent(ctx, livechat.System(), a.ID)
	if s := h.svc.EffectiveRoutingStatus(a); s != livechat.RoutingAccepting {
		t.Fatalf("after DDP login: %s", s)
	}
	c.mustCall("UserPresence:away")
	if s := h.svc.EffectiveRoutingStatus(a); s != livechat.RoutingNotAccepting {
		t.Fatalf("away: %s", s)
	}
	_ = c.p.Close(1000, "")
	deadline := time.Now().Add(waitFor)
	for h.svc.EffectiveRoutingStatus(a) != livechat.RoutingOffline {
		if time.Now().After(deadline) {
			t.Fatal("the agent is still online after its only session closed")
		}
		time.Sleep(5 * time.Millisecond) // polling the presence the session's close updates
	}
}

// benchSetup makes a chat of an agent and a customer and one incoming_event
// of it, as the hub would hand it to the agent's audience.
func benchSetup(b *testing.B) (*Bridge, livechat.Actor, *livechat.DomainEvent) {
	h := newHarness(b)
	ctx := context.Background()
	a := h.agent("bench@example.com")
	cust, err := h.svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{Name: ptr("Bea")})
	if err != nil {
		b.Fatal(err)
	}
	view, err := h.svc.StartChat(ctx, livechat.AgentActor(a), livechat.StartChatInput{CustomerID: cust.ID, Active: true})
	if err != nil {
		b.Fatal(err)
	}
	e, err := h.svc.SendEvent(ctx, livechat.CustomerActor(cust), view.Chat.ID, livechat.Event{Type: livechat.EventMessage, Text: strings.Repeat("hello ", 20)}, livechat.SendEventOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ev := &livechat.DomainEvent{Kind: livechat.KindIncomingEvent, ChatID: view.Chat.ID, Data: livechat.IncomingEventData{Event: e}}
	return h.b, livechat.AgentActor(a), ev
}

// rebuildEvery is how many audiences share one event's parts in
// BenchmarkEncodeIncomingEvent.
const rebuildEvery = 64

// BenchmarkEncodeIncomingEvent is one agent audience's encoding of a
// message: the shared parts come from the memo (rebuilt for every
// rebuildEvery-th audience), the per-agent parts (subscription unread,
// notification) are made here.
func BenchmarkEncodeIncomingEvent(b *testing.B) {
	br, actor, ev := benchSetup(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%rebuildEvery == 0 {
			ev = &livechat.DomainEvent{Kind: ev.Kind, ChatID: ev.ChatID, Data: ev.Data}
		}
		if _, err := br.encodeAgent(ctx, ev, actor, actor.Agent.AccountID); err != nil {
			b.Fatal(err)
		}
	}
}

// Unread counts move one message at a time from memory and start over when
// the user reads the room.
func TestUnreadFollowsMessages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	a := h.agent("unread@example.com")
	cust, err := h.svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{})
	if err != nil {
		t.Fatal(err)
	}
	view, err := h.svc.StartChat(ctx, livechat.AgentActor(a), livechat.StartChatInput{CustomerID: cust.ID, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	rid := view.Chat.ID
	c := h.dial()
	uid := c.login(a.Username, "secret123")
	if e := c.sub(streamNotifyUser, uid+"/subscriptions-changed", false); e != nil {
		t.Fatal(e)
	}
	send := func(actor livechat.Actor, text string) {
		t.Helper()
		if _, err := h.svc.SendEvent(ctx, actor, rid, livechat.Event{Type: livechat.EventMessage, Text: text}, livechat.SendEventOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	unread := func() float64 {
		t.Helper()
		args := c.stream(streamNotifyUser, uid+"/subscriptions-changed", func(a []any) bool { return a[0] == actionUpdated })
		return args[1].(map[string]any)["unread"].(float64)
	}
	for i := 1; i <= 3; i++ {
		send(livechat.CustomerActor(cust), "m"+string(rune('0'+i)))
		if n := unread(); n != float64(i) {
			t.Fatalf("after %d messages unread = %v", i, n)
		}
	}
	c.mustCall("readMessages", rid)
	if n := unread(); n != 0 {
		t.Fatalf("after readMessages unread = %v", n)
	}
	send(livechat.CustomerActor(cust), "again")
	if n := unread(); n != 1 {
		t.Fatalf("after one more message unread = %v", n)
	}
	send(livechat.AgentActor(a), "my answer") // writing reads the room
	if n := unread(); n != 0 {
		t.Fatalf("after the agent wrote unread = %v", n)
	}
	send(livechat.CustomerActor(cust), "last")
	if n := unread(); n != 1 {
		t.Fatalf("after the customer answered unread = %v", n)
	}
	// The same count straight from the store.
	subs := c.mustCall("subscriptions/get").([]any)
	if got := subs[0].(map[string]any)["unread"]; got != 1.0 {
		t.Fatalf("subscriptions/get unread = %v", got)
	}
}

// The spliced user stream frame says what streamFrame would.
func TestUserStreamFrame(t *testing.T) {
	t.Parallel()
	args := []byte(`["updated",{"_id":"R1","ts":{"$date":1}}]`)
	for _, uid := range []string{"6f090509-9169-45f5-a390-0ae9c8dc4958", `we"ird\uid`, "ünï"} {
		got := userStreamFrame(uid, "/rooms-changed", args)
		want, err := streamFrame(streamNotifyUser, uid+"/rooms-changed", "updated", json.RawMessage(`{"_id":"R1","ts":{"$date":1}}`))
		if err != nil {
			t.Fatal(err)
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		_ = json.Unmarshal(want, &w)
		if gb, _ := json.Marshal(g); !bytes.Equal(gb, mustJSON(w)) {
			t.Errorf("uid %q:\n got %s\nwant %s", uid, got, want)
		}
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
