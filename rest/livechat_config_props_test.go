package rest_test

import (
	"net/http"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/mongostore/storetest"
)

func TestConfigPropertyDefinitions(t *testing.T) {
	t.Parallel()
	f := newConfigFixture(t)

	// The built-in test namespace.
	test := f.call(t, f.annAuth, "3.5", "list_properties", map[string]any{"owner_client_id": "test"}).ok(t)
	if len(test) != 4 || test["int_property"].(map[string]any)["type"] != "int" || test["tokenized_string_property"] == nil {
		t.Fatalf("test namespace %v", test)
	}
	access := test["bool_property"].(map[string]any)["access"].(map[string]any)
	if len(access) != 5 || len(access["chat"].(map[string]any)["customer"].([]any)) != 2 {
		t.Fatalf("test access %v", access)
	}

	reg := func(p map[string]any) response { return f.call(t, f.ownerAuth, "3.5", "register_property", p) }
	chatRW := map[string]any{"chat": map[string]any{"agent": []string{"read", "write"}, "customer": []string{"read"}}}
	reg(map[string]any{"name": "score", "owner_client_id": "app", "type": "int", "access": chatRW, "range": map[string]any{"from": 1, "to": 10}, "description": "Score"}).ok(t)
	reg(map[string]any{"name": "tier", "owner_client_id": "app", "type": "string", "domain": []string{"gold", "silver"},
		"access": map[string]any{"chat": map[string]any{"agent": []string{"read", "write"}, "customer": []string{"read", "write"}}}}).ok(t)
	reg(map[string]any{"name": "enabled", "owner_client_id": "app", "type": "bool", "default_value": true,
		"access": map[string]any{"license": map[string]any{"agent": []string{"read"}}, "group": map[string]any{"agent": []string{"read"}}}}).ok(t)
	wantError(t, reg(map[string]any{"name": "score", "owner_client_id": "app", "type": "int", "access": chatRW}), http.StatusConflict, "already_exists")
	for _, bad := range []map[string]any{
		{"name": "x", "owner_client_id": "test", "type": "int", "access": chatRW},
		{"name": "bad name", "owner_client_id": "app", "type": "int", "access": chatRW},
		{"name": "x", "owner_client_id": "app", "type": "string", "access": chatRW, "range": map[string]any{"from": 1, "to": 2}},
		{"name": "x", "owner_client_id": "app", "type": "int", "access": chatRW, "range": map[string]any{"from": 3, "to": 2}},
		{"name": "x", "owner_client_id": "app", "type": "int", "access": chatRW, "domain": []any{1, "two"}},
		{"name": "x", "owner_client_id": "app", "type": "int", "access": chatRW, "domain": []any{1}, "range": map[string]any{"from": 1, "to": 2}},
		{"name": "x", "owner_client_id": "app", "type": "int", "access": chatRW, "default_value": 1},
		{"name": "x", "owner_client_id": "app", "type": "int", "access": map[string]any{"room": map[string]any{"agent": []string{"read"}}}},
		{"name": "x", "owner_client_id": "app", "type": "int", "access": map[string]any{"chat": map[string]any{"bot": []string{"read"}}}},
		{"name": "x", "owner_client_id": "app", "type": "int", "access": map[string]any{"chat": map[string]any{"agent": []string{"delete"}}}},
		{"name": "x", "owner_client_id": "app", "type": "int", "access": map[string]any{}},
	} {
		wantError(t, reg(bad), http.StatusBadRequest, "validation")
	}
	app := f.call(t, f.annAuth, "3.5", "list_properties", map[string]any{"owner_client_id": "app"}).ok(t)
	score := app["score"].(map[string]any)
	if len(app) != 3 || score["description"] != "Score" || score["range"].(map[string]any)["to"] != float64(10) || app["enabled"].(map[string]any)["default_value"] != true {
		t.Fatalf("list_properties app %v", app)
	}
	if _, public := score["public_access"]; public {
		t.Fatalf("private property shows public_access: %v", score)
	}

	// publish and unregister.
	f.call(t, f.ownerAuth, "3.5", "publish_property", map[string]any{"name": "tier", "owner_client_id": "app", "access_type": []string{"write"}}).ok(t)
	tier := f.call(t, f.annAuth, "3.5", "list_properties", map[string]any{"owner_client_id": "app"}).ok(t)["tier"].(map[string]any)
	if pa := tier["public_access"].([]any); len(pa) != 1 || pa[0] != "write" {
		t.Fatalf("tier after publish %v", tier)
	}
	wantError(t, f.call(t, f.ownerAuth, "3.5", "unregister_property", map[string]any{"name": "tier", "owner_client_id": "app"}), http.StatusBadRequest, "validation")
	wantError(t, f.call(t, f.ownerAuth, "3.5", "unregister_property", map[string]any{"name": "nope", "owner_client_id": "app"}), http.StatusNotFound, "not_found")
	wantError(t, f.call(t, f.ownerAuth, "3.5", "publish_property", map[string]any{"name": "nope", "owner_client_id": "app", "access_type": []string{"read"}}), http.StatusNotFound, "not_found")
	reg(map[string]any{"name": "temp", "owner_client_id": "app", "type": "bool", "access": chatRW}).ok(t)
	f.call(t, f.ownerAuth, "3.5", "unregister_property", map[string]any{"name": "temp", "owner_client_id": "app"}).ok(t)

	// License values: definitions are checked, defaults are listed.
	lic := func(q map[string]any) map[string]any {
		return f.call(t, f.annAuth, "3.5", "list_license_properties", q).ok(t)
	}
	if got := lic(map[string]any{}); got["app"].(map[string]any)["enabled"] != true {
		t.Fatalf("license default %v", got)
	}
	f.call(t, f.ownerAuth, "3.5", "update_license_properties", map[string]any{"properties": map[string]any{"app": map[string]any{"enabled": false}, "free": map[string]any{"a": 1, "b": "x"}}}).ok(t)
	wantError(t, f.call(t, f.ownerAuth, "3.5", "update_license_properties", map[string]any{"properties": map[string]any{"app": map[string]any{"enabled": "no"}}}), http.StatusBadRequest, "validation")
	wantError(t, f.call(t, f.ownerAuth, "3.5", "update_license_properties", map[string]any{"properties": map[string]any{"app": map[string]any{"score": 1}}}), http.StatusBadRequest, "validation")
	wantError(t, f.call(t, f.ownerAuth, "3.5", "update_license_properties", map[string]any{"properties": map[string]any{"app": map[string]any{"unknown": 1}}}), http.StatusBadRequest, "validation")
	got := lic(map[string]any{})
	if got["app"].(map[string]any)["enabled"] != false || got["free"].(map[string]any)["a"] != float64(1) {
		t.Fatalf("license values %v", got)
	}
	if got := lic(map[string]any{"namespace": "free", "name_prefix": "b"}); len(got) != 1 || len(got["free"].(map[string]any)) != 1 {
		t.Fatalf("filtered license values %v", got)
	}
	if r := f.get(t, f.annAuth, "3.4", "list_license_properties", "namespace=app"); r.status != http.StatusOK || len(r.object(t)) != 1 {
		t.Fatalf("GET list_license_properties %d %s", r.status, r.body)
	}
	// lc-sdk-js sends namespace_prefix.
	if got := f.get(t, f.annAuth, "3.4", "list_license_properties", "namespace_prefix=fr").ok(t); len(got) != 1 || got["free"] == nil {
		t.Fatalf("namespace_prefix %v", got)
	}
	f.call(t, f.ownerAuth, "3.5", "delete_license_properties", map[string]any{"properties": map[string]any{"app": []string{"enabled"}, "free": []string{"a", "never-set"}}}).ok(t)
	if got := lic(map[string]any{}); got["app"].(map[string]any)["enabled"] != true || got["free"].(map[string]any)["a"] != nil {
		t.Fatalf("license values after delete %v", got)
	}

	// Group values.
	f.call(t, f.ownerAuth, "3.5", "update_group_properties", map[string]any{"group_id": 1, "properties": map[string]any{"app": map[string]any{"enabled": false}}}).ok(t)
	wantError(t, f.call(t, f.ownerAuth, "3.5", "update_group_properties", map[string]any{"group_id": 9, "properties": map[string]any{"free": map[string]any{"a": 1}}}), http.StatusBadRequest, "group_not_found")
	groups := f.call(t, f.annAuth, "3.5", "list_groups_properties", map[string]any{}).array(t)
	if len(groups) != 2 || groups[0]["properties"].(map[string]any)["app"].(map[string]any)["enabled"] != true ||
		groups[1]["properties"].(map[string]any)["app"].(map[string]any)["enabled"] != false {
		t.Fatalf("list_groups_properties %v", groups)
	}
	if one := f.get(t, f.annAuth, "3.4", "list_group_properties", "id=1").ok(t); one["app"].(map[string]any)["enabled"] != false {
		t.Fatalf("list_group_properties %v", one)
	}
	f.call(t, f.ownerAuth, "3.5", "delete_group_properties", map[string]any{"id": 1, "properties": map[string]any{"app": []string{"enabled"}}}).ok(t)
	if one := f.call(t, f.annAuth, "3.4", "list_group_properties", map[string]any{"id": 1}).ok(t); one["app"].(map[string]any)["enabled"] != true {
		t.Fatalf("group value after delete %v", one)
	}
	wantError(t, f.call(t, f.annAuth, "3.4", "list_group_properties", map[string]any{"id": 9}), http.StatusBadRequest, "group_not_found")
}

