package rest_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/chatbridge/chatbridge/livechat"
)

// grantStatus tries a password sign-in and returns the HTTP status.
func (e *env) grantStatus(t *testing.T, login, password string) int {
	t.Helper()
	return e.do(t, request{method: http.MethodPost, path: "/v2/token", contentType: "application/x-www-form-urlencoded",
		body: url.Values{"grant_type": {"password"}, "username": {login}, "password": {password}}.Encode()}).status
}

func errorItem(t *testing.T, item any) string {
	t.Helper()
	e, _ := item.(map[string]any)["error"].(map[string]any)
	s, _ := e["type"].(string)
	return s
}

func TestConfigAgentLifecycle(t *testing.T) {
	t.Parallel()
	f := newConfigFixture(t)
	e := f.e

	// create_agent with everything, and chatbridge's password extension.
	r := f.call(t, f.ownerAuth, "3.5", "create_agent", map[string]any{
		"id": "Bob@Example.com", "name": "Bob", "role": "normal", "avatar": "https://cdn.example.com/bob.png",
		"login_status": "accepting chats", "job_title": "Support", "mobile": "+48123", "max_chats_count": 4,
		"groups":        []map[string]any{{"id": 1, "priority": "first"}},
		"notifications": []string{"new_visitor", "incoming_chat"}, "email_subscriptions": []string{"daily_summary"},
		"work_scheduler": map[string]any{"timezone": "Europe/Warsaw", "schedule": []map[string]any{
			{"day": "monday", "enabled": true, "start": "08:00", "end": "16:00"}}},
		"password": testPassword,
	})
	if id := r.ok(t)["id"]; id != "bob@example.com" {
		t.Fatalf("create_agent id %v", id)
	}
	tok := e.passwordGrant(t, "bob@example.com", testPassword)
	bobAuth := "Bearer " + tok["access_token"].(string)

	all := []string{"work_scheduler", "groups", "email_subscriptions", "notifications", "job_title", "mobile", "max_chats_count", "suspended", "awaiting_approval", "last_logout"}
	got := f.call(t, f.annAuth, "3.5", "get_agent", map[string]any{"id": "bob@example.com", "fields": all}).ok(t)
	if got["name"] != "Bob" || got["login_status"] != "accepting chats" || got["job_title"] != "Support" || got["max_chats_count"] != float64(4) ||
		got["suspended"] != false || got["awaiting_approval"] != false || got["account_id"] == "" || got["avatar"] != "https://cdn.example.com/bob.png" {
		t.Fatalf("get_agent %v", got)
	}
	if g := got["groups"].([]any); len(g) != 1 || g[0].(map[string]any)["priority"] != "first" {
		t.Fatalf("groups %v", got["groups"])
	}
	if ws := got["work_scheduler"].(map[string]any); ws["timezone"] != "Europe/Warsaw" || len(ws["schedule"].([]any)) != 1 {
		t.Fatalf("work_scheduler %v", ws)
	}
	if _, ok := got["last_logout"]; ok {
		t.Fatalf("last_logout of an agent who never logged out: %v", got)
	}
	// 3.4 schedules are keyed by day; 3.3 calls the avatar avatar_path.
	old := f.call(t, f.annAuth, "3.4", "get_agent", map[string]any{"id": "bob@example.com", "fields": []string{"work_scheduler"}}).ok(t)
	if day := old["work_scheduler"].(map[string]any)["monday"].(map[string]any); day["start"] != "08:00" {
		t.Fatalf("3.4 work_scheduler %v", old)
	}
	if _, has := old["account_id"]; has {
		t.Fatalf("3.4 has no account_id: %v", old)
	}
	if v33 := f.call(t, f.annAuth, "3.3", "get_agent", map[string]any{"id": "bob@example.com"}).ok(t); v33["avatar_path"] == nil {
		t.Fatalf("3.3 get_agent %v", v33)
	}
	// 3.3/3.4 schedule input.
	f.call(t, f.ownerAuth, "3.4", "update_agent", map[string]any{"id": "bob@example.com", "work_scheduler": map[string]any{"tuesday": map[string]any{"start": "10:00", "end": "12:00"}}}).ok(t)
	got = f.call(t, f.ownerAuth, "3.5", "get_agent", map[string]any{"id": "bob@example.com", "fields": []string{"work_scheduler"}}).ok(t)
	if s := got["work_scheduler"].(map[string]any)["schedule"].([]any); len(s) != 1 || s[0].(map[string]any)["day"] != "tuesday" {
		t.Fatalf("schedule after a 3.4 update %v", got)
	}

	// Validation of create_agent.
	for _, bad := range []map[string]any{
		{"id": "x@example.com"},
		{"id": "not-an-email", "name": "X"},
		{"id": "x@example.com", "name": "X", "role": "king"},
		{"id": "x@example.com", "name": "X", "max_chats_count": 21},
		{"id": "x@example.com", "name": "X", "login_status": "away"},
		{"id": "x@example.com", "name": "X", "groups": []map[string]any{{"id": 1, "priority": "top"}}},
		{"id": "x@example.com", "name": "X", "notifications": []string{"fireworks"}},
		{"id": "x@example.com", "name": "X", "work_scheduler": map[string]any{"schedule": []map[string]any{{"day": "monday", "start": "8", "end": "9"}}}},
		{"id": "x@example.com", "name": "X", "password": "short"},
	} {
		wantError(t, f.call(t, f.ownerAuth, "3.5", "create_agent", bad), http.StatusBadRequest, "validation")
	}
	// 3.3 allowed 100 chats.
	f.call(t, f.ownerAuth, "3.3", "create_agent", map[string]any{"id": "many@example.com", "name": "Many", "max_chats_count": 50}).ok(t)
	wantError(t, f.call(t, f.ownerAuth, "3.5", "create_agent", map[string]any{"id": "bob@example.com", "name": "Again"}), http.StatusConflict, "already_exists")
	wantError(t, f.call(t, f.ownerAuth, "3.5", "create_agent", map[string]any{"id": "g@example.com", "name": "G", "groups": []map[string]any{{"id": 42}}}), http.StatusBadRequest, "group_not_found")

	// Self-service: an agent changes its own personal fields, not its role, groups or others.
	f.call(t, bobAuth, "3.5", "update_agent", map[string]any{"id": "bob@example.com", "name": "Robert", "password": "newpass123"}).ok(t)
	if e.grantStatus(t, "bob@example.com", "newpass123") != http.StatusOK {
		t.Fatal("the new password does not sign in")
	}
	wantError(t, f.call(t, bobAuth, "3.5", "update_agent", map[string]any{"id": "bob@example.com", "role": "administrator"}), http.StatusForbidden, "authorization")
	wantError(t, f.call(t, bobAuth, "3.5", "update_agent", map[string]any{"id": "ann@example.com", "name": "Nope"}), http.StatusForbidden, "authorization")
	wantError(t, f.call(t, f.ownerAuth, "3.5", "update_agent", map[string]any{"id": "bob@example.com", "awaiting_approval": true}), http.StatusBadRequest, "validation")
	wantError(t, f.call(t, f.ownerAuth, "3.5", "update_agent", map[string]any{"id": "nobody@example.com", "name": "X"}), http.StatusNotFound, "not_found")

	// Only owners make owners, and the organization keeps one.
	_, adminAuth := f.agent(t, "admin@example.com", livechat.RoleAdministrator, "app")
	wantError(t, f.call(t, adminAuth, "3.5", "update_agent", map[string]any{"id": "bob@example.com", "role": "owner"}), http.StatusForbidden, "authorization")
	wantError(t, f.call(t, adminAuth, "3.5", "create_agent", map[string]any{"id": "o2@example.com", "name": "O", "role": "owner"}), http.StatusForbidden, "authorization")
	wantError(t, f.call(t, f.ownerAuth, "3.5", "update_agent", map[string]any{"id": "owner@example.com", "role": "normal"}), http.StatusBadRequest, "validation")
	f.call(t, adminAuth, "3.5", "update_agent", map[string]any{"id": "bob@example.com", "groups": []map[string]any{}}).ok(t)

	// list_agents: no bots; filters.
	if _, _, err := e.svc.CreateBot(t.Context(), livechat.AgentActor(f.owner), livechat.AgentInput{Name: "Botty"}); err != nil {
		t.Fatal(err)
	}
	ids := func(r response) []string {
		var out []string
		for _, a := range r.array(t) {
			out = append(out, a["id"].(string))
		}
		return out
	}
	list := ids(f.call(t, f.annAuth, "3.5", "list_agents", map[string]any{}))
	if len(list) != 5 || !slices.Contains(list, "bob@example.com") {
		t.Fatalf("list_agents %v", list)
	}
	if in1 := ids(f.call(t, f.annAuth, "3.5", "list_agents", map[string]any{"filters": map[string]any{"group_ids": []int{1}}})); !slices.Equal(in1, []string{"ann@example.com"}) {
		t.Fatalf("group 1 %v", in1)
	}

	// Suspension: tokens stop working, sign-in fails, the filter finds it; unsuspension restores sign-in.
	f.call(t, f.ownerAuth, "3.5", "suspend_agent", map[string]any{"id": "bob@example.com"}).ok(t)
	wantError(t, f.call(t, bobAuth, "3.5", "list_agents", map[string]any{}), http.StatusUnauthorized, "authentication")
	if e.grantStatus(t, "bob@example.com", "newpass123") == http.StatusOK {
		t.Fatal("a suspended agent signs in")
	}
	if s := ids(f.call(t, f.annAuth, "3.5", "list_agents", map[string]any{"filters": map[string]any{"suspended": true}})); !slices.Equal(s, []string{"bob@example.com"}) {
		t.Fatalf("suspended %v", s)
	}
	wantError(t, f.call(t, f.ownerAuth, "3.5", "suspend_agent", map[string]any{"id": "bob@example.com"}), http.StatusBadRequest, "validation")
	wantError(t, f.call(t, f.ownerAuth, "3.5", "suspend_agent", map[string]any{"id": "owner@example.com"}), http.StatusBadRequest, "validation")
	f.call(t, f.ownerAuth, "3.5", "unsuspend_agent", map[string]any{"id": "bob@example.com"}).ok(t)
	if e.grantStatus(t, "bob@example.com", "newpass123") != http.StatusOK {
		t.Fatal("an unsuspended agent cannot sign in")
	}

	// Approval: an agent awaiting approval cannot sign in until approved.
	f.call(t, f.ownerAuth, "3.5", "create_agent", map[string]any{"id": "new@example.com", "name": "New", "awaiting_approval": true, "password": testPassword}).ok(t)
	if e.grantStatus(t, "new@example.com", testPassword) == http.StatusOK {
		t.Fatal("an agent awaiting approval signs in")
	}
	f.call(t, f.ownerAuth, "3.5", "approve_agent", map[string]any{"id": "new@example.com"}).ok(t)
	if e.grantStatus(t, "new@example.com", testPassword) != http.StatusOK {
		t.Fatal("an approved agent cannot sign in")
	}
	wantError(t, f.call(t, f.ownerAuth, "3.5", "approve_agent", map[string]any{"id": "new@example.com"}), http.StatusBadRequest, "validation")

	// Deletion.
	f.call(t, f.ownerAuth, "3.5", "delete_agent", map[string]any{"id": "new@example.com"}).ok(t)
	wantError(t, f.call(t, f.ownerAuth, "3.5", "get_agent", map[string]any{"id": "new@example.com"}), http.StatusNotFound, "not_found")
	wantError(t, f.call(t, f.ownerAuth, "3.5", "delete_agent", map[string]any{"id": "owner@example.com"}), http.StatusBadRequest, "validation")
	f.call(t, f.annAuth, "3.5", "request_agent_unsuspension", map[string]any{}).ok(t)
}

