package rest_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

func TestCustomerRTMConnection(t *testing.T) {
	t.Parallel()
	e := newCustomerEnv(t, nil)
	cu := e.newCustomer(t)
	org := url.QueryEscape(e.org())

	// A wrong, missing or unknown tenant, or an unsupported version: the
	// socket opens only to say why it closes.
	for _, tc := range []struct{ version, query, reason string }{
		{"3.5", "organization_id=6d2b1c1e-0000-4000-8000-000000000000", "license_not_found"},
		{"3.5", "", "license_not_found"},
		{"3.3", "license_id=1", "license_not_found"},
		{"3.2", "organization_id=" + org, "unsupported_version"},
	} {
		e.dialCustomer(t, tc.version, tc.query).closedWith(tc.reason)
	}

	// Before login: ping answers, anything else is authentication; an agent
	// token cannot log in; there is no logout.
	rc := e.dialCustomer(t, "3.5", "organization_id="+org)
	if r := rc.response(rc.send("ping", nil)); r["success"] != true || r["action"] != "ping" {
		t.Fatalf("ping %v", r)
	}
	if r := rc.response(rc.send("get_customer", map[string]any{})); errType(r) != "authentication" || r["action"] != "get_customer" {
		t.Fatalf("before login %v", r)
	}
	agent := e.agentBearer(t, "ann@example.com")
	if r := rc.response(rc.send("login", map[string]any{"token": agent})); errType(r) != "authentication" {
		t.Fatalf("agent token %v", r)
	}
	if r := rc.response(rc.send("login", map[string]any{"token": 5})); errType(r) != "validation" {
		t.Fatalf("malformed login %v", r)
	}
	// The bare token works too, with a page, a group and profile fields.
	login := rc.call("login", map[string]any{"token": cu.token, "group_id": 0, "referrer": "https://search.example.com/",
		"customer":      map[string]any{"name": "Carol", "session_fields": []any{map[string]any{"plan": "gold"}}},
		"customer_page": map[string]any{"url": "https://shop.example.com/", "title": "Shop"}})
	me := login["customer"].(map[string]any)
	stats := me["statistics"].(map[string]any)
	if me["name"] != "Carol" || stats["visits_count"] != float64(1) || stats["page_views_count"] != float64(1) || me["email_verified"] != false {
		t.Fatalf("login customer %v", me)
	}
	if chats := login["chats"].([]any); len(chats) != 0 || login["has_active_thread"] != false {
		t.Fatalf("login chats %v", login)
	}
	if _, ok := login["__priv_dynamic_config"].(map[string]any)["online_groups_ids"]; ok {
		t.Fatalf("online_groups_ids with nobody online: %v", login)
	}
	if r := rc.response(rc.send("logout", nil)); errType(r) != "validation" {
		t.Fatalf("logout %v", r)
	}
	if r := rc.response(rc.send("login", map[string]any{"token": cu.token})); errType(r) != "validation" {
		t.Fatalf("second login %v", r)
	}

	// A chat to come back to: the next login lists it (active, nothing unread).
	started := rc.call("start_chat", map[string]any{"chat": map[string]any{"thread": map[string]any{"events": []any{map[string]any{"type": "message", "text": "hi"}}}}})
	chatID := str(t, started, "chat_id")
	rc.push("incoming_chat")

	// 3.3 with license_id: the same customer in a second session.
	old := e.dialCustomer(t, "3.3", "license_id="+strconv.FormatInt(e.svc.Organization().LicenseID, 10))
	login = old.call("login", map[string]any{"token": cu.bearer()})
	chats := login["chats"].([]any)
	if len(chats) != 1 || chats[0].(map[string]any)["chat_id"] != chatID || chats[0].(map[string]any)["has_active_thread"] != true ||
		chats[0].(map[string]any)["has_unread_events"] != false || login["has_active_thread"] != true {
		t.Fatalf("3.3 login chats %v", login)
	}
	if v := login["customer"].(map[string]any)["statistics"].(map[string]any)["visits_count"]; v != float64(1) {
		t.Fatalf("a second live session is the same visit: %v", v)
	}
	// An agent writes: both sessions hear it, the 3.3 one in its version's shape.
	if _, err := e.svc.SendEvent(t.Context(), livechat.System(), chatID, livechat.Event{Type: "system_message", Text: "note"}, livechat.SendEventOptions{}); err != nil {
		t.Fatal(err)
	}
	p := old.push("incoming_event")
	if p["version"] != "3.3" || payload(p)["event"].(map[string]any)["recipients"] != "all" {
		t.Fatalf("3.3 incoming_event %v", p)
	}
	rc.push("incoming_event")
	login = e.dialCustomerLogin(t, cu)
	if c := login["chats"].([]any)[0].(map[string]any); c["has_unread_events"] != true {
		t.Fatalf("an unseen event: %v", c)
	}
	rc.call("mark_events_as_seen", map[string]any{"chat_id": chatID, "seen_up_to": "2100-01-01T00:00:00Z"})
	if c := e.dialCustomerLogin(t, cu)["chats"].([]any)[0].(map[string]any); c["has_unread_events"] != false {
		t.Fatalf("after mark_events_as_seen: %v", c)
	}

	// One active chat per customer by default.
	if r := rc.response(rc.send("start_chat", map[string]any{})); errType(r) != "limit_reached" {
		t.Fatalf("second active chat %v", r)
	}
}

