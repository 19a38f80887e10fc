package rest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/rest"
)

// matrixFixture is the world each method case runs in: Ann (group 2) owns the
// chats, Bob (group 1) has no access to them, Cust is their customer.
type matrixFixture struct {
	e         *env
	ann, bob  string // Authorization values
	annID     string
	cust      *livechat.Customer
	transport string // "web" or "rtm"
	rtm       map[string]*rtmClient
	parent    *testing.T // owns the cached RTM connections
}

type chatRef struct{ chat, thread, event string }

func (f *matrixFixture) newChat(t *testing.T) chatRef {
	t.Helper()
	actor, err := f.e.svc.Authenticate(t.Context(), f.ann)
	if err != nil {
		t.Fatal(err)
	}
	cust, err := f.e.svc.CreateCustomer(t.Context(), livechat.System(), livechat.CustomerInput{}) // one active chat per customer
	if err != nil {
		t.Fatal(err)
	}
	view, err := f.e.svc.StartChat(t.Context(), actor, livechat.StartChatInput{Active: true, CustomerID: cust.ID,
		Access: &livechat.Access{GroupIDs: []int{2}}, Thread: livechat.ThreadInput{Events: []livechat.Event{{Type: "message", Text: "hi"}}}})
	if err != nil {
		t.Fatal(err)
	}
	c := chatRef{view.Chat.ID, view.Thread.ID, view.Events[0].ID}
	// Seed properties and a tag so the delete and untag cases have something to remove.
	for _, target := range []livechat.PropertyTarget{{ChatID: c.chat, ThreadID: c.thread}, {ChatID: c.chat, ThreadID: c.thread, EventID: c.event}} {
		if err := f.e.svc.UpdateProperties(t.Context(), actor, target, livechat.Properties{"seed": {"k": "v"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.e.svc.UpdateProperties(t.Context(), actor, livechat.PropertyTarget{ChatID: c.chat}, livechat.Properties{"source": {"type": "x"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.e.svc.TagThread(t.Context(), actor, c.chat, c.thread, "seed", true); err != nil {
		t.Fatal(err)
	}
	return c
}

// call runs a method over the fixture's transport and returns success, the
// payload and the error type.
func (f *matrixFixture) call(t *testing.T, auth, method string, payload map[string]any) (bool, any, string) {
	t.Helper()
	if f.transport == "web" {
		r := f.e.action(t, auth, "3.5", method, payload)
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
	rc := f.rtm[auth]
	if rc == nil {
		rc = f.e.dialRTM(f.parent, "3.5")
		rc.t = t
		rc.call("login", map[string]any{"token": auth})
		f.rtm[auth] = rc
	}
	rc.t = t
	r := rc.response(rc.send(method, payload))
	if r["success"] == true {
		return true, r["payload"], ""
	}
	return false, r["payload"], errType(r)
}

type methodCase struct {
	method string
	// ok builds a payload that succeeds.
	ok func(t *testing.T, f *matrixFixture) map[string]any
	// bad is a malformed payload (validation).
	bad map[string]any
	// denied builds a payload Bob may not run (authorization or missing_access); nil when the method has no access rule.
	denied  func(t *testing.T, f *matrixFixture) map[string]any
	webOnly bool
}

func chatCase(method string, body func(c chatRef, f *matrixFixture) map[string]any, bad map[string]any) methodCase {
	return methodCase{method: method, bad: bad,
		ok:     func(t *testing.T, f *matrixFixture) map[string]any { return body(f.newChat(t), f) },
		denied: func(t *testing.T, f *matrixFixture) map[string]any { return body(f.newChat(t), f) },
	}
}

var badChatID = map[string]any{"chat_id": 42, "id": 42}

var agentMethodCases = []methodCase{
	chatCase("get_chat", func(c chatRef, _ *matrixFixture) map[string]any { return map[string]any{"chat_id": c.chat} }, badChatID),
	chatCase("list_threads", func(c chatRef, _ *matrixFixture) map[string]any { return map[string]any{"chat_id": c.chat} }, badChatID),
	{method: "list_chats", ok: func(*testing.T, *matrixFixture) map[string]any { return map[string]any{"limit": 5} }, bad: map[string]any{"limit": "five"}},
	{method: "start_chat", ok: func(_ *testing.T, f *matrixFixture) map[string]any {
		return map[string]any{"chat": map[string]any{"thread": map[string]any{"events": []any{map[string]any{"type": "message", "text": "x"}}}}}
	}, bad: map[string]any{"chat": "nope"}, denied: func(*testing.T, *matrixFixture) map[string]any {
		return map[string]any{"chat": map[string]any{"access": map[string]any{"group_ids": []int{2}}}}
	}},
	{method: "resume_chat", ok: func(t *testing.T, f *matrixFixture) map[string]any {
		c := f.newChat(t)
		actor, _ := f.e.svc.Authenticate(t.Context(), f.ann)
		if err := f.e.svc.DeactivateChat(t.Context(), actor, c.chat, false); err != nil {
			t.Fatal(err)
		}
		return map[string]any{"chat": map[string]any{"id": c.chat}}
	}, bad: map[string]any{"chat": map[string]any{"id": 7}}, denied: func(t *testing.T, f *matrixFixture) map[string]any {
		c := f.newChat(t)
		actor, _ := f.e.svc.Authenticate(t.Context(), f.ann)
		if err := f.e.svc.DeactivateChat(t.Context(), actor, c.chat, false); err != nil {
			t.Fatal(err)
		}
		return map[string]any{"chat": map[string]any{"id": c.chat}}
	}},
	chatCase("deactivate_chat", func(c chatRef, _ *matrixFixture) map[string]any { return map[string]any{"id": c.chat} }, badChatID),
	chatCase("follow_chat", func(c chatRef, _ *matrixFixture) map[string]any { return map[string]any{"id": c.chat} }, badChatID),
	{method: "unfollow_chat", ok: func(t *testing.T, f *matrixFixture) map[string]any {
		return map[string]any{"id": f.newChat(t).chat}
	}, bad: badChatID},
	chatCase("send_event", func(c chatRef, _ *matrixFixture) map[string]any {
		return map[string]any{"chat_id": c.chat, "event": map[string]any{"type": "message", "text": "hello"}}
	}, map[string]any{"chat_id": "x", "event": map[string]any{"type": "message"}}),
	{method: "add_user_to_chat", bad: map[string]any{"chat_id": "x"},
		ok: func(t *testing.T, f *matrixFixture) map[string]any {
			c := f.newChat(t)
			other := f.e.agentBearer(t, "carl"+strings.ToLower(livechat.NewID())+"@example.com", 2)
			a, _ := f.e.svc.Authenticate(t.Context(), other)
			return map[string]any{"chat_id": c.chat, "user_id": a.ID, "user_type": "agent", "visibility": "all"}
		},
		denied: func(t *testing.T, f *matrixFixture) map[string]any {
			return map[string]any{"chat_id": f.newChat(t).chat, "user_id": "bob@example.com", "user_type": "agent", "visibility": "all"}
		}},
	{method: "remove_user_from_chat", bad: map[string]any{"chat_id": 1},
		ok: func(t *testing.T, f *matrixFixture) map[string]any {
			return map[string]any{"chat_id": f.newChat(t).chat, "user_id": f.annID, "user_type": "agent"}
		},
		denied: func(t *testing.T, f *matrixFixture) map[string]any {
			return map[string]any{"chat_id": f.newChat(t).chat, "user_id": f.annID, "user_type": "agent"}
		}},
	chatCase("update_chat_properties", func(c chatRef, _ *matrixFixture) map[string]any {
		return map[string]any{"id": c.chat, "properties": map[string]any{"test": map[string]any{"a": 1}}}
	}, map[string]any{"id": "x", "properties": map[string]any{"test": "flat"}}),
	chatCase("delete_chat_properties", func(c chatRef, _ *matrixFixture) map[string]any {
		return map[string]any{"id": c.chat, "properties": map[string]any{"source": []string{"type"}}}
	}, map[string]any{"id": "x", "properties": map[string]any{"test": "flat"}}),
	chatCase("update_thread_properties", func(c chatRef, _ *matrixFixture) map[string]any {
		return map[string]any{"chat_id": c.chat, "thread_id": c.thread, "properties": map[string]any{"test": map[string]any{"a": true}}}
	}, map[string]any{"chat_id": "x"}),
	chatCase("delete_thread_properties", func(c chatRef, _ *matrixFixture) map[string]any {
		return map[string]any{"chat_id": c.chat, "thread_id": c.thread, "properties": map[string]any{"seed": []string{"k"}}}
	}, map[string]any{"chat_id": "x"}),
	chatCase("update_event_properties", func(c chatRef, _ *matrixFixture) map[string]any {
		return map[string]any{"chat_id": c.chat, "thread_id": c.thread, "event_id": c.event, "properties": map[string]any{"test": map[string]any{"a": "b"}}}
	}, map[string]any{"chat_id": "x", "thread_id": "y"}),
	chatCase("delete_event_properties", func(c chatRef, _ *matrixFixture) map[string]any {
		return map[string]any{"chat_id": c.chat, "thread_id": c.thread, "event_id": c.event, "properties": map[string]any{"seed": []string{"k"}}}
	}, map[string]any{"chat_id": "x", "thread_id": "y"}),
	chatCase("tag_thread", func(c chatRef, _ *matrixFixture) map[string]any {
		return map[string]any{"chat_id": c.chat, "thread_id": c.thread, "tag": "sales"}
	}, map[string]any{"chat_id": "x", "thread_id": "y"}),
	chatCase("untag_thread", func(c chatRef, _ *matrixFixture) map[string]any {
		return map[string]any{"chat_id": c.chat, "thread_id": c.thread, "tag": "seed"}
	}, map[string]any{"chat_id": "x", "thread_id": "y"}),
	chatCase("mark_events_as_seen", func(c chatRef, _ *matrixFixture) map[string]any {
		return map[string]any{"chat_id": c.chat, "seen_up_to": "2030-01-01T00:00:00.000000Z"}
	}, map[string]any{"chat_id": "x", "seen_up_to": "yesterday"}),
	{method: "get_customer", ok: func(_ *testing.T, f *matrixFixture) map[string]any { return map[string]any{"id": f.cust.ID} }, bad: map[string]any{"id": 5}},
	{method: "create_customer", ok: func(*testing.T, *matrixFixture) map[string]any { return map[string]any{"name": "New"} }, bad: map[string]any{"email": "not-an-email"}},
	{method: "update_customer", ok: func(_ *testing.T, f *matrixFixture) map[string]any {
		return map[string]any{"id": f.cust.ID, "name": "Renamed"}
	}, bad: map[string]any{"id": "x"}},
	{method: "ban_customer", ok: func(t *testing.T, f *matrixFixture) map[string]any {
		c, _ := f.e.svc.CreateCustomer(t.Context(), livechat.System(), livechat.CustomerInput{})
		return map[string]any{"id": c.ID, "ban": map[string]any{"days": 1}}
	}, bad: map[string]any{"id": "x", "ban": map[string]any{"days": "one"}}},
	{method: "get_license_info", webOnly: true, ok: func(*testing.T, *matrixFixture) map[string]any { return map[string]any{} }, bad: map[string]any{}},
}

// TestAgentMethodMatrix drives every Agent API method over the Web API and
// RTM: success, validation for a malformed payload, and the access rule.
func TestAgentMethodMatrix(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"web", "rtm"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			e := newRTMEnv(t, rest.RTMTuning{})
			ctx := context.Background()
			for _, n := range []string{"Sales", "Support"} {
				if _, err := e.svc.CreateGroup(ctx, livechat.System(), n, ""); err != nil {
					t.Fatal(err)
				}
			}
			f := &matrixFixture{e: e, transport: transport, rtm: map[string]*rtmClient{}, parent: t}
			f.ann = e.agentBearer(t, "ann@example.com", 2)
			f.bob = e.agentBearer(t, "bob@example.com", 1)
			f.annID = "ann@example.com"
			var err error
			if f.cust, err = e.svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{}); err != nil {
				t.Fatal(err)
			}
			for _, mc := range agentMethodCases {
				if mc.webOnly && transport == "rtm" {
					continue
				}
				t.Run(mc.method, func(t *testing.T) {
					if ok, body, typ := f.call(t, f.ann, mc.method, mc.ok(t, f)); !ok {
						t.Fatalf("success case failed: %s %v", typ, body)
					}
					if mc.method != "get_license_info" && mc.method != "list_chats" {
						if ok, body, typ := f.call(t, f.ann, mc.method, mc.bad); ok || typ != "validation" {
							t.Fatalf("malformed payload: ok=%v type=%q %v", ok, typ, body)
						}
					}
					if mc.denied != nil {
						if ok, body, typ := f.call(t, f.bob, mc.method, mc.denied(t, f)); ok || !slices.Contains([]string{"authorization", "missing_access"}, typ) {
							t.Fatalf("agent without access: ok=%v type=%q %v", ok, typ, body)
						}
					}
				})
			}
		})
	}
}
