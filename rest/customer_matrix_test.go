package rest_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/api"
)

// customerFixture is the world each customer method case runs in: Ann owns
// the chats, Bob is another customer who must get nowhere with them.
type customerFixture struct {
	e         *env
	ann, bob  customer
	transport string // "web" or "rtm"
	rtm       map[string]*rtmClient
	parent    *testing.T
}

type customerChatRef struct{ chat, thread, event, rich string }

// newChat makes Ann a chat with a message, a rich message with a button
// (pb1) and seeded properties on the chat, thread and event.
func (f *customerFixture) newChat(t *testing.T) customerChatRef {
	t.Helper()
	ctx := t.Context()
	actor, err := f.e.svc.Authenticate(ctx, f.ann.bearer())
	if err != nil {
		t.Fatal(err)
	}
	view, err := f.e.svc.StartChat(ctx, actor, livechat.StartChatInput{Active: true, Thread: livechat.ThreadInput{Events: []livechat.Event{{Type: "message", Text: "hi"}}}})
	if err != nil {
		t.Fatal(err)
	}
	c := customerChatRef{chat: view.Chat.ID, thread: view.Thread.ID, event: view.Events[0].ID}
	rich, err := f.e.svc.SendEvent(ctx, livechat.System(), c.chat, livechat.Event{Type: "rich_message", TemplateID: "quick_replies",
		Elements: []any{map[string]any{"title": "OK?", "buttons": []any{map[string]any{"text": "Yes", "type": "message", "value": "yes", "postback_id": "pb1", "user_ids": []any{}}}}}},
		livechat.SendEventOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.rich = rich.ID
	for _, target := range []livechat.PropertyTarget{{ChatID: c.chat}, {ChatID: c.chat, ThreadID: c.thread}, {ChatID: c.chat, ThreadID: c.thread, EventID: c.event}} {
		if err := f.e.svc.UpdateProperties(ctx, actor, target, livechat.Properties{"test": {"bool_property": true}}); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// inactiveChat is newChat, deactivated.
func (f *customerFixture) inactiveChat(t *testing.T) customerChatRef {
	t.Helper()
	c := f.newChat(t)
	actor, _ := f.e.svc.Authenticate(t.Context(), f.ann.bearer())
	if err := f.e.svc.DeactivateChat(t.Context(), actor, c.chat, false); err != nil {
		t.Fatal(err)
	}
	return c
}

// call runs a method as who over the fixture's transport and returns
// success, the payload and the error type.
func (f *customerFixture) call(t *testing.T, who customer, method string, p any) (bool, any, string) {
	t.Helper()
	if f.transport == "web" {
		var r response
		if raw, ok := p.(json.RawMessage); ok {
			r = f.e.do(t, request{method: http.MethodPost, path: "/v3.5/customer/action/" + method + "?organization_id=" + f.e.org(),
				auth: who.bearer(), contentType: "application/json", body: string(raw)})
		} else {
			r = f.e.customerAction(t, who.bearer(), "3.5", method, p)
		}
		var body any
		_ = json.Unmarshal(r.body, &body)
		if r.status == http.StatusOK {
			return true, body, ""
		}
		m, _ := body.(map[string]any)
		e, _ := m["error"].(map[string]any)
		typ, _ := e["type"].(string)
		return false, body, typ
	}
	rc := f.rtm[who.id]
	rc.t = t
	r := rc.response(rc.send(method, p))
	if r["action"] != method {
		t.Fatalf("response without its action: %v", r)
	}
	if r["success"] == true {
		return true, r["payload"], ""
	}
	return false, r["payload"], errType(r)
}

type customerCase struct {
	method string
	// ok builds a payload that succeeds (or fails with okErr).
	ok    func(t *testing.T, f *customerFixture) any
	okErr string
	// check looks at the successful answer.
	check func(t *testing.T, f *customerFixture, body any)
	// bad is a malformed payload (validation).
	bad any
	// denied builds a payload naming Ann's chat, which Bob must not reach.
	denied           func(t *testing.T, f *customerFixture) any
	webOnly, rtmOnly bool
}

func onChat(method string, body func(c customerChatRef) map[string]any, bad any) customerCase {
	return customerCase{method: method, bad: bad,
		ok:     func(t *testing.T, f *customerFixture) any { return body(f.newChat(t)) },
		denied: func(t *testing.T, f *customerFixture) any { return body(f.newChat(t)) },
	}
}

func obj(body any) map[string]any { m, _ := body.(map[string]any); return m }

var notAnObject = json.RawMessage(`5`)

var customerCases = []customerCase{
	{method: "start_chat", ok: func(*testing.T, *customerFixture) any {
		return map[string]any{"chat": map[string]any{"properties": map[string]any{"test": map[string]any{"string_property": "x"}},
			"thread": map[string]any{"events": []any{map[string]any{"type": "message", "text": "hello"}}}}}
	}, bad: map[string]any{"chat": "nope"}, check: func(t *testing.T, _ *customerFixture, body any) {
		if ids, _ := obj(body)["event_ids"].([]any); len(ids) != 1 || obj(body)["chat_id"] == nil {
			t.Fatalf("start_chat %v", body)
		}
	}},
	{method: "resume_chat", ok: func(t *testing.T, f *customerFixture) any {
		return map[string]any{"chat": map[string]any{"id": f.inactiveChat(t).chat, "access": map[string]any{"group_ids": []int{0}}}}
	}, bad: map[string]any{"chat": map[string]any{"id": 7}}, denied: func(t *testing.T, f *customerFixture) any {
		return map[string]any{"chat": map[string]any{"id": f.inactiveChat(t).chat}}
	}},
	onChat("deactivate_chat", func(c customerChatRef) map[string]any { return map[string]any{"id": c.chat} }, map[string]any{"id": 42}),
	{method: "list_chats", ok: func(t *testing.T, f *customerFixture) any { f.newChat(t); return map[string]any{"limit": 2} },
		bad: map[string]any{"limit": "five"}, check: func(t *testing.T, _ *customerFixture, body any) {
			sums, _ := obj(body)["chats_summary"].([]any)
			if len(sums) != 2 || obj(body)["next_page_id"] == nil || obj(body)["total_chats"] == nil {
				t.Fatalf("list_chats %v", body)
			}
			s := sums[0].(map[string]any)
			for _, k := range []string{"id", "users", "last_thread_id", "last_event_per_type", "active", "access", "properties"} {
				if _, ok := s[k]; !ok {
					t.Fatalf("chat summary lacks %s: %v", k, s)
				}
			}
		}},
	onChat("list_threads", func(c customerChatRef) map[string]any { return map[string]any{"chat_id": c.chat} }, map[string]any{"chat_id": 42}),
	{method: "list_threads", ok: func(t *testing.T, f *customerFixture) any {
		return map[string]any{"chat_id": f.newChat(t).chat, "min_events_count": 1}
	}, bad: map[string]any{"chat_id": "x", "min_events_count": 1, "limit": 2}},
	onChat("get_chat", func(c customerChatRef) map[string]any { return map[string]any{"chat_id": c.chat} }, map[string]any{"chat_id": 42}),
	onChat("send_event", func(c customerChatRef) map[string]any {
		return map[string]any{"chat_id": c.chat, "event": map[string]any{"type": "message", "text": "hello"}}
	}, map[string]any{"chat_id": "x", "event": map[string]any{"type": "message"}}),
	{method: "send_event", ok: func(t *testing.T, f *customerFixture) any { // a post-chat form goes to the closed thread
		return map[string]any{"chat_id": f.inactiveChat(t).chat, "attach_to_last_thread": true, "event": map[string]any{"type": "filled_form", "form_id": "default_postchat",
			"fields": []any{map[string]any{"type": "rating", "id": "2", "label": "Rate", "answer": "good"}}}}
	}, bad: map[string]any{"chat_id": "x", "event": "text"}},
	{method: "upload_file", webOnly: true, ok: func(*testing.T, *customerFixture) any { return map[string]any{} }, okErr: "validation", bad: notAnObject},
	onChat("send_rich_message_postback", func(c customerChatRef) map[string]any {
		return map[string]any{"chat_id": c.chat, "thread_id": c.thread, "event_id": c.rich, "postback": map[string]any{"id": "pb1", "toggled": true}}
	}, map[string]any{"chat_id": "x", "thread_id": "y", "event_id": "z", "postback": map[string]any{"id": "pb1"}}),
	onChat("send_sneak_peek", func(c customerChatRef) map[string]any {
		return map[string]any{"chat_id": c.chat, "sneak_peek_text": "I would like to as"}
	}, map[string]any{"chat_id": 1}),
	onChat("mark_events_as_seen", func(c customerChatRef) map[string]any {
		return map[string]any{"chat_id": c.chat, "seen_up_to": "2030-01-01T00:00:00.000000Z"}
	}, map[string]any{"chat_id": "x", "seen_up_to": "yesterday"}),
	onChat("update_chat_properties", func(c customerChatRef) map[string]any {
		return map[string]any{"id": c.chat, "properties": map[string]any{"test": map[string]any{"int_property": 4}}}
	}, map[string]any{"id": "x", "properties": map[string]any{"test": "flat"}}),
	onChat("delete_chat_properties", func(c customerChatRef) map[string]any {
		return map[string]any{"id": c.chat, "properties": map[string]any{"test": []string{"bool_property"}}}
	}, map[string]any{"id": "x", "properties": map[string]any{"test": "flat"}}),
	onChat("update_thread_properties", func(c customerChatRef) map[string]any {
		return map[string]any{"chat_id": c.chat, "thread_id": c.thread, "properties": map[string]any{"test": map[string]any{"string_property": "s"}}}
	}, map[string]any{"chat_id": "x"}),
	onChat("delete_thread_properties", func(c customerChatRef) map[string]any {
		return map[string]any{"chat_id": c.chat, "thread_id": c.thread, "properties": map[string]any{"test": []string{"bool_property"}}}
	}, map[string]any{"chat_id": "x"}),
	onChat("update_event_properties", func(c customerChatRef) map[string]any {
		return map[string]any{"chat_id": c.chat, "thread_id": c.thread, "event_id": c.event, "properties": map[string]any{"test": map[string]any{"bool_property": false}}}
	}, map[string]any{"chat_id": "x", "thread_id": "y"}),
	onChat("delete_event_properties", func(c customerChatRef) map[string]any {
		return map[string]any{"chat_id": c.chat, "thread_id": c.thread, "event_id": c.event, "properties": map[string]any{"test": []string{"bool_property"}}}
	}, map[string]any{"chat_id": "x", "thread_id": "y"}),
	{method: "get_customer", ok: func(*testing.T, *customerFixture) any { return map[string]any{} }, bad: notAnObject,
		check: func(t *testing.T, f *customerFixture, body any) {
			if obj(body)["id"] != f.ann.id || obj(body)["statistics"] == nil || obj(body)["type"] != "customer" {
				t.Fatalf("get_customer %v", body)
			}
		}},
	{method: "update_customer", ok: func(*testing.T, *customerFixture) any {
		return map[string]any{"name": "Ann", "email": "ann@shop.example.com", "session_fields": []any{map[string]any{"plan": "gold"}}}
	}, bad: map[string]any{"email": "not-an-email"}},
	{method: "set_customer_session_fields", ok: func(*testing.T, *customerFixture) any {
		return map[string]any{"session_fields": []any{map[string]any{"a": "1"}, map[string]any{"b": "2"}}}
	}, bad: map[string]any{"session_fields": []any{map[string]any{"a": "1", "b": "2"}}}},
	{method: "update_customer_page", rtmOnly: true, ok: func(*testing.T, *customerFixture) any {
		return map[string]any{"url": "https://shop.example.com/cart", "title": "Cart"}
	}, bad: map[string]any{"url": "cart"}},
	{method: "request_email_verification", webOnly: true, ok: func(*testing.T, *customerFixture) any {
		return map[string]any{"callback_uri": "https://shop.example.com/verified"}
	}, bad: map[string]any{"callback_uri": "nope"}},
	{method: "list_group_statuses", ok: func(*testing.T, *customerFixture) any { return map[string]any{"group_ids": []int{0, 99}} },
		bad: map[string]any{}, check: func(t *testing.T, _ *customerFixture, body any) {
			st, _ := obj(body)["groups_status"].(map[string]any)
			if len(st) != 1 || st["0"] != "online" {
				t.Fatalf("list_group_statuses %v (the bot accepts chats in group 0; group 99 does not exist)", body)
			}
		}},
	{method: "get_predicted_agent", ok: func(*testing.T, *customerFixture) any { return map[string]any{"group_id": 0} },
		bad: map[string]any{"group_id": "x"}, check: func(t *testing.T, _ *customerFixture, body any) {
			if a, _ := obj(body)["agent"].(map[string]any); a == nil || a["is_bot"] != true || a["type"] != "agent" {
				t.Fatalf("get_predicted_agent %v", body)
			}
		}},
	{method: "accept_greeting", ok: func(*testing.T, *customerFixture) any { return map[string]any{"greeting_id": 1, "unique_id": "u1"} },
		okErr: "greeting_not_found", bad: map[string]any{"greeting_id": "x", "unique_id": "u1"}},
	{method: "cancel_greeting", ok: func(*testing.T, *customerFixture) any { return map[string]any{"unique_id": "u1"} },
		okErr: "greeting_not_found", bad: map[string]any{}},
	{method: "check_goals", webOnly: true, ok: func(*testing.T, *customerFixture) any {
		return map[string]any{"session_fields": []any{}, "group_id": 0, "page_url": "https://shop.example.com/"}
	}, bad: map[string]any{"group_id": "x", "page_url": "https://shop.example.com/"}},
	{method: "get_form", ok: func(*testing.T, *customerFixture) any { return map[string]any{"group_id": 0, "type": "prechat"} },
		bad: map[string]any{"group_id": 0, "type": "nope"}, check: func(t *testing.T, _ *customerFixture, body any) {
			form, _ := obj(body)["form"].(map[string]any)
			if obj(body)["enabled"] != true || form == nil || len(form["fields"].([]any)) == 0 {
				t.Fatalf("get_form %v", body)
			}
		}},
	{method: "get_url_info", ok: func(*testing.T, *customerFixture) any {
		return map[string]any{"url": "https://www.example.com/img/cat.png"}
	},
		bad: map[string]any{"url": "nope"}, check: func(t *testing.T, _ *customerFixture, body any) {
			if obj(body)["image_url"] != "https://www.example.com/img/cat.png" || obj(body)["title"] == nil {
				t.Fatalf("get_url_info %v", body)
			}
		}},
	{method: "get_dynamic_configuration", webOnly: true, ok: func(*testing.T, *customerFixture) any { return map[string]any{"group_id": 0} },
		bad: map[string]any{"group_id": "x"}, check: func(t *testing.T, f *customerFixture, body any) {
			if obj(body)["organization_id"] != f.e.org() || obj(body)["config_version"] == nil || obj(body)["online_group_ids"] == nil {
				t.Fatalf("get_dynamic_configuration %v", body)
			}
		}},
	{method: "get_configuration", webOnly: true, ok: func(*testing.T, *customerFixture) any { return map[string]any{"group_id": 0, "version": "x"} },
		bad: map[string]any{"group_id": "x"}},
	{method: "get_localization", webOnly: true, ok: func(*testing.T, *customerFixture) any {
		return map[string]any{"group_id": 0, "language": "en", "version": "x"}
	}, bad: map[string]any{"language": 5}},
	{method: "list_license_properties", webOnly: true, ok: func(*testing.T, *customerFixture) any { return map[string]any{} },
		bad: map[string]any{"namespace": 5}},
	{method: "list_group_properties", webOnly: true, ok: func(*testing.T, *customerFixture) any { return map[string]any{"id": 0} },
		bad: map[string]any{}},
}

// TestCustomerMethodMatrix drives every Customer Chat API method over the
// Web API and RTM: success, validation for a malformed payload, and another
// customer naming Ann's chat gets not_found or authorization, while its own
// socket hears nothing of Ann's chats.
func TestCustomerMethodMatrix(t *testing.T) {
	t.Parallel()
	covered := map[string]bool{}
	for _, c := range customerCases {
		covered[c.method] = true
	}
	for _, m := range api.CustomerTable().Names() {
		if !covered[m] {
			t.Errorf("method %s has no case", m)
		}
	}
	for _, transport := range []string{"web", "rtm"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			e := newCustomerEnv(t, func(c *livechat.Config) { c.MaxCustomerChats = 1000 })
			// A bot accepts chats in group 0: groups are online, the router assigns.
			if _, err := e.svc.CreateAgent(t.Context(), livechat.System(), livechat.AgentInput{Bot: true, Name: "Helper", MaxChats: 1000}); err != nil {
				t.Fatal(err)
			}
			f := &customerFixture{e: e, transport: transport, rtm: map[string]*rtmClient{}, parent: t, ann: e.newCustomer(t), bob: e.newCustomer(t)}
			if transport == "rtm" {
				f.rtm[f.ann.id], _ = e.loginCustomer(t, f.ann)
				f.rtm[f.bob.id], _ = e.loginCustomer(t, f.bob)
			}
			for _, mc := range customerCases {
				if (mc.webOnly && transport == "rtm") || (mc.rtmOnly && transport == "web") {
					continue
				}
				t.Run(mc.method, func(t *testing.T) {
					ok, body, typ := f.call(t, f.ann, mc.method, mc.ok(t, f))
					switch {
					case mc.okErr != "" && (ok || typ != mc.okErr):
						t.Fatalf("want %s: ok=%v type=%q %v", mc.okErr, ok, typ, body)
					case mc.okErr == "" && !ok:
						t.Fatalf("success case failed: %s %v", typ, body)
					case mc.check != nil:
						mc.check(t, f, body)
					}
					if ok, body, typ := f.call(t, f.ann, mc.method, mc.bad); ok || typ != "validation" {
						t.Fatalf("malformed payload: ok=%v type=%q %v", ok, typ, body)
					}
					if mc.denied != nil {
						if ok, body, typ := f.call(t, f.bob, mc.method, mc.denied(t, f)); ok || !slices.Contains([]string{"not_found", "authorization"}, typ) {
							t.Fatalf("another customer: ok=%v type=%q %v", ok, typ, body)
						}
					}
				})
			}
			// Bob never heard of Ann's chats, and Bob's own lists do not show them.
			if transport == "rtm" {
				f.rtm[f.bob.id].t = t
				f.rtm[f.bob.id].onlyPushes("bob's socket", "groups_status_updated")
			}
			ok, body, _ := f.call(t, f.bob, "list_chats", map[string]any{})
			if sums, _ := obj(body)["chats_summary"].([]any); !ok || len(sums) != 0 {
				t.Fatalf("bob lists %v", body)
			}
		})
	}
}