func TestConfigBots(t *testing.T) {
	t.Parallel()
	f := newConfigFixture(t)
	org := f.e.svc.Organization().OrganizationID
	_, bobAuth := f.agent(t, "bob@example.com", livechat.RoleNormal, "app3")

	// Any agent creates bots; 3.5 answers the secret, 3.4 only the id.
	r := f.call(t, f.annAuth, "3.5", "create_bot", map[string]any{"name": "Ann's bot", "max_chats_count": 200, "job_title": "Helper",
		"groups": []map[string]any{{"id": 1}}, "work_scheduler": map[string]any{"timezone": "UTC", "schedule": []any{}}})
	created := r.ok(t)
	botID, secret := str(t, created, "id"), str(t, created, "secret")
	if len(botID) != 32 {
		t.Fatalf("bot id %q", botID)
	}
	if old := f.call(t, f.ownerAuth, "3.4", "create_bot", map[string]any{"name": "Old", "timezone": "Europe/Berlin"}).ok(t); old["secret"] != nil || old["id"] == nil {
		t.Fatalf("3.4 create_bot %v", old)
	}

	// get_bot, and bots are not agents.
	bot := f.call(t, f.annAuth, "3.5", "get_bot", map[string]any{"id": botID, "fields": []string{"work_scheduler", "job_title", "timezone"}}).ok(t)
	if bot["default_group_priority"] != "first" || bot["owner_client_id"] != "app2" || bot["max_chats_count"] != float64(200) || bot["job_title"] != "Helper" || bot["timezone"] != "UTC" {
		t.Fatalf("get_bot %v", bot)
	}
	if g := bot["groups"].([]any); len(g) != 1 || g[0].(map[string]any)["priority"] != "first" {
		t.Fatalf("bot groups %v", bot["groups"])
	}
	wantError(t, f.call(t, f.annAuth, "3.5", "get_agent", map[string]any{"id": botID}), http.StatusNotFound, "not_found")
	wantError(t, f.call(t, f.annAuth, "3.5", "get_bot", map[string]any{"id": "ann@example.com"}), http.StatusNotFound, "not_found")

	// list_bots: mine (by creator or client id) or all.
	count := func(auth string, all bool) int {
		return len(f.call(t, auth, "3.5", "list_bots", map[string]any{"all": all}).array(t))
	}
	if mine, every := count(f.annAuth, false), count(f.annAuth, true); mine != 1 || every != 2 {
		t.Fatalf("ann's bots %d, all %d", mine, every)
	}
	if mine := count(bobAuth, false); mine != 0 {
		t.Fatalf("bob's bots %d", mine)
	}

	// The bot's own token: no credentials but its secret; it works on the Agent API.
	issue := func(s string, orgID string) response {
		return f.call(t, "", "3.5", "issue_bot_token", map[string]any{"bot_id": botID, "client_id": "app2", "bot_secret": s, "organization_id": orgID})
	}
	token := str(t, issue(secret, org).ok(t), "token")
	if r := f.e.action(t, "Bearer "+token, "3.5", "list_chats", map[string]any{}); r.status != http.StatusOK {
		t.Fatalf("bot token on the Agent API: %d %s", r.status, r.body)
	}
	wantError(t, issue("wrong", org), http.StatusUnauthorized, "authentication")
	wantError(t, issue(secret, "other-org"), http.StatusBadRequest, "validation")

	// Owners of bots and managers change them; other agents cannot.
	wantError(t, f.call(t, bobAuth, "3.5", "update_bot", map[string]any{"id": botID, "name": "Mine now"}), http.StatusForbidden, "authorization")
	wantError(t, f.call(t, bobAuth, "3.5", "reset_bot_secret", map[string]any{"id": botID}), http.StatusForbidden, "authorization")
	f.call(t, f.annAuth, "3.5", "update_bot", map[string]any{"id": botID, "name": "Renamed", "default_group_priority": "last", "groups": []map[string]any{{"id": 0}, {"id": 1, "priority": "normal"}}}).ok(t)
	bot = f.call(t, f.annAuth, "3.5", "get_bot", map[string]any{"id": botID}).ok(t)
	if bot["name"] != "Renamed" || bot["default_group_priority"] != "last" {
		t.Fatalf("after update_bot %v", bot)
	}
	if g := bot["groups"].([]any); len(g) != 2 || g[0].(map[string]any)["priority"] != "last" || g[1].(map[string]any)["priority"] != "normal" {
		t.Fatalf("bot groups after update %v", g)
	}
	wantError(t, f.call(t, f.annAuth, "3.5", "update_bot", map[string]any{"id": botID, "max_chats_count": 501}), http.StatusBadRequest, "validation")

	// A new secret replaces the old one.
	newSecret := str(t, f.call(t, f.ownerAuth, "3.5", "reset_bot_secret", map[string]any{"id": botID}).ok(t), "secret")
	wantError(t, issue(secret, org), http.StatusUnauthorized, "authentication")
	issue(newSecret, org).ok(t)

	// Deletion revokes the bot's tokens.
	f.call(t, f.annAuth, "3.5", "delete_bot", map[string]any{"id": botID}).ok(t)
	wantError(t, f.e.action(t, "Bearer "+token, "3.5", "list_chats", map[string]any{}), http.StatusUnauthorized, "authentication")
	wantError(t, f.call(t, f.annAuth, "3.5", "delete_bot", map[string]any{"id": botID}), http.StatusNotFound, "not_found")

	// Templates: at most five per client id; each is a bot.
	var tmplID string
	for i := range 5 {
		r := f.call(t, f.ownerAuth, "3.5", "create_bot_template", map[string]any{"name": "T", "owner_client_id": "app", "max_chats_count": 10})
		if i == 0 {
			tmplID = str(t, r.ok(t), "id")
			str(t, r.ok(t), "secret")
		}
	}
	wantError(t, f.call(t, f.ownerAuth, "3.5", "create_bot_template", map[string]any{"name": "T6", "owner_client_id": "app"}), http.StatusBadRequest, "limit_reached")
	if n := len(f.call(t, f.ownerAuth, "3.5", "list_bot_templates", map[string]any{"owner_client_id": "app"}).array(t)); n != 5 {
		t.Fatalf("templates %d", n)
	}
	wantError(t, f.call(t, f.ownerAuth, "3.5", "update_bot_template", map[string]any{"id": tmplID, "owner_client_id": "other", "name": "X"}), http.StatusNotFound, "not_found")
	f.call(t, f.ownerAuth, "3.5", "update_bot_template", map[string]any{"id": tmplID, "owner_client_id": "app", "name": "T1"}).ok(t)
	if b := f.call(t, f.ownerAuth, "3.5", "get_bot", map[string]any{"id": tmplID}).ok(t); b["name"] != "T1" {
		t.Fatalf("template bot %v", b)
	}
	f.call(t, f.ownerAuth, "3.5", "delete_bot_template", map[string]any{"id": tmplID, "owner_client_id": "app"}).ok(t)
	f.call(t, f.ownerAuth, "3.5", "create_bot_template", map[string]any{"name": "T6", "owner_client_id": "app"}).ok(t)

	// Batches: one bad request does not fail the others.
	r = f.call(t, f.annAuth, "3.5", "batch_create_bots", batchOf(map[string]any{"name": "B1"}, map[string]any{"max_chats_count": 1}))
	items := r.ok(t)["responses"].([]any)
	if items[0].(map[string]any)["secret"] == nil || errorItem(t, items[1]) != "validation" {
		t.Fatalf("batch_create_bots %s", r.body)
	}
}

