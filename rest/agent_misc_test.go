package rest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/rest"
)

// twoAgentChat is a chat of Ann's (group 2) with a customer and Bob in it;
// both agents are logged in over RTM.
type twoAgentChat struct {
	e          *env
	ann, bob   string
	carl       string // group 1: no access to the chat
	ac, bc     *rtmClient
	chat, cust string
	thread     string
}

func newTwoAgentChat(t *testing.T) *twoAgentChat {
	t.Helper()
	e := newRTMEnv(t, rest.RTMTuning{})
	ctx := context.Background()
	for _, n := range []string{"Sales", "Support"} {
		if _, err := e.svc.CreateGroup(ctx, livechat.System(), n, ""); err != nil {
			t.Fatal(err)
		}
	}
	x := &twoAgentChat{e: e, ann: e.agentBearer(t, "ann@example.com", 2), bob: e.agentBearer(t, "bob@example.com", 2), carl: e.agentBearer(t, "carl@example.com", 1)}
	cu, err := e.svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{})
	if err != nil {
		t.Fatal(err)
	}
	x.cust = cu.ID
	r := e.action(t, x.ann, "3.5", "start_chat", map[string]any{"chat": map[string]any{"access": map[string]any{"group_ids": []int{2}},
		"users": []map[string]any{{"id": cu.ID, "type": "customer"}}}}).ok(t)
	x.chat, x.thread = r["chat_id"].(string), r["thread_id"].(string)
	e.action(t, x.ann, "3.5", "add_user_to_chat", map[string]any{"chat_id": x.chat, "user_id": "bob@example.com", "user_type": "agent", "visibility": "all"}).ok(t)
	x.ac = e.dialRTM(t, "3.5")
	x.ac.call("login", map[string]any{"token": x.ann})
	x.bc = e.dialRTM(t, "3.3")
	x.bc.call("login", map[string]any{"token": x.bob})
	return x
}

func TestTypingIndicatorOverWebAndRTM(t *testing.T) {
	t.Parallel()
	x := newTwoAgentChat(t)
	e := x.e
	e.action(t, x.ann, "3.5", "send_typing_indicator", map[string]any{"chat_id": x.chat, "is_typing": true, "visibility": "agents"}).ok(t)
	p := payload(x.bc.push("incoming_typing_indicator"))
	ti := p["typing_indicator"].(map[string]any)
	// Bob's socket speaks 3.3: the audience field is "recipients" there.
	if p["chat_id"] != x.chat || p["thread_id"] != x.thread || ti["author_id"] != "ann@example.com" || ti["is_typing"] != true ||
		ti["recipients"] != "agents" || ti["timestamp"].(float64) < float64(time.Now().Add(-time.Hour).Unix()) {
		t.Fatalf("incoming_typing_indicator %v", p)
	}
	x.ac.noPush("incoming_typing_indicator") // not to the author
	// Over RTM, with the 3.3 name of visibility.
	x.bc.call("send_typing_indicator", map[string]any{"chat_id": x.chat, "is_typing": false, "recipients": "all"})
	if ti := payload(x.ac.push("incoming_typing_indicator"))["typing_indicator"].(map[string]any); ti["visibility"] != "all" || ti["is_typing"] != false {
		t.Fatalf("3.5 typing indicator %v", ti)
	}
	wantError(t, e.action(t, x.ann, "3.5", "send_typing_indicator", map[string]any{"chat_id": x.chat, "is_typing": true, "visibility": "some"}), http.StatusBadRequest, "validation")
	wantError(t, e.action(t, x.carl, "3.5", "send_typing_indicator", map[string]any{"chat_id": x.chat, "is_typing": true}), http.StatusForbidden, "missing_access")
	owner := e.agentBearer(t, "owner@example.com")
	if _, err := e.svc.EnsureOwner(t.Context(), "owner@example.com", "", ""); err != nil {
		t.Fatal(err)
	}
	wantError(t, e.action(t, owner, "3.5", "send_typing_indicator", map[string]any{"chat_id": x.chat, "is_typing": true}), http.StatusForbidden, "authorization")
	e.action(t, x.ann, "3.5", "deactivate_chat", map[string]any{"id": x.chat}).ok(t)
	wantError(t, e.action(t, x.ann, "3.5", "send_typing_indicator", map[string]any{"chat_id": x.chat, "is_typing": true}), http.StatusBadRequest, "chat_inactive")
}

