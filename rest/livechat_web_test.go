package rest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/chatbridge/chatbridge/livechat"
)

// agentToken creates an agent in groups and returns a Bearer header for it.
func (e *env) agentBearer(t *testing.T, email string, groups ...int) string {
	t.Helper()
	in := livechat.AgentInput{Email: email, Password: "secret123"}
	for _, g := range groups {
		in.Groups = append(in.Groups, livechat.GroupMembership{ID: g, Priority: "normal"})
	}
	a, err := e.svc.CreateAgent(t.Context(), livechat.System(), in)
	if err != nil {
		t.Fatal(err)
	}
	toks, err := e.svc.IssueAgentTokens(t.Context(), a, "test")
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + toks.AccessToken
}

func (e *env) action(t *testing.T, auth, version, method string, payload any) response {
	t.Helper()
	b, _ := json.Marshal(payload)
	return e.do(t, request{method: http.MethodPost, path: "/v" + version + "/agent/action/" + method, auth: auth, contentType: "application/json", body: string(b)})
}

func TestAgentWebAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	if _, err := e.svc.CreateGroup(ctx, livechat.System(), "Sales", ""); err != nil {
		t.Fatal(err)
	}
	ann := e.agentBearer(t, "ann@example.com", 1)
	bob := e.agentBearer(t, "bob@example.com") // group 0 only
	cust, err := e.svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{})
	if err != nil {
		t.Fatal(err)
	}

	// start_chat with a customer, in group 1, with a first message.
	r := e.action(t, ann, "3.5", "start_chat", map[string]any{"chat": map[string]any{
		"access": map[string]any{"group_ids": []int{1}},
		"users":  []map[string]any{{"id": cust.ID, "type": "customer"}},
		"thread": map[string]any{"events": []map[string]any{{"type": "message", "text": "hello", "visibility": "all"}}},
	}})
	if r.status != http.StatusOK {
		t.Fatalf("start_chat: %d %s", r.status, r.body)
	}
	started := r.object(t)
	chatID, threadID := str(t, started, "chat_id"), str(t, started, "thread_id")
	if ids, _ := started["event_ids"].([]any); len(ids) != 1 {
		t.Fatalf("event_ids %v", started["event_ids"])
	}

	r = e.action(t, ann, "3.5", "send_event", map[string]any{"chat_id": chatID, "event": map[string]any{"type": "message", "text": "second"}})
	if r.status != http.StatusOK || str(t, r.object(t), "event_id") == "" {
		t.Fatalf("send_event: %d %s", r.status, r.body)
	}

	// get_chat over POST and the 3.3 shape (recipients instead of visibility).
	for _, v := range []string{"3.5", "3.3"} {
		r = e.action(t, ann, v, "get_chat", map[string]any{"chat_id": chatID})
		if r.status != http.StatusOK {
			t.Fatalf("get_chat %s: %d %s", v, r.status, r.body)
		}
		chat := r.object(t)
		thread := chat["thread"].(map[string]any)
		events := thread["events"].([]any)
		if thread["id"] != threadID || len(events) != 2 || thread["active"] != true {
			t.Fatalf("get_chat %s thread %v", v, thread)
		}
		first := events[0].(map[string]any)
		key := map[string]string{"3.5": "visibility", "3.3": "recipients"}[v]
		if first[key] != "all" || first["text"] != "hello" {
			t.Fatalf("get_chat %s event %v", v, first)
		}
		if users := chat["users"].([]any); len(users) != 2 {
			t.Fatalf("users %v", users)
		}
	}

	// list_chats with GET and the payload in the query string (as lc-sdk-js does), then paginated.
	r = e.do(t, request{path: "/v3.4/agent/action/list_chats?limit=1", auth: ann})
	if r.status != http.StatusOK {
		t.Fatalf("GET list_chats: %d %s", r.status, r.body)
	}
	list := r.object(t)
	if sums := list["chats_summary"].([]any); len(sums) != 1 || sums[0].(map[string]any)["id"] != chatID {
		t.Fatalf("list_chats %v", list)
	}
	// Bob (no group 1) does not see it; a write is refused with missing_access.
	r = e.action(t, bob, "3.5", "list_chats", map[string]any{})
	if sums := r.object(t)["chats_summary"].([]any); len(sums) != 0 {
		t.Fatalf("bob lists %v", sums)
	}
	wantError(t, e.action(t, bob, "3.5", "get_chat", map[string]any{"chat_id": chatID}), http.StatusForbidden, "missing_access")
	wantError(t, e.action(t, bob, "3.5", "send_event", map[string]any{"chat_id": chatID, "event": map[string]any{"type": "message", "text": "x"}}), http.StatusForbidden, "missing_access")

	// Validation, unknown things, wrong credentials.
	wantError(t, e.action(t, ann, "3.5", "send_event", map[string]any{"chat_id": chatID}), http.StatusBadRequest, "validation")
	wantError(t, e.action(t, ann, "3.5", "send_event", map[string]any{"chat_id": 5}), http.StatusBadRequest, "validation")
	wantError(t, e.do(t, request{method: http.MethodPost, path: "/v3.5/agent/action/get_chat", auth: ann, body: "[1,2]"}), http.StatusBadRequest, "validation")
	wantError(t, e.action(t, ann, "3.5", "no_such_method", map[string]any{}), http.StatusBadRequest, "validation")
	wantError(t, e.action(t, ann, "9.9", "get_chat", map[string]any{"chat_id": chatID}), http.StatusBadRequest, "unsupported_version")
	wantError(t, e.action(t, "Bearer nope", "3.5", "get_chat", map[string]any{"chat_id": chatID}), http.StatusUnauthorized, "authentication")
	wantError(t, e.action(t, "", "3.5", "get_chat", map[string]any{"chat_id": chatID}), http.StatusUnauthorized, "authentication")
	wantError(t, e.action(t, ann, "3.5", "get_chat", map[string]any{"chat_id": "NOPE"}), http.StatusNotFound, "not_found")
	wantError(t, e.do(t, request{path: "/v3.5/agent/action/send_event", auth: ann}), http.StatusMethodNotAllowed, "not_found")
	ct, err := e.svc.IssueCustomerToken(ctx, livechat.System(), livechat.CustomerTokenRequest{ClientID: "w", OrganizationID: e.svc.Organization().OrganizationID})
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, e.action(t, "Bearer "+ct.AccessToken, "3.5", "list_chats", map[string]any{}), http.StatusUnauthorized, "authentication")

	// Properties, tags, deactivate, resume.
	for _, call := range []struct {
		method  string
		payload map[string]any
	}{
		{"update_chat_properties", map[string]any{"id": chatID, "properties": map[string]any{"test": map[string]any{"string_property": "x"}}}},
		{"update_thread_properties", map[string]any{"chat_id": chatID, "thread_id": threadID, "properties": map[string]any{"test": map[string]any{"int_property": 3}}}},
		{"tag_thread", map[string]any{"chat_id": chatID, "thread_id": threadID, "tag": "sales"}},
		{"delete_chat_properties", map[string]any{"id": chatID, "properties": map[string]any{"test": []string{"string_property"}}}},
		{"deactivate_chat", map[string]any{"id": chatID}},
	} {
		if r := e.action(t, ann, "3.5", call.method, call.payload); r.status != http.StatusOK || string(r.body) != "{}\n" {
			t.Fatalf("%s: %d %s", call.method, r.status, r.body)
		}
	}
	wantError(t, e.action(t, ann, "3.5", "deactivate_chat", map[string]any{"id": chatID}), http.StatusBadRequest, "chat_inactive")
	r = e.action(t, ann, "3.5", "resume_chat", map[string]any{"chat": map[string]any{"id": chatID}})
	if r.status != http.StatusOK || str(t, r.object(t), "thread_id") == threadID {
		t.Fatalf("resume_chat: %d %s", r.status, r.body)
	}
	r = e.action(t, ann, "3.5", "list_threads", map[string]any{"chat_id": chatID})
	if th := r.object(t)["threads"].([]any); len(th) != 2 {
		t.Fatalf("list_threads %s", r.body)
	}
	r = e.action(t, ann, "3.5", "get_customer", map[string]any{"id": cust.ID})
	if got := r.object(t); got["id"] != cust.ID || len(got["chat_ids"].([]any)) != 1 {
		t.Fatalf("get_customer %s", r.body)
	}
	r = e.do(t, request{path: "/v3.5/agent/action/get_license_info", auth: ann})
	if r.status != http.StatusOK {
		t.Fatalf("get_license_info %d %s", r.status, r.body)
	}
}