// TestChatPropertiesFollowDefinitions writes properties through the Agent
// Chat API and the core (as the Customer API does) and checks them against
// the registered definitions.
func TestChatPropertiesFollowDefinitions(t *testing.T) {
	t.Parallel()
	f := newConfigFixture(t)
	ctx := t.Context()
	sys := livechat.System()
	chatRW := livechat.PropertyAccess{"chat": {"agent": {"read", "write"}, "customer": {"read"}}}
	for _, d := range []livechat.PropertyDefinition{
		{OwnerClientID: "app", Name: "score", Type: livechat.PropertyInt, Access: chatRW, Range: &livechat.PropertyRange{From: 1, To: 10}},
		{OwnerClientID: "app", Name: "tier", Type: livechat.PropertyString, Domain: []any{"gold", "silver"},
			Access: livechat.PropertyAccess{"chat": {"agent": {"read", "write"}, "customer": {"read", "write"}}, "event": {"agent": {"write"}}}},
	} {
		if err := f.e.svc.RegisterProperty(ctx, sys, d); err != nil {
			t.Fatal(err)
		}
	}
	cust, err := f.e.svc.CreateCustomer(ctx, sys, livechat.CustomerInput{})
	if err != nil {
		t.Fatal(err)
	}
	start := func(auth string, props map[string]any) response {
		return f.e.action(t, auth, "3.5", "start_chat", map[string]any{"chat": map[string]any{"properties": props,
			"access": map[string]any{"group_ids": []int{1}}, "users": []map[string]any{{"id": cust.ID, "type": "customer"}}}})
	}
	// The owner's token belongs to client "app", the owner of the namespace;
	// unclaimed namespaces and the test sandbox take free-form values.
	r := start(f.ownerAuth, map[string]any{"app": map[string]any{"score": 5}, "free": map[string]any{"anything": true}, "test": map[string]any{"int_property": 2, "x": "y"}})
	chatID, threadID := str(t, r.ok(t), "chat_id"), str(t, r.ok(t), "thread_id")
	for _, bad := range []map[string]any{
		{"app": map[string]any{"score": 11}},
		{"app": map[string]any{"score": 2.5}},
		{"app": map[string]any{"score": "5"}},
		{"app": map[string]any{"tier": "bronze"}},
		{"app": map[string]any{"unregistered": 1}},
		{"test": map[string]any{"int_property": "x"}},
		{"test": map[string]any{"bool_property": 1}},
	} {
		wantError(t, start(f.ownerAuth, bad), http.StatusBadRequest, "validation")
	}

	// Ann (client app2) joins; the namespace is private to client "app".
	f.e.action(t, f.ownerAuth, "3.5", "add_user_to_chat", map[string]any{"chat_id": chatID, "user_id": "ann@example.com", "user_type": "agent", "visibility": "all"}).ok(t)
	upd := func(auth string, props map[string]any) response {
		return f.e.action(t, auth, "3.5", "update_chat_properties", map[string]any{"id": chatID, "properties": props})
	}
	del := func(auth string, props map[string]any) response {
		return f.e.action(t, auth, "3.5", "delete_chat_properties", map[string]any{"id": chatID, "properties": props})
	}
	wantError(t, upd(f.annAuth, map[string]any{"app": map[string]any{"score": 3}}), http.StatusForbidden, "authorization")
	wantError(t, del(f.annAuth, map[string]any{"app": []string{"score"}}), http.StatusForbidden, "authorization")
	upd(f.annAuth, map[string]any{"free": map[string]any{"k": "v"}, "test": map[string]any{"string_property": "s"}}).ok(t)
	upd(f.ownerAuth, map[string]any{"app": map[string]any{"score": 3}}).ok(t)
	wantError(t, upd(f.ownerAuth, map[string]any{"app": map[string]any{"score": 0}}), http.StatusBadRequest, "validation")
	wantError(t, upd(f.ownerAuth, map[string]any{"app": map[string]any{"nope": 0}}), http.StatusBadRequest, "validation")
	// Locations: score is a chat property only; tier may go on events (agents only).
	wantError(t, f.e.action(t, f.ownerAuth, "3.5", "update_thread_properties", map[string]any{"chat_id": chatID, "thread_id": threadID,
		"properties": map[string]any{"app": map[string]any{"score": 1}}}), http.StatusBadRequest, "validation")
	send := func(auth string, props map[string]any) response {
		return f.e.action(t, auth, "3.5", "send_event", map[string]any{"chat_id": chatID, "event": map[string]any{"type": "message", "text": "hi", "properties": props}})
	}
	send(f.ownerAuth, map[string]any{"app": map[string]any{"tier": "gold"}}).ok(t)
	wantError(t, send(f.ownerAuth, map[string]any{"app": map[string]any{"score": 1}}), http.StatusBadRequest, "validation")
	wantError(t, send(f.annAuth, map[string]any{"app": map[string]any{"tier": "gold"}}), http.StatusForbidden, "authorization")

	// Published for write, other clients may write it.
	if err := f.e.svc.PublishProperty(ctx, sys, "app", "score", []string{"write"}); err != nil {
		t.Fatal(err)
	}
	upd(f.annAuth, map[string]any{"app": map[string]any{"score": 4}}).ok(t)
	del(f.annAuth, map[string]any{"app": []string{"score"}}).ok(t)

	// Customers: read-only access refuses; write access (published) lets them.
	customer := livechat.CustomerActor(cust)
	customer.ClientID = "widget"
	target := livechat.PropertyTarget{ChatID: chatID}
	if err := f.e.svc.UpdateProperties(ctx, customer, target, livechat.Properties{"app": {"score": 2}}); !livechat.IsType(err, livechat.TypeAuthorization) {
		t.Fatalf("customer writes a read-only property: %v", err)
	}
	if err := f.e.svc.UpdateProperties(ctx, customer, target, livechat.Properties{"app": {"tier": "gold"}}); !livechat.IsType(err, livechat.TypeAuthorization) {
		t.Fatalf("customer writes a private property: %v", err)
	}
	if err := f.e.svc.PublishProperty(ctx, sys, "app", "tier", []string{"read", "write"}); err != nil {
		t.Fatal(err)
	}
	if err := f.e.svc.UpdateProperties(ctx, customer, target, livechat.Properties{"app": {"tier": "silver"}}); err != nil {
		t.Fatalf("customer writes a published property: %v", err)
	}
	if err := f.e.svc.UpdateProperties(ctx, customer, target, livechat.Properties{"app": {"tier": "bronze"}}); !livechat.IsType(err, livechat.TypeValidation) {
		t.Fatalf("customer writes outside the domain: %v", err)
	}
	// The system skips access, not types.
	if err := f.e.svc.UpdateProperties(ctx, sys, target, livechat.Properties{"app": {"score": 9}}); err != nil {
		t.Fatal(err)
	}
	if err := f.e.svc.UpdateProperties(ctx, sys, target, livechat.Properties{"app": {"score": 90}}); !livechat.IsType(err, livechat.TypeValidation) {
		t.Fatalf("system writes out of range: %v", err)
	}
	chat := f.e.action(t, f.ownerAuth, "3.5", "get_chat", map[string]any{"chat_id": chatID}).ok(t)
	if p := chat["properties"].(map[string]any)["app"].(map[string]any); p["score"] != float64(9) || p["tier"] != "silver" {
		t.Fatalf("chat properties %v", chat["properties"])
	}
}

// TestStrictProperties runs a core that refuses every unregistered property.
func TestStrictProperties(t *testing.T) {
	t.Parallel()
	store := storetest.Open(t)
	svc, err := livechat.NewService(t.Context(), livechat.Config{Store: store, PasswordCost: bcrypt.MinCost, StrictProperties: true})
	if err != nil {
		t.Fatal(err)
	}
	a, err := svc.CreateAgent(t.Context(), livechat.System(), livechat.AgentInput{Email: "a@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	start := func(p livechat.Properties) error {
		_, err := svc.StartChat(t.Context(), livechat.AgentActor(a), livechat.StartChatInput{Properties: p, Active: true})
		return err
	}
	if err := start(livechat.Properties{"test": {"int_property": 1}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []livechat.Properties{{"free": {"x": 1}}, {"test": {"x": 1}}} {
		if err := start(p); !livechat.IsType(err, livechat.TypeValidation) {
			t.Fatalf("strict start_chat with %v: %v", p, err)
		}
	}
	if err := svc.UpdateLicenseProperties(t.Context(), livechat.System(), livechat.Properties{"free": {"x": 1}}); !livechat.IsType(err, livechat.TypeValidation) {
		t.Fatalf("strict license value: %v", err)
	}
}