func TestMulticastOverWebAndRTM(t *testing.T) {
	t.Parallel()
	x := newTwoAgentChat(t)
	e := x.e
	cc := e.dialRTM(t, "3.5")
	cc.call("login", map[string]any{"token": x.carl})
	e.action(t, x.ann, "3.5", "multicast", map[string]any{"recipients": map[string]any{"agents": map[string]any{"ids": []string{"bob@example.com"}}},
		"content": map[string]any{"n": 1}, "type": "ping"}).ok(t)
	if p := payload(x.bc.push("incoming_multicast")); p["author_id"] != "ann@example.com" || p["type"] != "ping" || p["content"].(map[string]any)["n"] != float64(1) {
		t.Fatalf("incoming_multicast %v", p)
	}
	cc.noPush("incoming_multicast")
	// To all agents (over RTM): everyone hears it, any JSON content.
	x.ac.call("multicast", map[string]any{"recipients": map[string]any{"agents": map[string]any{"all": true}}, "content": "hello"})
	for _, rc := range []*rtmClient{x.ac, x.bc, cc} {
		if p := payload(rc.push("incoming_multicast")); p["content"] != "hello" {
			t.Fatalf("multicast to all %v", p)
		}
	}
	// To a group: its members only.
	e.action(t, x.carl, "3.5", "multicast", map[string]any{"recipients": map[string]any{"agents": map[string]any{"groups": []int{1}}}, "content": []int{1}}).ok(t)
	cc.push("incoming_multicast")
	x.ac.noPush("incoming_multicast")
	wantError(t, e.action(t, x.carl, "3.5", "multicast", map[string]any{"recipients": map[string]any{"agents": map[string]any{"groups": []int{2}}}, "content": 1}), http.StatusForbidden, "missing_access")
	wantError(t, e.action(t, x.ann, "3.5", "multicast", map[string]any{"recipients": map[string]any{"agents": map[string]any{"all": true}}}), http.StatusBadRequest, "validation")
	wantError(t, e.action(t, x.ann, "3.5", "multicast", map[string]any{"content": 1}), http.StatusBadRequest, "validation")
	wantError(t, e.action(t, x.ann, "3.5", "multicast", map[string]any{"recipients": map[string]any{"agents": map[string]any{"ids": "bob"}}, "content": 1}), http.StatusBadRequest, "validation")
}

