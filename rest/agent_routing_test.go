package rest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/rest"
)

// array decodes a Web API body that is a bare JSON array of objects.
func (r response) array(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("body is not a JSON array: %v\n%s", err, r.body)
	}
	return out
}

// ok fails unless the Web API answered 200 and returns the object body.
func (r response) ok(t *testing.T) map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if len(r.body) > 0 && r.body[0] == '[' {
		return nil
	}
	return r.object(t)
}

// noPush sends a ping and fails if a push named action arrives before its answer.
func (rc *rtmClient) noPush(action string) {
	rc.t.Helper()
	id := rc.send("ping", nil)
	rc.next("ping answer", func(f map[string]any) bool {
		if f["type"] == "push" && f["action"] == action {
			rc.t.Fatalf("unexpected %s push: %v", action, f)
		}
		return f["type"] == "response" && f["request_id"] == id
	})
}

func payload(f map[string]any) map[string]any { return f["payload"].(map[string]any) }

// customerStart makes a new customer start a chat in a group (as the Customer API will).
func customerStart(t *testing.T, e *env, group int) string {
	t.Helper()
	ctx := t.Context()
	cu, err := e.svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.svc.StartChat(ctx, livechat.CustomerActor(cu), livechat.StartChatInput{Active: true, Access: &livechat.Access{GroupIDs: []int{group}},
		Thread: livechat.ThreadInput{Events: []livechat.Event{{Type: "message", Text: "hello, anyone?"}}}})
	if err != nil {
		t.Fatal(err)
	}
	return v.Chat.ID
}

func statusesOf(t *testing.T, r response) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, s := range r.array(t) {
		out[s["agent_id"].(string)] = s["status"].(string)
	}
	return out
}