// dialCustomerLogin logs cu in on a new socket and returns the login payload.
func (e *env) dialCustomerLogin(t *testing.T, cu customer) map[string]any {
	t.Helper()
	_, login := e.loginCustomer(t, cu)
	return login
}

func TestCustomerBanned(t *testing.T) {
	t.Parallel()
	e := newCustomerEnv(t, nil)
	cu := e.newCustomer(t)
	rc, _ := e.loginCustomer(t, cu)
	other, _ := e.loginCustomer(t, e.newCustomer(t))

	// Banned while connected: told why, then closed; other customers stay.
	if _, err := e.svc.BanCustomer(t.Context(), livechat.System(), cu.id, 1); err != nil {
		t.Fatal(err)
	}
	rc.closedWith("customer_banned")
	other.onlyPushes("another customer", "groups_status_updated")

	// Refused at login and on the Web API.
	again := e.dialCustomer(t, "3.5", "organization_id="+url.QueryEscape(e.org()))
	if r := again.response(again.send("login", map[string]any{"token": cu.bearer()})); errType(r) != "customer_banned" {
		t.Fatalf("banned login %v", r)
	}
	wantError(t, e.customerAction(t, cu.bearer(), "3.5", "start_chat", map[string]any{}), 403, "customer_banned")
}