func TestRichMessagePostbackOverWebAndRTM(t *testing.T) {
	t.Parallel()
	x := newTwoAgentChat(t)
	e := x.e
	r := e.action(t, x.ann, "3.5", "send_event", map[string]any{"chat_id": x.chat, "event": map[string]any{"type": "rich_message", "template_id": "cards",
		"elements": []any{map[string]any{"title": "Pick", "buttons": []any{
			map[string]any{"text": "A", "type": "message", "value": "a", "postback_id": "pick_a", "user_ids": []any{}},
			map[string]any{"text": "B", "postback_id": "pick_b"},
		}}}}}).ok(t)
	eventID := r["event_id"].(string)
	x.bc.push("incoming_event")
	x.bc.call("send_rich_message_postback", map[string]any{"chat_id": x.chat, "thread_id": x.thread, "event_id": eventID, "postback": map[string]any{"id": "pick_b", "toggled": true}})
	p := payload(x.ac.push("incoming_rich_message_postback"))
	if p["user_id"] != "bob@example.com" || p["event_id"] != eventID || p["postback"].(map[string]any)["id"] != "pick_b" || p["postback"].(map[string]any)["toggled"] != true {
		t.Fatalf("incoming_rich_message_postback %v", p)
	}
	upd := payload(x.ac.push("event_updated"))["event"].(map[string]any)
	buttons := upd["elements"].([]any)[0].(map[string]any)["buttons"].([]any)
	if ids := buttons[1].(map[string]any)["user_ids"].([]any); len(ids) != 1 || ids[0] != "bob@example.com" {
		t.Fatalf("event_updated buttons %v", buttons)
	}
	// Stored: get_chat shows it; toggling off removes Bob.
	chat := e.action(t, x.ann, "3.5", "get_chat", map[string]any{"chat_id": x.chat}).ok(t)
	evs := chat["thread"].(map[string]any)["events"].([]any)
	stored := evs[len(evs)-1].(map[string]any)["elements"].([]any)[0].(map[string]any)["buttons"].([]any)[1].(map[string]any)
	if ids := stored["user_ids"].([]any); len(ids) != 1 {
		t.Fatalf("stored button %v", stored)
	}
	e.action(t, x.bob, "3.5", "send_rich_message_postback", map[string]any{"chat_id": x.chat, "thread_id": x.thread, "event_id": eventID, "postback": map[string]any{"id": "pick_b", "toggled": false}}).ok(t)
	upd = payload(x.ac.next("event_updated (off)", func(f map[string]any) bool { return f["action"] == "event_updated" }))["event"].(map[string]any)
	if ids := upd["elements"].([]any)[0].(map[string]any)["buttons"].([]any)[1].(map[string]any)["user_ids"].([]any); len(ids) != 0 {
		t.Fatalf("toggled off: %v", ids)
	}
	post := func(auth string, body map[string]any) response {
		return e.action(t, auth, "3.5", "send_rich_message_postback", body)
	}
	base := func(id string) map[string]any {
		return map[string]any{"chat_id": x.chat, "thread_id": x.thread, "event_id": eventID, "postback": map[string]any{"id": id, "toggled": true}}
	}
	wantError(t, post(x.ann, base("nope")), http.StatusBadRequest, "validation")
	wantError(t, post(x.carl, base("pick_a")), http.StatusForbidden, "missing_access")
	notRich := base("pick_a")
	notRich["event_id"] = e.action(t, x.ann, "3.5", "send_event", map[string]any{"chat_id": x.chat, "event": map[string]any{"type": "message", "text": "plain"}}).ok(t)["event_id"]
	wantError(t, post(x.ann, notRich), http.StatusBadRequest, "validation")
	missing := base("pick_a")
	missing["event_id"] = "NOPE"
	wantError(t, post(x.ann, missing), http.StatusNotFound, "not_found")
	e.action(t, x.ann, "3.5", "deactivate_chat", map[string]any{"id": x.chat}).ok(t)
	wantError(t, post(x.ann, base("pick_a")), http.StatusBadRequest, "chat_inactive")
}

