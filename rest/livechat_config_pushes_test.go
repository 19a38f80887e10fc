package rest_test

import "testing"

// TestConfigPushes checks the configuration pushes an agent RTM session gets.
func TestConfigPushes(t *testing.T) {
	t.Parallel()
	f := newConfigFixture(t)
	rc := f.e.dialRTM(t, "3.5")
	rc.call("login", map[string]any{"token": f.annAuth})
	old := f.e.dialRTM(t, "3.4")
	old.call("login", map[string]any{"token": f.annAuth})

	f.call(t, f.ownerAuth, "3.5", "create_agent", map[string]any{"id": "new@example.com", "name": "New", "groups": []map[string]any{{"id": 1, "priority": "normal"}}}).ok(t)
	p := payload(rc.push("agent_created"))
	if p["id"] != "new@example.com" || p["login_status"] != "not accepting chats" || len(p["groups"].([]any)) != 1 {
		t.Fatalf("agent_created %v", p)
	}
	old.push("agent_created")
	f.call(t, f.ownerAuth, "3.5", "update_agent", map[string]any{"id": "new@example.com", "job_title": "Boss", "name": "New"}).ok(t)
	if p := payload(rc.push("agent_updated")); len(p) != 2 || p["job_title"] != "Boss" {
		t.Fatalf("agent_updated %v", p)
	}
	f.call(t, f.ownerAuth, "3.5", "suspend_agent", map[string]any{"id": "new@example.com"}).ok(t)
	if p := payload(rc.push("agent_suspended")); p["id"] != "new@example.com" {
		t.Fatalf("agent_suspended %v", p)
	}
	f.call(t, f.ownerAuth, "3.5", "delete_agent", map[string]any{"id": "new@example.com"}).ok(t)
	rc.push("agent_deleted")

	bot := str(t, f.call(t, f.ownerAuth, "3.5", "create_bot", map[string]any{"name": "Bot"}).ok(t), "id")
	if p := payload(rc.push("bot_created")); p["id"] != bot || p["default_group_priority"] != "first" || p["owner_client_id"] != "app" {
		t.Fatalf("bot_created %v", p)
	}

	g := f.call(t, f.ownerAuth, "3.5", "create_group", map[string]any{"name": "Support", "agent_priorities": map[string]string{"ann@example.com": "normal"}}).ok(t)
	if p := payload(rc.push("group_created")); p["id"] != g["id"] || p["agent_priorities"].(map[string]any)["ann@example.com"] != "normal" {
		t.Fatalf("group_created %v", p)
	}
	f.call(t, f.ownerAuth, "3.5", "update_group", map[string]any{"id": g["id"], "name": "Help"}).ok(t)
	if p := payload(rc.push("group_updated")); p["name"] != "Help" || len(p) != 2 {
		t.Fatalf("group_updated %v", p)
	}

	f.call(t, f.ownerAuth, "3.5", "create_tag", map[string]any{"name": "VIP"}).ok(t)
	if p := payload(rc.push("tag_created")); p["name"] != "VIP" || p["author_id"] != "owner@example.com" {
		t.Fatalf("tag_created %v", p)
	}
	old.noPush("tag_created")

	id := str(t, f.call(t, f.ownerAuth, "3.5", "add_auto_access", map[string]any{"access": map[string]any{"groups": []int{1}},
		"conditions": map[string]any{"url": map[string]any{"values": []map[string]any{{"value": "x"}}}}}).ok(t), "id")
	push := rc.push("auto_accesses_updated")
	changes := push["payload"].([]any)
	if len(changes) != 1 || changes[0].(map[string]any)["id"] != id || changes[0].(map[string]any)["status"] != "added" {
		t.Fatalf("auto_accesses_updated %v", push)
	}
	if p := payload(old.push("auto_access_added")); p["id"] != id {
		t.Fatalf("3.4 auto_access_added %v", p)
	}
}