// TestCustomerAudiences checks who hears what between a customer and the
// agents: sneak peeks and pages reach the chat's agents only, agents-only
// events and typing never reach the customer, and the chat's pushes carry
// the Customer API's shapes.
func TestCustomerAudiences(t *testing.T) {
	t.Parallel()
	e := newCustomerEnv(t, nil)
	ann := e.agentBearer(t, "ann@example.com")
	bob := e.agentBearer(t, "bob@example.com")
	ac := e.dialRTM(t, "3.5")
	ac.call("login", map[string]any{"token": ann})
	ac.call("set_routing_status", map[string]any{"status": "accepting_chats"})
	bc := e.dialRTM(t, "3.5")
	bc.call("login", map[string]any{"token": bob, "customer_monitoring_level": "my"})

	cu := e.newCustomer(t)
	cc, _ := e.loginCustomer(t, cu)
	started := cc.call("start_chat", map[string]any{"chat": map[string]any{"thread": map[string]any{"events": []any{map[string]any{"type": "message", "text": "hi"}}}}})
	chatID := str(t, started, "chat_id")
	cc.push("user_added_to_chat") // routed to Ann
	ac.next("the routed chat", func(f map[string]any) bool { return f["action"] == "incoming_chat" })

	// A sneak peek: Ann (in the chat) sees it; Bob and the customer do not.
	cc.call("send_sneak_peek", map[string]any{"chat_id": chatID, "sneak_peek_text": "where is my ord"})
	sp := payload(ac.push("incoming_sneak_peek"))
	if sp["chat_id"] != chatID || sp["sneak_peek"].(map[string]any)["text"] != "where is my ord" || sp["sneak_peek"].(map[string]any)["author_id"] != cu.id {
		t.Fatalf("incoming_sneak_peek %v", sp)
	}
	// A page: Ann (chatting with the customer) sees it; Bob (level "my") does not.
	cc.call("update_customer_page", map[string]any{"url": "https://shop.example.com/orders", "title": "Orders"})
	pg := payload(ac.push("customer_page_updated"))
	if pg["customer_id"] != cu.id || pg["url"] != "https://shop.example.com/orders" || pg["title"] != "Orders" || pg["visit_id"] != float64(1) {
		t.Fatalf("customer_page_updated %v", pg)
	}
	for _, p := range bc.pushesUntilPing() { // Bob may see the chat (group 0), not its customer's typing or pages
		if p["action"] == "incoming_sneak_peek" || p["action"] == "customer_page_updated" {
			t.Fatalf("bob heard %v", p)
		}
	}

	// Ann whispers to agents and types for agents only: the customer hears
	// neither; then she types and writes for everyone.
	ac.call("send_event", map[string]any{"chat_id": chatID, "event": map[string]any{"type": "message", "text": "psst", "visibility": "agents"}})
	ac.call("send_typing_indicator", map[string]any{"chat_id": chatID, "visibility": "agents", "is_typing": true})
	ac.call("send_typing_indicator", map[string]any{"chat_id": chatID, "is_typing": true})
	ti := payload(cc.push("incoming_typing_indicator"))["typing_indicator"].(map[string]any)
	if ti["author_id"] != "ann@example.com" || ti["recipients"] != "all" || ti["is_typing"] != true {
		t.Fatalf("incoming_typing_indicator %v", ti)
	}
	ac.call("send_event", map[string]any{"chat_id": chatID, "event": map[string]any{"type": "message", "text": "hello"}})
	for _, p := range cc.pushesUntilPing() {
		if p["action"] == "incoming_event" && payload(p)["event"].(map[string]any)["text"] == "psst" {
			t.Fatalf("an agents-only event reached the customer: %v", p)
		}
	}
	chat := cc.call("get_chat", map[string]any{"chat_id": chatID})
	for _, ev := range chat["thread"].(map[string]any)["events"].([]any) {
		if ev.(map[string]any)["text"] == "psst" {
			t.Fatalf("get_chat shows an agents-only event: %v", ev)
		}
	}
	threads := cc.call("list_threads", map[string]any{"chat_id": chatID})["threads"].([]any)
	if n := len(threads[0].(map[string]any)["events"].([]any)); n != 3 { // hi, the routing message, hello
		t.Fatalf("list_threads events %v", threads)
	}

	// The customer's profile: it and Ann hear the changed fields only.
	cc.call("update_customer", map[string]any{"name": "Dora"})
	cp := payload(cc.push("customer_updated"))
	if cp["id"] != cu.id || cp["name"] != "Dora" || len(cp) != 2 {
		t.Fatalf("customer_updated %v", cp)
	}
	if ap := payload(ac.push("customer_updated")); ap["name"] != "Dora" {
		t.Fatalf("agent customer_updated %v", ap)
	}

	// A transfer and the chat's properties reach the customer.
	carl := e.agentBearer(t, "carl@example.com")
	cl := e.dialRTM(t, "3.5")
	cl.call("login", map[string]any{"token": carl})
	ac.call("transfer_chat", map[string]any{"id": chatID, "target": map[string]any{"type": "agent", "ids": []string{"carl@example.com"}}})
	seen := map[string]map[string]any{}
	for _, p := range cc.pushesUntilPing() {
		seen[p["action"].(string)] = payload(p)
	}
	tr := seen["chat_transferred"]
	if tr == nil || tr["reason"] != "manual" || tr["requester_id"] != "ann@example.com" || tr["transferred_to"].(map[string]any)["agent_ids"].([]any)[0] != "carl@example.com" {
		t.Fatalf("chat_transferred %v", seen)
	}
	if p := seen["user_removed_from_chat"]; p == nil || p["user_id"] != "ann@example.com" {
		t.Fatalf("user_removed_from_chat %v", seen)
	}
	if p := seen["user_added_to_chat"]; p == nil || p["user"].(map[string]any)["id"] != "carl@example.com" {
		t.Fatalf("user_added_to_chat %v", seen)
	}
	// A rich message and the customer's postback: the button's users change
	// (event_updated, the customer's own change) and the chat hears the postback.
	rich := cl.call("send_event", map[string]any{"chat_id": chatID, "event": map[string]any{"type": "rich_message", "template_id": "quick_replies",
		"elements": []any{map[string]any{"title": "Sorted?", "buttons": []any{map[string]any{"text": "Yes", "type": "message", "value": "yes", "postback_id": "yes", "user_ids": []any{}}}}}}})
	richID := str(t, rich, "event_id")
	threadID := str(t, chat["thread"].(map[string]any), "id")
	id := cc.send("send_rich_message_postback", map[string]any{"chat_id": chatID, "thread_id": threadID, "event_id": richID, "postback": map[string]any{"id": "yes", "toggled": true}})
	if r := cc.response(id); r["success"] != true {
		t.Fatalf("send_rich_message_postback %v", r)
	}
	if p := payload(cl.push("incoming_rich_message_postback")); p["user_id"] != cu.id || p["event_id"] != richID {
		t.Fatalf("incoming_rich_message_postback %v", p)
	}
	up := cc.push("event_updated")
	button := payload(up)["event"].(map[string]any)["elements"].([]any)[0].(map[string]any)["buttons"].([]any)[0].(map[string]any)
	if up["request_id"] != id || button["user_ids"].([]any)[0] != cu.id {
		t.Fatalf("event_updated %v", up)
	}
	cl.call("update_chat_properties", map[string]any{"id": chatID, "properties": map[string]any{"test": map[string]any{"int_property": 1}}})
	if p := payload(cc.push("chat_properties_updated")); p["chat_id"] != chatID {
		t.Fatalf("chat_properties_updated %v", p)
	}
	// A multicast to the customer.
	ac.call("multicast", map[string]any{"recipients": map[string]any{"customers": map[string]any{"ids": []string{cu.id}}}, "content": map[string]any{"hello": 1}})
	if p := payload(cc.push("incoming_multicast")); p["author_id"] != "ann@example.com" {
		t.Fatalf("incoming_multicast %v", p)
	}
}