func TestListArchivesOverWeb(t *testing.T) {
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
	start := func(text string) (string, string) {
		r := e.action(t, ann, "3.5", "start_chat", map[string]any{"chat": map[string]any{"access": map[string]any{"group_ids": []int{2}},
			"thread": map[string]any{"events": []any{map[string]any{"type": "message", "text": text}}}}}).ok(t)
		return r["chat_id"].(string), r["thread_id"].(string)
	}
	c1, t1 := start("Where is my Invoice?")
	e.action(t, ann, "3.5", "tag_thread", map[string]any{"chat_id": c1, "thread_id": t1, "tag": "billing"}).ok(t)
	e.action(t, ann, "3.5", "deactivate_chat", map[string]any{"id": c1}).ok(t)
	t2 := e.action(t, ann, "3.5", "resume_chat", map[string]any{"chat": map[string]any{"id": c1, "thread": map[string]any{"events": []any{map[string]any{"type": "message", "text": "thanks"}}}}}).ok(t)["thread_id"].(string)
	_, t3 := start("shipping question")
	queuedChat := customerStart(t, e, 2) // nobody accepting: no agent

	list := func(auth, v string, body map[string]any) map[string]any {
		t.Helper()
		return e.action(t, auth, v, "list_archives", body).ok(t)
	}
	threadIDs := func(m map[string]any) []string {
		var ids []string
		for _, c := range m["chats"].([]any) {
			ids = append(ids, c.(map[string]any)["thread"].(map[string]any)["id"].(string))
		}
		return ids
	}
	all := list(ann, "3.5", map[string]any{})
	if all["found_chats"] != float64(4) || len(all["chats"].([]any)) != 4 {
		t.Fatalf("all archives: %v", all)
	}
	// One entry per thread, newest first; chat c1 appears twice, with accessible links (3.4+).
	if ids := threadIDs(all); ids[3] != t1 || ids[2] != t2 {
		t.Fatalf("order %v (t1 %s t2 %s t3 %s)", ids, t1, t2, t3)
	}
	first := all["chats"].([]any)[3].(map[string]any)["thread"].(map[string]any)
	if first["next_accessible_thread_id"] != t2 || first["previous_accessible_thread_id"] != nil {
		t.Fatalf("accessible links %v", first)
	}
	// Query with highlights.
	q := list(ann, "3.5", map[string]any{"filters": map[string]any{"query": "invoice"}, "highlights": map[string]any{"pre_tag": "[", "post_tag": "]"}})
	if ids := threadIDs(q); len(ids) != 1 || ids[0] != t1 {
		t.Fatalf("query hits %v", ids)
	}
	hl := q["chats"].([]any)[0].(map[string]any)["thread"].(map[string]any)["highlight"].([]any)[0].(map[string]any)
	if hl["highlight"] != "Where is my [Invoice]?" || hl["field"] != "text" || hl["type"] != "message" {
		t.Fatalf("highlight %v", hl)
	}
	// Tags, agents, event types (3.4+ and 3.3 names), thread_ids.
	if ids := threadIDs(list(ann, "3.5", map[string]any{"filters": map[string]any{"tags": map[string]any{"values": []string{"billing"}}}})); len(ids) != 1 || ids[0] != t1 {
		t.Fatalf("tags filter %v", ids)
	}
	unassigned := list(ann, "3.5", map[string]any{"filters": map[string]any{"agents": map[string]any{"exists": false}}})
	if c := unassigned["chats"].([]any); len(c) != 1 || c[0].(map[string]any)["id"] != queuedChat {
		t.Fatalf("agents.exists false: %v", unassigned)
	}
	if ids := threadIDs(list(ann, "3.5", map[string]any{"filters": map[string]any{"event_types": map[string]any{"values": []string{"system_message"}}}})); len(ids) != 1 || ids[0] != t1 {
		t.Fatalf("event_types filter %v", ids)
	}
	if ids := threadIDs(list(ann, "3.3", map[string]any{"filters": map[string]any{"events": map[string]any{"types": []string{"system_message"}}}})); len(ids) != 1 {
		t.Fatalf("3.3 events.types filter %v", ids)
	}
	if ids := threadIDs(list(ann, "3.5", map[string]any{"filters": map[string]any{"thread_ids": []string{t3}}})); len(ids) != 1 || ids[0] != t3 {
		t.Fatalf("thread_ids filter %v", ids)
	}
	if got := list(ann, "3.5", map[string]any{"filters": map[string]any{"goals": map[string]any{"exists": true}}}); got["found_chats"] != float64(0) {
		t.Fatalf("goals exist nowhere: %v", got)
	}
	// Pagination: filters travel in the page token.
	p1 := list(ann, "3.5", map[string]any{"limit": 1, "sort_order": "asc", "filters": map[string]any{"agents": map[string]any{"values": []string{"ann@example.com"}}}})
	if ids := threadIDs(p1); len(ids) != 1 || ids[0] != t1 || p1["found_chats"] != float64(3) {
		t.Fatalf("first page %v", p1)
	}
	p2 := list(ann, "3.5", map[string]any{"page_id": p1["next_page_id"]})
	if ids := threadIDs(p2); len(ids) != 1 || ids[0] != t2 || p2["previous_page_id"] == nil {
		t.Fatalf("second page %v", p2)
	}
	// Errors; Bob (group 1) sees none of it.
	wantError(t, e.action(t, ann, "3.5", "list_archives", map[string]any{"page_id": p1["next_page_id"], "filters": map[string]any{}}), http.StatusBadRequest, "validation")
	wantError(t, e.action(t, ann, "3.5", "list_archives", map[string]any{"filters": map[string]any{"thread_ids": []string{t3}, "query": "x"}}), http.StatusBadRequest, "validation")
	wantError(t, e.action(t, ann, "3.5", "list_archives", map[string]any{"filters": map[string]any{"tags": map[string]any{"exists": true, "values": []string{"x"}}}}), http.StatusBadRequest, "validation")
	wantError(t, e.action(t, ann, "3.5", "list_archives", map[string]any{"filters": map[string]any{"from": "yesterday"}}), http.StatusBadRequest, "validation")
	wantError(t, e.action(t, ann, "3.5", "list_archives", map[string]any{"limit": 101}), http.StatusBadRequest, "validation")
	if got := list(bob, "3.5", map[string]any{}); got["found_chats"] != float64(0) {
		t.Fatalf("bob sees %v", got)
	}
	// GET with the payload in the query string, as lc-sdk-js calls read-only methods.
	r := e.do(t, request{path: "/v3.5/agent/action/list_archives?limit=2", auth: ann})
	if r.status != http.StatusOK || len(r.object(t)["chats"].([]any)) != 2 {
		t.Fatalf("GET list_archives %d %s", r.status, r.body)
	}
}