func TestRoutingOverRTMAndWeb(t *testing.T) {
	t.Parallel()
	e := newRTMEnv(t, rest.RTMTuning{})
	ctx := context.Background()
	for _, n := range []string{"Sales", "Support"} {
		if _, err := e.svc.CreateGroup(ctx, livechat.System(), n, ""); err != nil {
			t.Fatal(err)
		}
	}
	ann := e.agentBearer(t, "ann@example.com", 1)
	bob := e.agentBearer(t, "bob@example.com", 1)
	e.agentBearer(t, "carl@example.com", 1) // never logs in
	ac := e.dialRTM(t, "3.5")
	ac.call("login", map[string]any{"token": ann})
	bc := e.dialRTM(t, "3.5")
	bc.call("login", map[string]any{"token": bob})

	// Ann accepts chats (over RTM); Bob hears it.
	ac.call("set_routing_status", map[string]any{"status": "accepting_chats"})
	if p := payload(bc.next("ann's routing_status_set", func(f map[string]any) bool {
		return f["action"] == "routing_status_set" && f["payload"].(map[string]any)["status"] == "accepting_chats"
	})); p["agent_id"] != "ann@example.com" {
		t.Fatalf("routing_status_set %v", p)
	}
	st := statusesOf(t, e.action(t, bob, "3.5", "list_routing_statuses", map[string]any{"filters": map[string]any{"group_ids": []int{1}}}))
	want := map[string]string{"ann@example.com": "accepting_chats", "bob@example.com": "not_accepting_chats", "carl@example.com": "offline"}
	for id, s := range want {
		if st[id] != s {
			t.Fatalf("statuses %v, want %v", st, want)
		}
	}
	wantError(t, e.action(t, bob, "3.5", "set_routing_status", map[string]any{"status": "offline"}), http.StatusBadRequest, "validation")

	// A customer's chat is routed to Ann: she gets it as incoming_chat with herself among the users.
	chatID := customerStart(t, e, 1)
	in := payload(ac.next("incoming_chat of the routed chat", func(f map[string]any) bool {
		return f["action"] == "incoming_chat" && f["payload"].(map[string]any)["chat"].(map[string]any)["id"] == chatID &&
			len(f["payload"].(map[string]any)["chat"].(map[string]any)["users"].([]any)) == 2
	}))
	events := in["chat"].(map[string]any)["thread"].(map[string]any)["events"].([]any)
	if sys := events[len(events)-1].(map[string]any); sys["system_message_type"] != "routing.assigned" {
		t.Fatalf("incoming_chat events %v", events)
	}
	if p := payload(ac.push("user_added_to_chat")); p["reason"] != "assigned" || p["user"].(map[string]any)["id"] != "ann@example.com" {
		t.Fatalf("user_added_to_chat %v", p)
	}

	// list_agents_for_transfer: a bare array of online agents with access, not Ann herself.
	r := e.action(t, ann, "3.5", "list_agents_for_transfer", map[string]any{"chat_id": chatID})
	if list := r.array(t); len(list) != 1 || list[0]["agent_id"] != "bob@example.com" || list[0]["total_active_chats"] != float64(0) {
		t.Fatalf("list_agents_for_transfer %s", r.body)
	}

	// Ann transfers it to Bob over the Web API: Bob gets incoming_chat with transferred_from,
	// Ann hears she left and where the chat went.
	e.action(t, ann, "3.5", "transfer_chat", map[string]any{"id": chatID, "target": map[string]any{"type": "agent", "ids": []string{"bob@example.com"}}}).ok(t)
	got := payload(bc.next("transferred incoming_chat", func(f map[string]any) bool {
		return f["action"] == "incoming_chat" && f["payload"].(map[string]any)["transferred_from"] != nil
	}))
	if from := got["transferred_from"].(map[string]any); from["agent_ids"].([]any)[0] != "ann@example.com" || got["requester_id"] != "ann@example.com" {
		t.Fatalf("transferred_from %v", got)
	}
	if p := payload(ac.push("user_removed_from_chat")); p["user_id"] != "ann@example.com" {
		t.Fatalf("user_removed_from_chat %v", p)
	}
	tr := payload(ac.push("chat_transferred"))
	if tr["chat_id"] != chatID || tr["reason"] != "manual" || tr["transferred_to"].(map[string]any)["agent_ids"].([]any)[0] != "bob@example.com" {
		t.Fatalf("chat_transferred %v", tr)
	}
	// Transfers that cannot be done.
	wantError(t, e.action(t, ann, "3.5", "transfer_chat", map[string]any{"id": chatID, "target": map[string]any{"type": "agent", "ids": []string{"bob@example.com"}}}), http.StatusForbidden, "authorization")
	wantError(t, e.action(t, bob, "3.5", "transfer_chat", map[string]any{"id": chatID, "target": map[string]any{"type": "agent", "ids": []string{"carl@example.com"}}}), http.StatusBadRequest, "agent_offline")
	wantError(t, e.action(t, bob, "3.5", "transfer_chat", map[string]any{"id": chatID, "target": map[string]any{"type": "group", "ids": []string{"x"}}}), http.StatusBadRequest, "validation")
	wantError(t, e.action(t, bob, "3.5", "transfer_chat", map[string]any{"id": chatID, "target": map[string]any{"type": "group", "ids": []int{2}}}), http.StatusBadRequest, "agent_offline")

	// Nobody accepting: the next chat waits in the queue, and the agents of its group see its place.
	ac.call("set_routing_status", map[string]any{"status": "not_accepting_chats"})
	queued := customerStart(t, e, 1)
	qp := bc.next("queue_positions_updated", func(f map[string]any) bool { return f["action"] == "queue_positions_updated" })
	entries := qp["payload"].([]any)
	if q := entries[0].(map[string]any); q["chat_id"] != queued || q["queue"].(map[string]any)["position"] != float64(1) {
		t.Fatalf("queue_positions_updated %v", qp)
	}
	chat := e.action(t, bob, "3.5", "get_chat", map[string]any{"chat_id": queued}).ok(t)
	if q, _ := chat["thread"].(map[string]any)["queue"].(map[string]any); q == nil || q["position"] != float64(1) || q["queued_at"] == "" {
		t.Fatalf("queued thread %v", chat["thread"])
	}
	// Bob starts accepting (over the Web API): the queued chat is his.
	e.action(t, bob, "3.5", "set_routing_status", map[string]any{"status": "accepting_chats"}).ok(t)
	bc.next("incoming_chat of the queued chat", func(f map[string]any) bool {
		return f["action"] == "incoming_chat" && f["payload"].(map[string]any)["chat"].(map[string]any)["id"] == queued
	})
	chat = e.action(t, bob, "3.5", "get_chat", map[string]any{"chat_id": queued}).ok(t)
	if _, still := chat["thread"].(map[string]any)["queue"]; still {
		t.Fatalf("assigned thread still queued: %v", chat["thread"])
	}
	// A re-route within the group with ignore_agents_availability queues it again
	// (while Bob accepts chats the router would give it straight back to him).
	e.action(t, bob, "3.5", "set_routing_status", map[string]any{"status": "not_accepting_chats"}).ok(t)
	e.action(t, bob, "3.5", "transfer_chat", map[string]any{"id": queued, "ignore_agents_availability": true}).ok(t)
	tr = payload(bc.push("chat_transferred"))
	if tr["queue"] == nil {
		t.Fatalf("chat_transferred to the queue without its place: %v", tr)
	}
}