// TestCustomerGroupStatus: customers hear their group's availability as it
// changes (3.5 groups_status_updated; before, the lc2 multicast).
func TestCustomerGroupStatus(t *testing.T) {
	t.Parallel()
	e := newCustomerEnv(t, func(c *livechat.Config) { c.AgentOfflineGrace = -1 }) // offline as soon as the socket closes
	ann := e.agentBearer(t, "ann@example.com")
	c35, _ := e.loginCustomer(t, e.newCustomer(t))
	c34 := e.dialCustomer(t, "3.4", "organization_id="+url.QueryEscape(e.org()))
	c34.call("login", map[string]any{"token": e.newCustomer(t).bearer()})

	ac := e.dialRTM(t, "3.5")
	ac.call("login", map[string]any{"token": ann})
	ac.call("set_routing_status", map[string]any{"status": "accepting_chats"})
	want := func(rc *rtmClient, status string) {
		t.Helper()
		if rc == c35 {
			p := rc.next("groups_status_updated "+status, func(f map[string]any) bool { return f["action"] == "groups_status_updated" })
			g := payload(p)["groups"].([]any)[0].(map[string]any)
			if g["id"] != float64(0) || g["status"] != status {
				t.Fatalf("groups_status_updated %v, want %s", p, status)
			}
			return
		}
		p := rc.next("lc2 multicast "+status, func(f map[string]any) bool { return f["action"] == "incoming_multicast" })
		content := payload(p)["content"].(map[string]any)
		if payload(p)["type"] != "lc2" || content["name"] != "groups_update" || content["groups"].([]any)[0].(map[string]any)["status"] != status {
			t.Fatalf("incoming_multicast %v, want %s", p, status)
		}
	}
	want(c35, "online")
	want(c34, "online")
	st := c35.call("list_group_statuses", map[string]any{"all": true})["groups_status"].(map[string]any)
	if st["0"] != "online" {
		t.Fatalf("list_group_statuses %v", st)
	}
	ac.call("set_routing_status", map[string]any{"status": "not_accepting_chats"})
	want(c35, "offline")
	want(c34, "offline")
	cu := e.newCustomer(t)
	wantError(t, e.customerAction(t, cu.bearer(), "3.5", "get_predicted_agent", map[string]any{}), 400, "group_unavailable")
	ac.c.Close()
	deadline := time.Now().Add(10 * time.Second) // the session ends on its own goroutine
	for {
		r := e.customerAction(t, cu.bearer(), "3.5", "get_predicted_agent", map[string]any{})
		if r.status == 400 && strings.Contains(string(r.body), "group_offline") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("get_predicted_agent with nobody online: %d %s", r.status, r.body)
		}
		time.Sleep(10 * time.Millisecond) // poll interval, not a wait for an event
	}
}

