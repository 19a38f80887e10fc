package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/api"
)

// configFixture is a server with an owner (token of client "app"), a normal
// agent in group 1 (token of client "app2") and helpers for the
// Configuration API.
type configFixture struct {
	e         *env
	owner     *livechat.Agent
	ownerAuth string
	ann       *livechat.Agent // normal agent in group 1
	annAuth   string
	seq       atomic.Int64
}

func newConfigFixture(t *testing.T) *configFixture {
	t.Helper()
	e := newEnv(t, nil)
	f := &configFixture{e: e}
	ctx := t.Context()
	if _, err := e.svc.CreateGroup(ctx, livechat.System(), "Sales", ""); err != nil {
		t.Fatal(err)
	}
	f.owner, f.ownerAuth = f.agent(t, "owner@example.com", livechat.RoleOwner, "app")
	f.ann, f.annAuth = f.agent(t, "ann@example.com", livechat.RoleNormal, "app2", 1)
	return f
}

// agent creates an agent with a role and returns it with a Bearer header
// whose token belongs to clientID.
func (f *configFixture) agent(t *testing.T, email, role, clientID string, groups ...int) (*livechat.Agent, string) {
	t.Helper()
	in := livechat.AgentInput{Email: email, Role: role, Password: testPassword}
	for _, g := range groups {
		in.Groups = append(in.Groups, livechat.GroupMembership{ID: g, Priority: "normal"})
	}
	a, err := f.e.svc.CreateAgent(t.Context(), livechat.System(), in)
	if err != nil {
		t.Fatal(err)
	}
	toks, err := f.e.svc.IssueAgentTokens(t.Context(), a, clientID)
	if err != nil {
		t.Fatal(err)
	}
	return a, "Bearer " + toks.AccessToken
}

// name returns a fresh name with prefix.
func (f *configFixture) name(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, f.seq.Add(1))
}

// email returns a fresh e-mail address.
func (f *configFixture) email() string { return f.name("agent") + "@example.com" }

// call posts a Configuration API request.
func (f *configFixture) call(t *testing.T, auth, version, method string, payload any) response {
	t.Helper()
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	return f.e.do(t, request{method: http.MethodPost, path: "/v" + version + "/configuration/action/" + method, auth: auth, contentType: "application/json", body: string(b)})
}

// get calls a read-only method with GET and the payload in the query string.
func (f *configFixture) get(t *testing.T, auth, version, method, query string) response {
	t.Helper()
	return f.e.do(t, request{path: "/v" + version + "/configuration/action/" + method + "?" + query, auth: auth})
}