func TestAwayStatusAndPushNotificationsOverRTM(t *testing.T) {
	t.Parallel()
	e := newRTMEnv(t, rest.RTMTuning{})
	ann := e.agentBearer(t, "ann@example.com")
	ac := e.dialRTM(t, "3.5")
	ac.call("login", map[string]any{"token": ann})
	ac.call("set_routing_status", map[string]any{"status": "accepting_chats"})
	status := func() string {
		return statusesOf(t, e.action(t, ann, "3.5", "list_routing_statuses", map[string]any{}))["ann@example.com"]
	}
	if s := status(); s != "accepting_chats" {
		t.Fatalf("status %s", s)
	}
	ac.call("set_away_status", map[string]any{"away": true})
	if s := status(); s != "not_accepting_chats" {
		t.Fatalf("away: status %s", s)
	}
	// A second connection that is not away makes the agent available again.
	ac2 := e.dialRTM(t, "3.5")
	ac2.call("login", map[string]any{"token": ann})
	if s := status(); s != "accepting_chats" {
		t.Fatalf("away on one of two connections: status %s", s)
	}
	ac2.call("set_away_status", map[string]any{"away": true})
	if s := status(); s != "not_accepting_chats" {
		t.Fatalf("away on both: status %s", s)
	}
	ac.call("set_away_status", map[string]any{"away": false})
	if s := status(); s != "accepting_chats" {
		t.Fatalf("back: status %s", s)
	}
	if r := ac.response(ac.send("set_away_status", map[string]any{"away": "yes"})); errType(r) != "validation" {
		t.Fatalf("bad away: %v", r)
	}
	if r := ac.response(ac.send("set_away_status", map[string]any{})); errType(r) != "validation" {
		t.Fatalf("missing away: %v", r)
	}
	wantError(t, e.action(t, ann, "3.5", "set_away_status", map[string]any{"away": true}), http.StatusBadRequest, "validation")

	// change_push_notifications: 3.4 has it, 3.5 still accepts it; RTM only.
	for _, v := range []string{"3.4", "3.5"} {
		rc := e.dialRTM(t, v)
		rc.call("login", map[string]any{"token": ann})
		rc.call("change_push_notifications", map[string]any{"firebase_token": "tok", "platform": "android", "enabled": true})
		if r := rc.response(rc.send("change_push_notifications", map[string]any{"firebase_token": "tok", "platform": "windows", "enabled": true})); errType(r) != "validation" {
			t.Fatalf("%s bad platform: %v", v, r)
		}
		if r := rc.response(rc.send("change_push_notifications", map[string]any{"platform": "ios"})); errType(r) != "validation" {
			t.Fatalf("%s missing fields: %v", v, r)
		}
	}
	wantError(t, e.action(t, ann, "3.4", "change_push_notifications", map[string]any{"firebase_token": "tok", "platform": "ios", "enabled": true}), http.StatusBadRequest, "validation")
}