// TestCustomerQueue: a chat nobody can take waits, and its customer hears its
// place; an agent who starts accepting gets it.
func TestCustomerQueue(t *testing.T) {
	t.Parallel()
	e := newCustomerEnv(t, nil)
	cu := e.newCustomer(t)
	cc, _ := e.loginCustomer(t, cu)
	started := cc.call("start_chat", map[string]any{})
	chatID := str(t, started, "chat_id")
	q := payload(cc.push("queue_position_updated"))
	if q["chat_id"] != chatID || q["queue"].(map[string]any)["position"] != float64(1) {
		t.Fatalf("queue_position_updated %v", q)
	}
	ann := e.agentBearer(t, "ann@example.com")
	ac := e.dialRTM(t, "3.5")
	ac.call("login", map[string]any{"token": ann})
	ac.call("set_routing_status", map[string]any{"status": "accepting_chats"})
	if p := payload(cc.push("user_added_to_chat")); p["user"].(map[string]any)["id"] != "ann@example.com" {
		t.Fatalf("user_added_to_chat %v", p)
	}
	// Deactivated by the agent, resumed by the customer with its own request id.
	ac.call("deactivate_chat", map[string]any{"id": chatID})
	if p := cc.push("chat_deactivated"); payload(p)["user_id"] != "ann@example.com" || p["request_id"] != nil {
		t.Fatalf("chat_deactivated %v", p)
	}
	id := cc.send("resume_chat", map[string]any{"chat": map[string]any{"id": chatID, "properties": map[string]any{"test": map[string]any{"string_property": "again"}}}})
	if r := cc.response(id); r["success"] != true {
		t.Fatalf("resume_chat %v", r)
	}
	in := cc.next("incoming_chat of the resume", func(f map[string]any) bool { return f["action"] == "incoming_chat" })
	chat := payload(in)["chat"].(map[string]any)
	if in["request_id"] != id || chat["properties"].(map[string]any)["test"].(map[string]any)["string_property"] != "again" {
		t.Fatalf("incoming_chat %v", in)
	}
}
