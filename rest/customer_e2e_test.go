package rest_test

import (
	"net/http"
	"testing"
)

// TestCustomerEndToEnd: a customer starts a chat over the Customer RTM API;
// the router gives it to the agent who accepts chats over the Agent RTM API;
// the agent answers over the Agent Web API and the customer receives the
// event. Along the way the customer SDK's ordering rules hold: the response
// comes before the push that carries its request_id, and only the pushes of
// the customer's own changes carry it.
func TestCustomerEndToEnd(t *testing.T) {
	t.Parallel()
	e := newCustomerEnv(t, nil)
	ann := e.agentBearer(t, "ann@example.com")
	ac := e.dialRTM(t, "3.5")
	ac.call("login", map[string]any{"token": ann})
	ac.call("set_routing_status", map[string]any{"status": "accepting_chats"})

	cu := e.newCustomer(t)
	cc, login := e.loginCustomer(t, cu)
	if c := login["customer"].(map[string]any); c["id"] != cu.id || c["statistics"] == nil {
		t.Fatalf("login customer %v", c)
	}
	dyn := login["__priv_dynamic_config"].(map[string]any)
	if online, _ := dyn["online_groups_ids"].([]any); len(online) == 0 || online[0] != float64(0) {
		t.Fatalf("online_groups_ids %v (ann accepts chats in group 0)", dyn)
	}
	if id := dyn["customer_groups"].(map[string]any)["monitoring"].(map[string]any)["id"]; id != float64(0) {
		t.Fatalf("customer_groups.monitoring.id %v", id)
	}

	id := cc.send("start_chat", map[string]any{"chat": map[string]any{"thread": map[string]any{"events": []any{
		map[string]any{"type": "message", "text": "hello, anyone?"}}}}})
	first := cc.next("start_chat answer", func(f map[string]any) bool { return f["request_id"] == id })
	if first["type"] != "response" || first["success"] != true || first["action"] != "start_chat" {
		t.Fatalf("first frame carrying the request id: %v", first)
	}
	chatID := str(t, payload(first), "chat_id")
	in := cc.push("incoming_chat")
	if in["request_id"] != id {
		t.Fatalf("the requester's incoming_chat lacks the request id: %v", in)
	}
	chat := payload(in)["chat"].(map[string]any)
	thread := chat["thread"].(map[string]any)
	if chat["id"] != chatID || len(thread["events"].([]any)) != 1 || len(chat["users"].([]any)) != 1 {
		t.Fatalf("incoming_chat %v", chat)
	}
	if ev := thread["events"].([]any)[0].(map[string]any); ev["recipients"] != "all" || ev["visibility"] != nil {
		t.Fatalf("customer events name their visibility recipients: %v", ev)
	}
	// The router's doings reach the customer without the request id.
	added := cc.push("user_added_to_chat")
	if added["request_id"] != nil || payload(added)["user"].(map[string]any)["id"] != "ann@example.com" || payload(added)["reason"] != "assigned" {
		t.Fatalf("user_added_to_chat %v", added)
	}
	if u := payload(added)["user"].(map[string]any); u["email"] != nil || u["name"] == nil {
		t.Fatalf("agent as a customer sees it: %v", u)
	}
	sys := cc.push("incoming_event")
	if sys["request_id"] != nil || payload(sys)["event"].(map[string]any)["system_message_type"] != "routing.assigned" {
		t.Fatalf("routing system message %v", sys)
	}

	// Ann got the chat and answers over the Web API.
	ac.next("the routed chat", func(f map[string]any) bool {
		return f["action"] == "incoming_chat" && f["payload"].(map[string]any)["chat"].(map[string]any)["id"] == chatID
	})
	r := e.action(t, ann, "3.5", "send_event", map[string]any{"chat_id": chatID, "event": map[string]any{"type": "message", "text": "Hi! How can I help?"}})
	if r.status != http.StatusOK {
		t.Fatalf("agent send_event: %d %s", r.status, r.body)
	}
	got := cc.next("the agent's answer", func(f map[string]any) bool {
		return f["action"] == "incoming_event" && f["payload"].(map[string]any)["event"].(map[string]any)["author_id"] == "ann@example.com"
	})
	if ev := payload(got)["event"].(map[string]any); ev["text"] != "Hi! How can I help?" || payload(got)["chat_id"] != chatID || got["request_id"] != nil {
		t.Fatalf("incoming_event %v", got)
	}

	// The customer answers: its incoming_event carries the request id, after the response.
	id = cc.send("send_event", map[string]any{"chat_id": chatID, "event": map[string]any{"type": "message", "text": "My order is late"}})
	first = cc.next("send_event answer", func(f map[string]any) bool { return f["request_id"] == id })
	if first["type"] != "response" || first["action"] != "send_event" {
		t.Fatalf("send_event: push before the response: %v", first)
	}
	own := cc.next("own incoming_event", func(f map[string]any) bool { return f["request_id"] == id })
	if own["action"] != "incoming_event" || payload(own)["event"].(map[string]any)["id"] != payload(first)["event_id"] {
		t.Fatalf("own incoming_event %v", own)
	}
	ac.next("the customer's message", func(f map[string]any) bool {
		return f["action"] == "incoming_event" && f["payload"].(map[string]any)["event"].(map[string]any)["text"] == "My order is late"
	})

	// The customer closes the chat: chat_deactivated carries the request id, the system message does not.
	id = cc.send("deactivate_chat", map[string]any{"id": chatID})
	if r := cc.response(id); r["success"] != true {
		t.Fatalf("deactivate_chat %v", r)
	}
	for _, p := range cc.pushesUntilPing() {
		switch p["action"] {
		case "chat_deactivated":
			if p["request_id"] != id || payload(p)["user_id"] != cu.id {
				t.Fatalf("chat_deactivated %v", p)
			}
		case "incoming_event":
			if p["request_id"] != nil {
				t.Fatalf("system message with the request id: %v", p)
			}
		}
	}
	ac.push("chat_deactivated")
}
