package api_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/api"
	"github.com/chatbridge/chatbridge/livechat/mongostore/storetest"
)

// whFixture is a core with the webhook methods and a few callers.
type whFixture struct {
	svc      *livechat.Service
	table    *api.Table
	owner    livechat.Actor // manager
	app      livechat.Actor // normal agent whose token belongs to client "app1"
	pat      livechat.Actor // normal agent with a personal access token of client "app1"
	plain    livechat.Actor // normal agent, no client id
	bot      livechat.Actor // bot of client "app1"
	customer livechat.Actor
}

func newWHFixture(t *testing.T) *whFixture {
	t.Helper()
	ctx := context.Background()
	svc, err := livechat.NewService(ctx, livechat.Config{Store: storetest.Open(t), PasswordCost: 4,
		Clock: livechat.NewFakeClock(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(in livechat.AgentInput) livechat.Actor {
		a, err := svc.CreateAgent(ctx, livechat.System(), in)
		if err != nil {
			t.Fatal(err)
		}
		return livechat.AgentActor(a)
	}
	f := &whFixture{svc: svc, table: api.NewTable(api.WebhookMethods...)}
	f.owner = mk(livechat.AgentInput{Email: "owner@example.com", Role: livechat.RoleOwner})
	f.app = mk(livechat.AgentInput{Email: "app@example.com"})
	f.app.ClientID, f.app.TokenKind = "app1", livechat.TokenAgentAccess
	f.pat = f.app
	f.pat.TokenKind = livechat.TokenPersonal
	f.plain = mk(livechat.AgentInput{Email: "plain@example.com"})
	f.bot = mk(livechat.AgentInput{Name: "Bot", Bot: true, OwnerClientID: "app1"})
	f.bot.ClientID, f.bot.TokenKind = "app1", livechat.TokenBot
	c, err := svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{})
	if err != nil {
		t.Fatal(err)
	}
	f.customer = livechat.CustomerActor(c)
	return f
}

// call runs a method as actor in version v with a JSON payload.
func (f *whFixture) call(t *testing.T, actor livechat.Actor, v, method string, payload any) (any, error) {
	t.Helper()
	m, err := f.table.Lookup(method, v, true)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	return m.Handler(context.Background(), &api.Call{Svc: f.svc, Actor: actor, Version: v, Payload: raw})
}

// roundTrip renders a response as the wire would, to read it back generically.
func roundTrip[T any](t *testing.T, v any) T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func wantErrType(t *testing.T, err error, typ string) {
	t.Helper()
	if !livechat.IsType(err, typ) {
		t.Fatalf("want %s error, got %v", typ, err)
	}
}

func webhookReq(action string, extra map[string]any) map[string]any {
	m := map[string]any{"action": action, "secret_key": "s3cret", "url": "https://hooks.example.com/lc",
		"owner_client_id": "app1", "type": "license"}
	for k, v := range extra {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}

func TestRegisterWebhookValidation(t *testing.T) {
	t.Parallel()
	f := newWHFixture(t)
	cases := []struct {
		name    string
		version string
		req     map[string]any
	}{
		{"no action", "3.5", webhookReq("", nil)},
		{"no secret", "3.5", webhookReq("incoming_chat", map[string]any{"secret_key": nil})},
		{"no url", "3.5", webhookReq("incoming_chat", map[string]any{"url": nil})},
		{"no owner", "3.5", webhookReq("incoming_chat", map[string]any{"owner_client_id": nil})},
		{"no type", "3.5", webhookReq("incoming_chat", map[string]any{"type": nil})},
		{"unknown action", "3.5", webhookReq("chat_exploded", nil)},
		{"3.3 action in 3.5", "3.5", webhookReq("chat_access_granted", nil)},
		{"3.5 action in 3.4", "3.4", webhookReq("tag_created", nil)},
		{"relative url", "3.5", webhookReq("incoming_chat", map[string]any{"url": "/hooks"})},
		{"ftp url", "3.5", webhookReq("incoming_chat", map[string]any{"url": "ftp://hooks.example.com/x"})},
		{"long url", "3.5", webhookReq("incoming_chat", map[string]any{"url": "https://hooks.example.com/" + strings.Repeat("a", 480)})},
		{"bad type", "3.5", webhookReq("incoming_chat", map[string]any{"type": "global"})},
		{"bad additional data", "3.5", webhookReq("incoming_chat", map[string]any{"additional_data": []string{"chat_summary"}})},
		{"additional data of config action", "3.5", webhookReq("agent_created", map[string]any{"additional_data": []string{"chat_properties"}})},
		{"author_type on chats", "3.5", webhookReq("incoming_chat", map[string]any{"filters": map[string]any{"author_type": "agent"}})},
		{"bad author_type", "3.5", webhookReq("incoming_event", map[string]any{"filters": map[string]any{"author_type": "bot"}})},
		{"unknown filter", "3.5", webhookReq("incoming_event", map[string]any{"filters": map[string]any{"colour": "red"}})},
		{"values and exclude_values", "3.5", webhookReq("incoming_event", map[string]any{"filters": map[string]any{
			"chat_presence": map[string]any{"user_ids": map[string]any{"values": []string{"a"}, "exclude_values": []string{"b"}}}}})},
		{"empty chat_presence", "3.5", webhookReq("incoming_event", map[string]any{"filters": map[string]any{"chat_presence": map[string]any{}}})},
		{"bad source_type", "3.5", webhookReq("incoming_event", map[string]any{"filters": map[string]any{"source_type": []string{"anyone"}}})},
		{"source_type in 3.3", "3.3", webhookReq("incoming_event", map[string]any{"filters": map[string]any{"source_type": []string{"system"}}})},
		{"agent_ids on chats", "3.5", webhookReq("incoming_chat", map[string]any{"filters": map[string]any{"agent_ids": []string{"a"}}})},
		{"wrong filter shape", "3.5", webhookReq("incoming_event", map[string]any{"filters": map[string]any{"only_my_chats": "yes"}})},
		{"wrong payload shape", "3.5", webhookReq("incoming_event", map[string]any{"additional_data": "chat_properties"})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.call(t, f.owner, tc.version, "register_webhook", tc.req)
			wantErrType(t, err, livechat.TypeValidation)
		})
	}
	n, err := f.svc.Store().Webhooks().Count(context.Background(), livechat.Query{})
	if err != nil || n != 0 {
		t.Fatalf("invalid registrations stored: %d, %v", n, err)
	}

	// The filters each action takes are accepted.
	for _, req := range []map[string]any{
		webhookReq("incoming_event", map[string]any{"filters": map[string]any{"author_type": "customer", "only_my_chats": true,
			"chat_presence": map[string]any{"user_ids": map[string]any{"exclude_values": []string{"x"}}, "my_bots": true},
			"source_type":   []string{"my_client", "system"}}, "additional_data": []string{"chat_properties", "chat_presence_user_ids"}}),
		webhookReq("routing_status_set", map[string]any{"filters": map[string]any{"agent_ids": map[string]any{"values": []string{"a"}}}}),
		webhookReq("routing_status_set", map[string]any{"filters": map[string]any{"agent_ids": []string{"a"}}, "type": "bot"}),
		webhookReq("customer_session_fields_updated", map[string]any{"filters": map[string]any{"chat_presence": map[string]any{"my_bots": true}}}),
		webhookReq("tag_created", map[string]any{"description": "tags"}),
	} {
		if _, err := f.call(t, f.owner, "3.5", "register_webhook", req); err != nil {
			t.Fatalf("register %v: %v", req["action"], err)
		}
	}
	if _, err := f.call(t, f.owner, "3.3", "register_webhook", webhookReq("chat_access_granted", nil)); err != nil {
		t.Fatalf("3.3 action in 3.3: %v", err)
	}
}

func TestWebhookAuthorization(t *testing.T) {
	t.Parallel()
	f := newWHFixture(t)
	app2 := webhookReq("incoming_chat", map[string]any{"owner_client_id": "app2"})
	for _, tc := range []struct {
		name  string
		actor livechat.Actor
		req   map[string]any
		ok    bool
	}{
		{"manager, any client", f.owner, app2, true},
		{"agent, own client", f.app, webhookReq("incoming_chat", nil), true},
		{"agent, other client", f.app, app2, false},
		{"agent without client", f.plain, webhookReq("incoming_chat", nil), false},
		{"bot of the client", f.bot, webhookReq("incoming_chat", nil), false},
		{"customer", f.customer, webhookReq("incoming_chat", nil), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.call(t, tc.actor, "3.5", "register_webhook", tc.req)
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok {
				wantErrType(t, err, livechat.TypeAuthorization)
			}
		})
	}
	// Listing, unregistering and the state follow the same rule.
	for _, m := range []struct {
		method string
		req    map[string]any
	}{
		{"list_webhooks", map[string]any{"owner_client_id": "app2"}},
		{"unregister_webhook", map[string]any{"id": "x", "owner_client_id": "app2"}},
		{"enable_license_webhooks", map[string]any{"owner_client_id": "app2"}},
		{"disable_license_webhooks", map[string]any{"owner_client_id": "app2"}},
		{"get_license_webhooks_state", map[string]any{"owner_client_id": "app2"}},
	} {
		_, err := f.call(t, f.app, "3.5", m.method, m.req)
		wantErrType(t, err, livechat.TypeAuthorization)
		_, err = f.call(t, f.customer, "3.5", m.method, m.req)
		wantErrType(t, err, livechat.TypeAuthorization)
	}
	// list_webhook_names needs no authorization at all.
	if _, err := f.call(t, livechat.Actor{}, "3.5", "list_webhook_names", map[string]any{}); err != nil {
		t.Fatalf("list_webhook_names without a caller: %v", err)
	}
}

func TestWebhookLifecycle(t *testing.T) {
	t.Parallel()
	f := newWHFixture(t)
	ctx := context.Background()
	rev := func() string {
		s, err := f.svc.Store().Settings().Get(ctx, api.WebhooksRevisionKey)
		if err != nil {
			return ""
		}
		return s.Value.(string)
	}
	var ids []string
	for i := range api.MaxWebhooksPerAction {
		before := rev()
		out, err := f.call(t, f.app, "3.5", "register_webhook", webhookReq("incoming_event", map[string]any{
			"description": "n" + string(rune('0'+i)), "filters": map[string]any{"author_type": "customer"}, "additional_data": []string{"chat_properties"}}))
		if err != nil {
			t.Fatal(err)
		}
		id := roundTrip[map[string]string](t, out)["id"]
		if id == "" || rev() == before {
			t.Fatalf("register: id %q, revision %q → %q", id, before, rev())
		}
		ids = append(ids, id)
	}
	_, err := f.call(t, f.app, "3.5", "register_webhook", webhookReq("incoming_event", nil))
	wantErrType(t, err, livechat.TypeLimitReached)
	// The limit is per action and per client id.
	if _, err := f.call(t, f.app, "3.5", "register_webhook", webhookReq("incoming_chat", nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.call(t, f.owner, "3.5", "register_webhook", webhookReq("incoming_event", map[string]any{"owner_client_id": "app2"})); err != nil {
		t.Fatal(err)
	}

	out, err := f.call(t, f.app, "3.5", "list_webhooks", map[string]any{"owner_client_id": "app1"})
	if err != nil {
		t.Fatal(err)
	}
	list := roundTrip[[]map[string]any](t, out)
	if len(list) != 4 {
		t.Fatalf("list_webhooks: %d webhooks, want 4: %v", len(list), list)
	}
	first := list[0]
	for k, want := range map[string]any{"id": ids[0], "url": "https://hooks.example.com/lc", "action": "incoming_event", "secret_key": "s3cret",
		"owner_client_id": "app1", "type": "license", "description": "n0"} {
		if first[k] != want {
			t.Errorf("list_webhooks[0].%s = %v, want %v", k, first[k], want)
		}
	}
	if f, _ := first["filters"].(map[string]any); f["author_type"] != "customer" {
		t.Errorf("filters = %v", first["filters"])
	}
	if ad, _ := first["additional_data"].([]any); len(ad) != 1 || ad[0] != "chat_properties" {
		t.Errorf("additional_data = %v", first["additional_data"])
	}

	_, err = f.call(t, f.owner, "3.5", "unregister_webhook", map[string]any{"id": ids[0], "owner_client_id": "app2"})
	wantErrType(t, err, livechat.TypeNotFound)
	_, err = f.call(t, f.app, "3.5", "unregister_webhook", map[string]any{"id": ids[0]})
	wantErrType(t, err, livechat.TypeValidation)
	if _, err := f.call(t, f.app, "3.5", "unregister_webhook", map[string]any{"id": ids[0], "owner_client_id": "app1"}); err != nil {
		t.Fatal(err)
	}
	_, err = f.call(t, f.app, "3.5", "unregister_webhook", map[string]any{"id": ids[0], "owner_client_id": "app1"})
	wantErrType(t, err, livechat.TypeNotFound)
	out, _ = f.call(t, f.app, "3.5", "list_webhooks", map[string]any{"owner_client_id": "app1"})
	if list := roundTrip[[]map[string]any](t, out); len(list) != 3 {
		t.Fatalf("after unregister: %d webhooks", len(list))
	}
	// A slot is free again.
	if _, err := f.call(t, f.app, "3.5", "register_webhook", webhookReq("incoming_event", nil)); err != nil {
		t.Fatal(err)
	}
	_, err = f.call(t, f.app, "3.5", "list_webhooks", map[string]any{})
	wantErrType(t, err, livechat.TypeValidation)
}

func TestLicenseWebhooksState(t *testing.T) {
	t.Parallel()
	f := newWHFixture(t)
	state := func(actor livechat.Actor, req map[string]any) bool {
		t.Helper()
		out, err := f.call(t, actor, "3.5", "get_license_webhooks_state", req)
		if err != nil {
			t.Fatal(err)
		}
		return roundTrip[map[string]bool](t, out)["license_webhooks_enabled"]
	}
	if !state(f.app, map[string]any{}) {
		t.Fatal("license webhooks start disabled")
	}
	// A Bearer token names its own client; a personal access token must name one.
	if _, err := f.call(t, f.app, "3.5", "disable_license_webhooks", map[string]any{}); err != nil {
		t.Fatal(err)
	}
	if state(f.owner, map[string]any{"owner_client_id": "app1"}) {
		t.Fatal("disable_license_webhooks did not disable")
	}
	if !state(f.owner, map[string]any{"owner_client_id": "app2"}) {
		t.Fatal("disabling app1 disabled app2")
	}
	_, err := f.call(t, f.pat, "3.5", "enable_license_webhooks", map[string]any{})
	wantErrType(t, err, livechat.TypeValidation)
	_, err = f.call(t, f.owner, "3.5", "enable_license_webhooks", map[string]any{}) // no client id anywhere
	wantErrType(t, err, livechat.TypeValidation)
	if _, err := f.call(t, f.pat, "3.5", "enable_license_webhooks", map[string]any{"owner_client_id": "app1"}); err != nil {
		t.Fatal(err)
	}
	if !state(f.pat, map[string]any{"owner_client_id": "app1"}) {
		t.Fatal("enable_license_webhooks did not enable")
	}
	enabled, err := api.LicenseWebhooksEnabled(context.Background(), f.svc.Store(), "app1")
	if err != nil || !enabled {
		t.Fatalf("LicenseWebhooksEnabled = %v, %v", enabled, err)
	}
}

func TestListWebhookNames(t *testing.T) {
	t.Parallel()
	f := newWHFixture(t)
	names := func(v string, req map[string]any) map[string]map[string]any {
		t.Helper()
		out, err := f.call(t, f.customer, v, "list_webhook_names", req)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]map[string]any{}
		for _, e := range roundTrip[[]map[string]any](t, out) {
			m[e["action"].(string)] = e
		}
		return m
	}
	has := func(e map[string]any, key, v string) bool {
		list, _ := e[key].([]any)
		return slices.Contains(list, any(v))
	}
	v35 := names("3.5", map[string]any{})
	for _, a := range []string{"incoming_chat", "incoming_event", "chat_access_updated", "routing_status_set", "tag_created", "auto_accesses_updated", "bot_created"} {
		if v35[a] == nil {
			t.Errorf("3.5 lacks %s", a)
		}
	}
	for _, a := range []string{"chat_access_granted", "auto_access_added"} {
		if v35[a] != nil {
			t.Errorf("3.5 lists %s", a)
		}
	}
	if e := v35["incoming_event"]; !has(e, "filters", "author_type") || !has(e, "filters", "source_type") || !has(e, "additional_data", "chat_properties") {
		t.Errorf("incoming_event = %v", e)
	}
	if e := v35["agent_created"]; e["additional_data"] != nil || !has(e, "filters", "source_type") {
		t.Errorf("agent_created = %v", e)
	}
	if !has(v35["routing_status_set"], "filters", "agent_ids") {
		t.Errorf("routing_status_set = %v", v35["routing_status_set"])
	}
	// version in the payload wins over the call's version.
	v33 := names("3.5", map[string]any{"version": "3.3"})
	if v33["chat_access_granted"] == nil || v33["chat_access_updated"] != nil || v33["agent_created"] != nil {
		t.Errorf("3.3 names wrong: %v", v33)
	}
	if has(v33["incoming_event"], "filters", "source_type") || !has(v33["agent_deleted"], "filters", "agent_ids") {
		t.Errorf("3.3 filters wrong: %v %v", v33["incoming_event"], v33["agent_deleted"])
	}
	if v34 := names("3.4", map[string]any{}); v34["auto_access_added"] == nil || v34["tag_created"] != nil {
		t.Errorf("3.4 names wrong")
	}
	_, err := f.call(t, f.customer, "3.5", "list_webhook_names", map[string]any{"version": "2.0"})
	wantErrType(t, err, livechat.TypeValidation)
}