func TestGrantAndRevokeChatAccess33(t *testing.T) {
	t.Parallel()
	e := newRTMEnv(t, rest.RTMTuning{})
	ctx := context.Background()
	for _, n := range []string{"Sales", "Support"} {
		if _, err := e.svc.CreateGroup(ctx, livechat.System(), n, ""); err != nil {
			t.Fatal(err)
		}
	}
	ann := e.agentBearer(t, "ann@example.com", 2)
	bob := e.agentBearer(t, "bob@example.com", 1)
	r := e.action(t, ann, "3.3", "start_chat", map[string]any{"chat": map[string]any{"access": map[string]any{"group_ids": []int{2}}}}).ok(t)
	chatID := r["chat_id"].(string)
	a33 := e.dialRTM(t, "3.3")
	a33.call("login", map[string]any{"token": ann})
	a35 := e.dialRTM(t, "3.5")
	a35.call("login", map[string]any{"token": ann})

	wantError(t, e.action(t, bob, "3.3", "grant_chat_access", map[string]any{"id": chatID, "access": map[string]any{"type": "group", "id": 1}}), http.StatusForbidden, "missing_access")
	wantError(t, e.action(t, ann, "3.3", "grant_chat_access", map[string]any{"id": chatID, "access": map[string]any{"type": "agent", "id": "bob@example.com"}}), http.StatusBadRequest, "validation")
	wantError(t, e.action(t, ann, "3.3", "grant_chat_access", map[string]any{"id": chatID}), http.StatusBadRequest, "validation")
	wantError(t, e.action(t, ann, "3.3", "grant_chat_access", map[string]any{"id": chatID, "access": map[string]any{"type": "group", "id": 9}}), http.StatusBadRequest, "group_not_found")
	wantError(t, e.action(t, ann, "3.5", "grant_chat_access", map[string]any{"id": chatID, "access": map[string]any{"type": "group", "id": 1}}), http.StatusBadRequest, "validation")

	e.action(t, ann, "3.3", "grant_chat_access", map[string]any{"id": chatID, "access": map[string]any{"type": "group", "id": 1}}).ok(t)
	if p := payload(a33.push("chat_access_granted")); p["id"] != chatID || !slices.Equal(p["access"].(map[string]any)["group_ids"].([]any), []any{float64(1)}) {
		t.Fatalf("chat_access_granted %v", p)
	}
	if p := payload(a35.push("chat_access_updated")); len(p["access"].(map[string]any)["group_ids"].([]any)) != 2 {
		t.Fatalf("chat_access_updated %v", p)
	}
	// Bob (group 1) now has access; the group can be taken away again, but not the last one.
	e.action(t, bob, "3.3", "get_chat", map[string]any{"chat_id": chatID}).ok(t)
	e.action(t, ann, "3.3", "revoke_chat_access", map[string]any{"id": chatID, "access": map[string]any{"type": "group", "id": "2"}}).ok(t)
	if p := payload(a33.push("chat_access_revoked")); !slices.Equal(p["access"].(map[string]any)["group_ids"].([]any), []any{float64(2)}) {
		t.Fatalf("chat_access_revoked %v", p)
	}
	wantError(t, e.action(t, ann, "3.3", "revoke_chat_access", map[string]any{"id": chatID, "access": map[string]any{"type": "group", "id": 1}}), http.StatusBadRequest, "validation")
	// Revoking an agent's access takes it out of the chat.
	e.action(t, ann, "3.3", "revoke_chat_access", map[string]any{"id": chatID, "access": map[string]any{"type": "agent", "id": "ann@example.com"}}).ok(t)
	chat := e.action(t, bob, "3.3", "get_chat", map[string]any{"chat_id": chatID}).ok(t)
	if users := chat["users"].([]any); len(users) != 0 {
		t.Fatalf("users after revoking ann %v", users)
	}
}