func TestConfigGroups(t *testing.T) {
	t.Parallel()
	f := newConfigFixture(t)
	_, _ = f.agent(t, "bob@example.com", livechat.RoleNormal, "app")
	botID, _ := f.newBot(t)

	r := f.call(t, f.ownerAuth, "3.5", "create_group", map[string]any{"name": "Support", "language_code": "pl",
		"agent_priorities": map[string]string{"ANN@example.com": "normal", botID: "first"}})
	id := int(r.ok(t)["id"].(float64))
	if id != 2 {
		t.Fatalf("group id %d", id)
	}
	g := f.call(t, f.annAuth, "3.5", "get_group", map[string]any{"id": id, "fields": []string{"agent_priorities", "routing_status"}}).ok(t)
	prio := g["agent_priorities"].(map[string]any)
	if g["name"] != "Support" || g["language_code"] != "pl" || prio["ann@example.com"] != "normal" || prio[botID] != "first" || len(prio) != 2 {
		t.Fatalf("get_group %v", g)
	}
	if g["routing_status"] != "accepting_chats" { // the bot accepts chats
		t.Fatalf("routing_status %v", g["routing_status"])
	}
	ann := f.call(t, f.annAuth, "3.5", "get_agent", map[string]any{"id": "ann@example.com", "fields": []string{"groups"}}).ok(t)
	if len(ann["groups"].([]any)) != 2 {
		t.Fatalf("ann's groups %v", ann["groups"])
	}
	for _, bad := range []map[string]any{
		{"name": "X"},
		{"name": "X", "agent_priorities": map[string]string{"ann@example.com": "first"}},
		{"name": "X", "agent_priorities": map[string]string{"ann@example.com": "boss"}},
		{"name": string(make([]byte, 181)), "agent_priorities": map[string]string{"ann@example.com": "normal"}},
		{"name": "X", "language_code": "!!", "agent_priorities": map[string]string{"ann@example.com": "normal"}},
	} {
		wantError(t, f.call(t, f.ownerAuth, "3.5", "create_group", bad), http.StatusBadRequest, "validation")
	}
	wantError(t, f.call(t, f.ownerAuth, "3.5", "create_group", map[string]any{"name": "X", "agent_priorities": map[string]string{"ghost@example.com": "normal"}}), http.StatusNotFound, "not_found")

	// update_group replaces the members.
	f.call(t, f.ownerAuth, "3.5", "update_group", map[string]any{"id": id, "name": "Help", "agent_priorities": map[string]string{"bob@example.com": "normal", "ann@example.com": "supervisor"}}).ok(t)
	list := f.call(t, f.annAuth, "3.5", "list_groups", map[string]any{"fields": []string{"agent_priorities"}}).array(t)
	if len(list) != 3 || list[2]["name"] != "Help" {
		t.Fatalf("list_groups %v", list)
	}
	if p := list[2]["agent_priorities"].(map[string]any); len(p) != 2 || p["ann@example.com"] != "supervisor" || p[botID] != nil {
		t.Fatalf("members after update %v", p)
	}
	wantError(t, f.call(t, f.ownerAuth, "3.5", "update_group", map[string]any{"id": 77, "name": "X"}), http.StatusBadRequest, "group_not_found")
	wantError(t, f.call(t, f.ownerAuth, "3.5", "get_group", map[string]any{"id": 77}), http.StatusBadRequest, "group_not_found")

	// delete_group: members leave, its properties and tag links go; group 0 stays.
	if err := f.e.svc.UpdateGroupProperties(t.Context(), livechat.System(), id, livechat.Properties{"free": {"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.e.svc.CreateTag(t.Context(), livechat.System(), "help", []int{id}); err != nil {
		t.Fatal(err)
	}
	f.call(t, f.ownerAuth, "3.5", "delete_group", map[string]any{"id": id}).ok(t)
	wantError(t, f.call(t, f.ownerAuth, "3.5", "delete_group", map[string]any{"id": id}), http.StatusBadRequest, "group_not_found")
	wantError(t, f.call(t, f.ownerAuth, "3.5", "delete_group", map[string]any{"id": 0}), http.StatusBadRequest, "validation")
	ann = f.call(t, f.annAuth, "3.5", "get_agent", map[string]any{"id": "ann@example.com", "fields": []string{"groups"}}).ok(t)
	if len(ann["groups"].([]any)) != 1 {
		t.Fatalf("ann's groups after delete %v", ann["groups"])
	}
	tags := f.call(t, f.annAuth, "3.5", "list_tags", map[string]any{}).array(t)
	if len(tags) != 1 || len(tags[0]["group_ids"].([]any)) != 1 || tags[0]["group_ids"].([]any)[0] != float64(0) {
		t.Fatalf("tags after delete %v", tags)
	}
	// Group ids are not reused.
	g3 := f.call(t, f.ownerAuth, "3.5", "create_group", map[string]any{"name": "Third", "agent_priorities": map[string]string{"ann@example.com": "normal"}}).ok(t)
	if g3["id"] != float64(3) {
		t.Fatalf("next group id %v", g3)
	}
}