func TestListCustomersAndFollowOverWeb(t *testing.T) {
	t.Parallel()
	e := newRTMEnv(t, rest.RTMTuning{})
	ann := e.agentBearer(t, "ann@example.com")
	var ids []string
	for _, n := range []string{"Alice", "Bruno", "Chen"} {
		ids = append(ids, e.action(t, ann, "3.5", "create_customer", map[string]any{"name": n, "email": strings.ToLower(n) + "@example.org"}).ok(t)["customer_id"].(string))
	}
	e.action(t, ann, "3.5", "start_chat", map[string]any{"chat": map[string]any{"users": []map[string]any{{"id": ids[1], "type": "customer"}}}}).ok(t)
	names := func(m map[string]any) []string {
		var out []string
		for _, c := range m["customers"].([]any) {
			out = append(out, c.(map[string]any)["name"].(string))
		}
		return out
	}
	all := e.action(t, ann, "3.5", "list_customers", map[string]any{"sort_order": "asc"}).ok(t)
	if got := names(all); strings.Join(got, ",") != "Alice,Bruno,Chen" || all["total_customers"] != float64(3) || all["limited_customers"] != float64(0) {
		t.Fatalf("list_customers %v", all)
	}
	byThreads := e.action(t, ann, "3.5", "list_customers", map[string]any{"sort_by": "threads_count", "limit": 1}).ok(t)
	if got := names(byThreads); len(got) != 1 || got[0] != "Bruno" || byThreads["next_page_id"] == nil {
		t.Fatalf("by threads_count %v", byThreads)
	}
	next := e.action(t, ann, "3.5", "list_customers", map[string]any{"page_id": byThreads["next_page_id"]}).ok(t)
	if got := names(next); len(got) != 1 || got[0] == "Bruno" {
		t.Fatalf("second page %v", next)
	}
	filtered := e.action(t, ann, "3.5", "list_customers", map[string]any{"filters": map[string]any{
		"email": map[string]any{"values": []string{"CHEN@example.org", "alice@example.org"}}, "chats_count": map[string]any{"lt": 1}}}).ok(t)
	if got := names(filtered); len(got) != 2 || got[0] != "Chen" {
		t.Fatalf("filtered %v", filtered)
	}
	withChats := e.action(t, ann, "3.3", "list_customers", map[string]any{"filters": map[string]any{"include_customers_without_chats": false}}).ok(t)
	if got := names(withChats); len(got) != 1 || got[0] != "Bruno" {
		t.Fatalf("include_customers_without_chats false %v", withChats)
	}
	wantError(t, e.action(t, ann, "3.5", "list_customers", map[string]any{"filters": map[string]any{"created_at": map[string]any{"gt": "monday"}}}), http.StatusBadRequest, "validation")
	wantError(t, e.action(t, ann, "3.5", "list_customers", map[string]any{"page_id": byThreads["next_page_id"], "sort_by": "created_at"}), http.StatusBadRequest, "validation")

	// follow_customer announces the customer to the requester only; unfollow answers customer_unfollowed.
	ac := e.dialRTM(t, "3.5")
	ac.call("login", map[string]any{"token": ann})
	ac.call("follow_customer", map[string]any{"id": ids[0]})
	if p := payload(ac.push("incoming_customer")); p["id"] != ids[0] || p["followed"] != true {
		t.Fatalf("incoming_customer %v", p)
	}
	e.action(t, ann, "3.5", "unfollow_customer", map[string]any{"id": ids[0]}).ok(t)
	if p := payload(ac.push("customer_unfollowed")); p["id"] != ids[0] {
		t.Fatalf("customer_unfollowed %v", p)
	}
	// Following a customer one chats with announces nothing (the chat already shows it).
	ac.call("follow_customer", map[string]any{"id": ids[1]})
	ac.noPush("incoming_customer")
	wantError(t, e.action(t, ann, "3.5", "follow_customer", map[string]any{"id": "00000000-0000-4000-8000-000000000000"}), http.StatusNotFound, "not_found")
	wantError(t, e.action(t, ann, "3.5", "follow_customer", map[string]any{}), http.StatusBadRequest, "validation")
}