// newAgent creates a normal agent through the core and returns its id.
func (f *configFixture) newAgent(t *testing.T, profile livechat.AgentProfile) string {
	t.Helper()
	a, err := f.e.svc.CreateAgent(t.Context(), livechat.System(), livechat.AgentInput{Email: f.email(), Profile: profile})
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// newBot creates a bot owned by the owner and returns its id and secret.
func (f *configFixture) newBot(t *testing.T) (string, string) {
	t.Helper()
	b, secret, err := f.e.svc.CreateBot(t.Context(), livechat.AgentActor(f.owner), livechat.AgentInput{Name: f.name("bot")})
	if err != nil {
		t.Fatal(err)
	}
	return b.ID, secret
}

// newTemplate creates a bot template of client "tmpl" and returns its id.
func (f *configFixture) newTemplate(t *testing.T) string {
	t.Helper()
	b, _, err := f.e.svc.CreateBotTemplate(t.Context(), livechat.System(), livechat.AgentInput{Name: f.name("tmpl"), OwnerClientID: f.name("tmpl")})
	if err != nil {
		t.Fatal(err)
	}
	return b.ID + " " + b.OwnerClientID
}

// newGroup creates a group through the core and returns its id.
func (f *configFixture) newGroup(t *testing.T) int {
	t.Helper()
	g, err := f.e.svc.CreateGroup(t.Context(), livechat.System(), f.name("group"), "")
	if err != nil {
		t.Fatal(err)
	}
	return g.ID
}

// newProperty registers an int chat property of client "app" and returns its name.
func (f *configFixture) newProperty(t *testing.T) string {
	t.Helper()
	name := f.name("prop")
	err := f.e.svc.RegisterProperty(t.Context(), livechat.System(), livechat.PropertyDefinition{OwnerClientID: "app", Name: name,
		Type: livechat.PropertyInt, Access: livechat.PropertyAccess{"chat": {"agent": {"read", "write"}}}})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// newRule adds an auto access rule and returns its id.
func (f *configFixture) newRule(t *testing.T) string {
	t.Helper()
	id, err := f.e.svc.AddAutoAccess(t.Context(), livechat.System(), livechat.AutoAccess{Access: livechat.AutoAccessGroups{Groups: []int{1}},
		Conditions: livechat.AutoAccessConditions{URL: &livechat.AutoAccessValues{Values: []livechat.AutoAccessMatch{{Value: "pricing"}}}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// newTag creates a tag and returns its name.
func (f *configFixture) newTag(t *testing.T) string {
	t.Helper()
	tag, err := f.e.svc.CreateTag(t.Context(), livechat.System(), f.name("tag"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return tag.ID
}

// configCase is one method of the matrix: a payload that succeeds for the
// owner, one that fails validation, and whether a normal agent (ann, who
// owns none of the objects) is refused with authorization.
type configCase struct {
	method  string
	version string // default 3.5
	ok      func(t *testing.T, f *configFixture) map[string]any
	bad     map[string]any // nil: the method takes no payload to get wrong
	// managed: ann gets authorization (in each item, for batches).
	managed bool
	batch   bool
	public  bool // no credentials needed
}

func batchOf(items ...map[string]any) map[string]any {
	return map[string]any{"requests": items}
}

func configCases() []configCase {
	fixed := func(p map[string]any) func(*testing.T, *configFixture) map[string]any {
		return func(*testing.T, *configFixture) map[string]any { return p }
	}
	byID := func(mk func(*testing.T, *configFixture) string) func(*testing.T, *configFixture) map[string]any {
		return func(t *testing.T, f *configFixture) map[string]any { return map[string]any{"id": mk(t, f)} }
	}
	plainAgent := func(t *testing.T, f *configFixture) string { return f.newAgent(t, livechat.AgentProfile{}) }
	suspended := func(t *testing.T, f *configFixture) string {
		id := plainAgent(t, f)
		if err := f.e.svc.SuspendAgent(t.Context(), livechat.System(), id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	awaiting := func(t *testing.T, f *configFixture) string {
		return f.newAgent(t, livechat.AgentProfile{AwaitingApproval: true})
	}
	bot := func(t *testing.T, f *configFixture) string { id, _ := f.newBot(t); return id }
	template := func(t *testing.T, f *configFixture) map[string]any {
		id, owner, _ := strings.Cut(f.newTemplate(t), " ")
		return map[string]any{"id": id, "owner_client_id": owner}
	}
	with := func(mk func(*testing.T, *configFixture) map[string]any, k string, v any) func(*testing.T, *configFixture) map[string]any {
		return func(t *testing.T, f *configFixture) map[string]any { p := mk(t, f); p[k] = v; return p }
	}
	return []configCase{
		// Agents.
		{method: "create_agent", managed: true, bad: map[string]any{"name": "No id"},
			ok: func(_ *testing.T, f *configFixture) map[string]any {
				return map[string]any{"id": f.email(), "name": "New", "password": testPassword, "groups": []map[string]any{{"id": 1, "priority": "first"}}}
			}},
		{method: "get_agent", bad: map[string]any{"id": "ann@example.com", "fields": []string{"nope"}},
			ok: fixed(map[string]any{"id": "ann@example.com", "fields": []string{"groups", "max_chats_count"}})},
		{method: "list_agents", bad: map[string]any{"fields": []string{"nope"}}, ok: fixed(map[string]any{"filters": map[string]any{"group_ids": []int{1}}})},
		{method: "update_agent", managed: true, bad: map[string]any{"id": "ann@example.com", "max_chats_count": 21},
			ok: with(byID(plainAgent), "role", "administrator")},
		{method: "delete_agent", managed: true, bad: map[string]any{}, ok: byID(plainAgent)},
		{method: "suspend_agent", managed: true, bad: map[string]any{}, ok: byID(plainAgent)},
		{method: "unsuspend_agent", managed: true, bad: map[string]any{}, ok: byID(suspended)},
		{method: "approve_agent", managed: true, bad: map[string]any{}, ok: byID(awaiting)},
		{method: "request_agent_unsuspension", ok: fixed(map[string]any{})},
		{method: "batch_create_agents", managed: true, batch: true, bad: map[string]any{"requests": []any{}},
			ok: func(_ *testing.T, f *configFixture) map[string]any {
				return batchOf(map[string]any{"id": f.email(), "name": "B1"}, map[string]any{"id": f.email(), "name": "B2"})
			}},
		{method: "batch_update_agents", managed: true, batch: true, bad: map[string]any{"requests": "x"},
			ok: func(t *testing.T, f *configFixture) map[string]any {
				return batchOf(map[string]any{"id": plainAgent(t, f), "job_title": "Boss"})
			}},
		{method: "batch_delete_agents", managed: true, batch: true, bad: map[string]any{},
			ok: func(t *testing.T, f *configFixture) map[string]any {
				return batchOf(map[string]any{"id": plainAgent(t, f)})
			}},
		{method: "batch_suspend_agents", managed: true, batch: true, bad: map[string]any{},
			ok: func(t *testing.T, f *configFixture) map[string]any {
				return batchOf(map[string]any{"id": plainAgent(t, f)})
			}},
		{method: "batch_unsuspend_agents", managed: true, batch: true, bad: map[string]any{},
			ok: func(t *testing.T, f *configFixture) map[string]any {
				return batchOf(map[string]any{"id": suspended(t, f)})
			}},
		{method: "batch_approve_agents", managed: true, batch: true, bad: map[string]any{},
			ok: func(t *testing.T, f *configFixture) map[string]any {
				return batchOf(map[string]any{"id": awaiting(t, f)})
			}},
		// Auto access.
		{method: "add_auto_access", managed: true, bad: map[string]any{"access": map[string]any{"groups": []int{1}}, "conditions": map[string]any{}},
			ok: fixed(map[string]any{"access": map[string]any{"groups": []int{1}}, "conditions": map[string]any{"url": map[string]any{"values": []map[string]any{{"value": "pricing"}}}}})},
		{method: "list_auto_accesses", ok: fixed(map[string]any{})},
		{method: "update_auto_access", managed: true, bad: map[string]any{"description": "no id"},
			ok: with(byID(func(t *testing.T, f *configFixture) string { return f.newRule(t) }), "description", "changed")},
		{method: "delete_auto_access", managed: true, bad: map[string]any{}, ok: byID(func(t *testing.T, f *configFixture) string { return f.newRule(t) })},
		// Bots.
		{method: "create_bot", bad: map[string]any{"name": "Bot", "max_chats_count": 501}, ok: fixed(map[string]any{"name": "Bot"})},
		{method: "get_bot", bad: map[string]any{}, ok: byID(bot)},
		{method: "list_bots", bad: map[string]any{"fields": []string{"nope"}}, ok: fixed(map[string]any{"all": true, "fields": []string{"groups"}})},
		{method: "update_bot", managed: true, bad: map[string]any{"id": "x", "default_group_priority": "top"}, ok: with(byID(bot), "name", "Renamed")},
		{method: "delete_bot", managed: true, bad: map[string]any{}, ok: byID(bot)},
		{method: "reset_bot_secret", managed: true, bad: map[string]any{}, ok: byID(bot)},
		{method: "issue_bot_token", public: true, bad: map[string]any{"bot_id": "x"},
			ok: func(t *testing.T, f *configFixture) map[string]any {
				id, secret := f.newBot(t)
				return map[string]any{"bot_id": id, "bot_secret": secret, "client_id": "app", "organization_id": f.e.svc.Organization().OrganizationID}
			}},
		{method: "batch_create_bots", batch: true, bad: map[string]any{"requests": []any{}}, ok: fixed(batchOf(map[string]any{"name": "B1"}, map[string]any{"name": "B2"}))},
		{method: "batch_update_bots", managed: true, batch: true, bad: map[string]any{},
			ok: func(t *testing.T, f *configFixture) map[string]any {
				return batchOf(map[string]any{"id": bot(t, f), "job_title": "Helper"})
			}},
		{method: "batch_delete_bots", managed: true, batch: true, bad: map[string]any{},
			ok: func(t *testing.T, f *configFixture) map[string]any { return batchOf(map[string]any{"id": bot(t, f)}) }},
		{method: "create_bot_template", managed: true, bad: map[string]any{"name": "T"},
			ok: func(_ *testing.T, f *configFixture) map[string]any {
				return map[string]any{"name": "T", "owner_client_id": f.name("client"), "affect_existing_installations": true}
			}},
		{method: "update_bot_template", managed: true, bad: map[string]any{"id": "x"}, ok: with(template, "name", "T2")},
		{method: "delete_bot_template", managed: true, bad: map[string]any{"id": "x"}, ok: template},
		{method: "reset_bot_template_secret", managed: true, bad: map[string]any{"owner_client_id": "x"}, ok: template},
		{method: "list_bot_templates", managed: true, bad: map[string]any{}, ok: fixed(map[string]any{"owner_client_id": "tmpl"})},
		// Groups.
		{method: "create_group", managed: true, bad: map[string]any{"name": "G", "agent_priorities": map[string]string{"ann@example.com": "first"}},
			ok: fixed(map[string]any{"name": "Support", "language_code": "de", "agent_priorities": map[string]string{"ann@example.com": "normal"}})},
		{method: "get_group", bad: map[string]any{"id": 1, "fields": []string{"nope"}}, ok: fixed(map[string]any{"id": 1, "fields": []string{"agent_priorities", "routing_status"}})},
		{method: "list_groups", bad: map[string]any{"fields": []string{"nope"}}, ok: fixed(map[string]any{"fields": []string{"agent_priorities"}})},
		{method: "update_group", managed: true, bad: map[string]any{"id": 1, "name": ""},
			ok: with(byIDInt(func(t *testing.T, f *configFixture) int { return f.newGroup(t) }), "name", "Renamed")},
		{method: "delete_group", managed: true, bad: map[string]any{"id": 0}, ok: byIDInt(func(t *testing.T, f *configFixture) int { return f.newGroup(t) })},
		// Properties.
		{method: "register_property", managed: true,
			bad: map[string]any{"name": "p", "owner_client_id": "app", "type": "float", "access": map[string]any{"chat": map[string]any{"agent": []string{"read"}}}},
			ok: func(_ *testing.T, f *configFixture) map[string]any {
				return map[string]any{"name": f.name("p"), "owner_client_id": "app", "type": "int", "access": map[string]any{"chat": map[string]any{"agent": []string{"read", "write"}}},
					"range": map[string]any{"from": 1, "to": 10}}
			}},
		{method: "unregister_property", managed: true, bad: map[string]any{"name": "p"},
			ok: func(t *testing.T, f *configFixture) map[string]any {
				return map[string]any{"name": f.newProperty(t), "owner_client_id": "app"}
			}},
		{method: "publish_property", managed: true, bad: map[string]any{"name": "p", "owner_client_id": "app", "access_type": []string{"exec"}},
			ok: func(t *testing.T, f *configFixture) map[string]any {
				return map[string]any{"name": f.newProperty(t), "owner_client_id": "app", "access_type": []string{"read", "write"}}
			}},
		{method: "list_properties", bad: map[string]any{}, ok: fixed(map[string]any{"owner_client_id": "test"})},
		{method: "update_license_properties", managed: true, bad: map[string]any{"properties": map[string]any{"test": map[string]any{"int_property": "x"}}},
			ok: fixed(map[string]any{"properties": map[string]any{"free": map[string]any{"k": "v"}}})},
		{method: "list_license_properties", bad: map[string]any{"namespace": 5}, ok: fixed(map[string]any{"namespace": "free"})},
		{method: "delete_license_properties", managed: true, bad: map[string]any{"properties": map[string]any{"free": "k"}},
			ok: fixed(map[string]any{"properties": map[string]any{"free": []string{"k"}}})},
		{method: "update_group_properties", managed: true, bad: map[string]any{"properties": map[string]any{"free": map[string]any{"k": 1}}},
			ok: fixed(map[string]any{"group_id": 1, "properties": map[string]any{"free": map[string]any{"k": 1}}})},
		{method: "list_group_properties", version: "3.4", bad: map[string]any{}, ok: fixed(map[string]any{"id": 1})},
		{method: "list_groups_properties", bad: map[string]any{"group_ids": "x"}, ok: fixed(map[string]any{"group_ids": []int{0, 1}})},
		{method: "delete_group_properties", managed: true, bad: map[string]any{"id": 1},
			ok: fixed(map[string]any{"id": 1, "properties": map[string]any{"free": []string{"k"}}})},
		// Tags.
		{method: "create_tag", managed: true, bad: map[string]any{"name": " padded "},
			ok: func(_ *testing.T, f *configFixture) map[string]any {
				return map[string]any{"name": f.name("tag"), "group_ids": []int{1}}
			}},
		{method: "update_tag", managed: true, bad: map[string]any{"name": " padded "},
			ok: func(t *testing.T, f *configFixture) map[string]any {
				return map[string]any{"name": f.newTag(t), "group_ids": []int{0, 1}}
			}},
		{method: "delete_tag", managed: true, bad: map[string]any{},
			ok: func(t *testing.T, f *configFixture) map[string]any { return map[string]any{"name": f.newTag(t)} }},
		{method: "list_tags", bad: map[string]any{"filters": map[string]any{"group_ids": "x"}}, ok: fixed(map[string]any{"filters": map[string]any{"group_ids": []int{1}}})},
		// Organization.
		{method: "get_organization_id", version: "3.4", bad: map[string]any{},
			ok: func(_ *testing.T, f *configFixture) map[string]any {
				return map[string]any{"license_id": f.e.svc.Organization().LicenseID}
			}},
		{method: "get_license_id", version: "3.4", bad: map[string]any{},
			ok: func(_ *testing.T, f *configFixture) map[string]any {
				return map[string]any{"organization_id": f.e.svc.Organization().OrganizationID}
			}},
		{method: "list_channels", ok: fixed(map[string]any{})},
	}
}

func byIDInt(mk func(*testing.T, *configFixture) int) func(*testing.T, *configFixture) map[string]any {
	return func(t *testing.T, f *configFixture) map[string]any { return map[string]any{"id": mk(t, f)} }
}

// TestConfigurationMatrix calls every Configuration API method over HTTP:
// success for the owner, validation, and authorization for a normal agent
// on the methods that need a manager (or the object's owner).
func TestConfigurationMatrix(t *testing.T) {
	t.Parallel()
	f := newConfigFixture(t)
	cases := configCases()
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.method] = true
	}
	webhooks := map[string]bool{}
	for _, m := range api.WebhookMethods {
		webhooks[m.Name] = true
	}
	for _, name := range api.ConfigurationTable().Names() {
		if !covered[name] && !webhooks[name] {
			t.Errorf("method %s has no case in the matrix", name)
		}
	}
	for _, c := range cases {
		t.Run(c.method, func(t *testing.T) {
			v := c.version
			if v == "" {
				v = "3.5"
			}
			payload := c.ok(t, f)
			if c.managed {
				r := f.call(t, f.annAuth, v, c.method, payload)
				if c.batch {
					item := r.ok(t)["responses"].([]any)[0].(map[string]any)
					if e, _ := item["error"].(map[string]any); e["type"] != "authorization" {
						t.Fatalf("ann's batch item = %v, want an authorization error", item)
					}
				} else {
					wantError(t, r, http.StatusForbidden, "authorization")
				}
			}
			auth := f.ownerAuth
			if c.public {
				auth = ""
			}
			r := f.call(t, auth, v, c.method, payload)
			if r.status != http.StatusOK {
				t.Fatalf("owner: status %d: %s", r.status, r.body)
			}
			if c.batch {
				for _, item := range r.ok(t)["responses"].([]any) {
					if _, failed := item.(map[string]any)["error"]; failed {
						t.Fatalf("batch item failed: %s", r.body)
					}
				}
			}
			if c.bad != nil {
				wantError(t, f.call(t, f.ownerAuth, v, c.method, c.bad), http.StatusBadRequest, "validation")
			}
			if !c.public {
				wantError(t, f.call(t, "", v, c.method, payload), http.StatusUnauthorized, "authentication")
			}
		})
	}
}

// TestConfigurationTransport checks what the HTTP layer adds: versions,
// GET for read-only methods (query string or body, as lc-sdk-js sends),
// customer tokens refused, unknown methods.
func TestConfigurationTransport(t *testing.T) {
	t.Parallel()
	f := newConfigFixture(t)
	org := f.e.svc.Organization()

	// lc-sdk-js 3.4 GET calls.
	r := f.get(t, f.ownerAuth, "3.4", "get_organization_id", fmt.Sprintf("license_id=%d", org.LicenseID))
	if got := r.ok(t)["organization_id"]; got != org.OrganizationID {
		t.Fatalf("get_organization_id = %v", got)
	}
	r = f.get(t, f.ownerAuth, "3.4", "get_license_id", "organization_id="+org.OrganizationID)
	if got := r.ok(t)["license_id"]; got != float64(org.LicenseID) {
		t.Fatalf("get_license_id = %v", got)
	}
	wantError(t, f.get(t, f.ownerAuth, "3.4", "get_license_id", "organization_id=nope"), http.StatusNotFound, "not_found")
	wantError(t, f.get(t, f.ownerAuth, "3.4", "get_organization_id", "license_id=1"), http.StatusNotFound, "not_found")
	r = f.e.do(t, request{path: "/v3.4/configuration/action/list_license_properties", auth: f.ownerAuth, body: `{"namespace":"free"}`})
	if r.status != http.StatusOK {
		t.Fatalf("GET with a body: %d %s", r.status, r.body)
	}
	r = f.get(t, f.annAuth, "3.4", "list_group_properties", "id=1")
	if r.status != http.StatusOK || string(r.body) != "{}\n" {
		t.Fatalf("list_group_properties: %d %s", r.status, r.body)
	}
	// Removed or not yet present in a version.
	wantError(t, f.call(t, f.ownerAuth, "3.5", "get_license_id", map[string]any{"organization_id": org.OrganizationID}), http.StatusBadRequest, "validation")
	wantError(t, f.call(t, f.ownerAuth, "3.4", "create_tag", map[string]any{"name": "x"}), http.StatusBadRequest, "validation")
	wantError(t, f.call(t, f.ownerAuth, "3.4", "batch_create_agents", batchOf(map[string]any{"id": "x@example.com", "name": "x"})), http.StatusBadRequest, "validation")
	wantError(t, f.call(t, f.ownerAuth, "3.5", "list_group_properties", map[string]any{"id": 1}), http.StatusBadRequest, "validation")
	wantError(t, f.call(t, f.ownerAuth, "3.5", "no_such_method", map[string]any{}), http.StatusBadRequest, "validation")
	wantError(t, f.call(t, f.ownerAuth, "2.0", "list_agents", map[string]any{}), http.StatusBadRequest, "unsupported_version")
	// Writes need POST.
	wantError(t, f.get(t, f.ownerAuth, "3.5", "create_agent", "id=x@example.com&name=x"), http.StatusMethodNotAllowed, "not_found")
	// Customer tokens are not agent tokens.
	ct, err := f.e.svc.IssueCustomerToken(t.Context(), livechat.System(), livechat.CustomerTokenRequest{ClientID: "w", OrganizationID: org.OrganizationID})
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, f.call(t, "Bearer "+ct.AccessToken, "3.5", "list_agents", map[string]any{}), http.StatusUnauthorized, "authentication")
	wantError(t, f.call(t, "Bearer nope", "3.5", "list_agents", map[string]any{}), http.StatusUnauthorized, "authentication")
	// A body that is not an object.
	wantError(t, f.e.do(t, request{method: http.MethodPost, path: "/v3.5/configuration/action/list_agents", auth: f.ownerAuth, body: "[1]"}), http.StatusBadRequest, "validation")
	// A batch answers in request order, each item on its own.
	r = f.call(t, f.ownerAuth, "3.5", "batch_create_agents", batchOf(
		map[string]any{"id": "one@example.com", "name": "One"},
		map[string]any{"id": "not an e-mail", "name": "Two"},
		map[string]any{"id": "ann@example.com", "name": "Again"},
	))
	items := r.ok(t)["responses"].([]any)
	if len(items) != 3 || items[0].(map[string]any)["id"] != "one@example.com" {
		t.Fatalf("batch responses %s", r.body)
	}
	for i, want := range []string{"", "validation", "already_exists"} {
		e, _ := items[i].(map[string]any)["error"].(map[string]any)
		if want != "" && (e == nil || e["type"] != want) {
			t.Errorf("item %d = %v, want %s", i, items[i], want)
		}
	}
	// The served methods, for the record.
	names := api.ConfigurationTable().Names()
	if !slices.Contains(names, "register_webhook") || !slices.Contains(names, "create_agent") {
		t.Fatalf("table %v", names)
	}
}
