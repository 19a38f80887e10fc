package rest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

func TestConfigTags(t *testing.T) {
	t.Parallel()
	f := newConfigFixture(t)
	chat := func(group int) (string, string) {
		r := f.e.action(t, f.ownerAuth, "3.5", "start_chat", map[string]any{"chat": map[string]any{"access": map[string]any{"group_ids": []int{group}}}})
		return str(t, r.ok(t), "chat_id"), str(t, r.ok(t), "thread_id")
	}
	tag := func(chatID, threadID, name string) response {
		return f.e.action(t, f.ownerAuth, "3.5", "tag_thread", map[string]any{"chat_id": chatID, "thread_id": threadID, "tag": name})
	}
	c0, t0 := chat(0)
	c1, t1 := chat(1)
	// No tag configured: free tagging.
	tag(c0, t0, "anything").ok(t)

	f.call(t, f.ownerAuth, "3.5", "create_tag", map[string]any{"name": "VIP", "group_ids": []int{1}}).ok(t)
	wantError(t, f.call(t, f.ownerAuth, "3.5", "create_tag", map[string]any{"name": "vip"}), http.StatusConflict, "already_exists")
	wantError(t, f.call(t, f.ownerAuth, "3.5", "create_tag", map[string]any{"name": "x", "group_ids": []int{7}}), http.StatusBadRequest, "group_not_found")
	f.call(t, f.ownerAuth, "3.5", "create_tag", map[string]any{"name": "general"}).ok(t)
	tags := f.call(t, f.annAuth, "3.5", "list_tags", map[string]any{}).array(t)
	if len(tags) != 2 || tags[0]["name"] != "VIP" || tags[0]["author_id"] != "owner@example.com" || tags[0]["created_at"] == "" || tags[1]["group_ids"].([]any)[0] != float64(0) {
		t.Fatalf("list_tags %v", tags)
	}
	if in0 := f.call(t, f.annAuth, "3.5", "list_tags", map[string]any{"filters": map[string]any{"group_ids": []int{0}}}).array(t); len(in0) != 1 || in0[0]["name"] != "general" {
		t.Fatalf("tags of group 0 %v", in0)
	}

	// Tags configured: a thread takes existing tags of its groups only.
	wantError(t, tag(c0, t0, "unknown"), http.StatusBadRequest, "validation")
	wantError(t, tag(c0, t0, "VIP"), http.StatusBadRequest, "validation")
	wantError(t, tag(c1, t1, "vip"), http.StatusBadRequest, "validation")
	tag(c1, t1, "VIP").ok(t)
	tag(c0, t0, "general").ok(t)
	wantError(t, f.e.action(t, f.ownerAuth, "3.5", "start_chat", map[string]any{"chat": map[string]any{"thread": map[string]any{"tags": []string{"nope"}}}}), http.StatusBadRequest, "validation")
	f.e.action(t, f.ownerAuth, "3.5", "start_chat", map[string]any{"chat": map[string]any{"thread": map[string]any{"tags": []string{"general"}}}}).ok(t)

	// update_tag matches the name exactly.
	f.call(t, f.ownerAuth, "3.5", "update_tag", map[string]any{"name": "VIP", "group_ids": []int{0, 1}}).ok(t)
	wantError(t, f.call(t, f.ownerAuth, "3.5", "update_tag", map[string]any{"name": "vip", "group_ids": []int{0}}), http.StatusNotFound, "not_found")
	tag(c0, t0, "VIP").ok(t)

	// A deleted tag can still be removed from threads, not added.
	f.call(t, f.ownerAuth, "3.5", "delete_tag", map[string]any{"name": "VIP"}).ok(t)
	wantError(t, f.call(t, f.ownerAuth, "3.5", "delete_tag", map[string]any{"name": "VIP"}), http.StatusNotFound, "not_found")
	f.e.action(t, f.ownerAuth, "3.5", "untag_thread", map[string]any{"chat_id": c1, "thread_id": t1, "tag": "VIP"}).ok(t)
	wantError(t, tag(c1, t1, "VIP"), http.StatusBadRequest, "validation")
	wantError(t, f.call(t, f.annAuth, "3.5", "create_tag", map[string]any{"name": "mine"}), http.StatusForbidden, "authorization")
}

func TestConfigAutoAccess(t *testing.T) {
	t.Parallel()
	f := newConfigFixture(t)
	ctx := t.Context()
	if _, err := f.e.svc.CreateGroup(ctx, livechat.System(), "Shop", ""); err != nil {
		t.Fatal(err)
	}
	add := func(p map[string]any) string {
		return str(t, f.call(t, f.ownerAuth, "3.5", "add_auto_access", p).ok(t), "id")
	}
	url := func(v string) map[string]any {
		return map[string]any{"url": map[string]any{"values": []map[string]any{{"value": v}}}}
	}
	a := add(map[string]any{"description": "pricing", "access": map[string]any{"groups": []int{1}}, "conditions": url("pricing")})
	b := add(map[string]any{"access": map[string]any{"groups": []int{2}}, "conditions": map[string]any{"domain": map[string]any{"values": []map[string]any{{"value": "shop.example.com", "exact_match": true}}}}})
	c := add(map[string]any{"access": map[string]any{"groups": []int{0}}, "conditions": map[string]any{"geolocation": map[string]any{"values": []map[string]any{{"country_code": "PL"}}}}, "next_id": a})
	order := func() []string {
		var ids []string
		rules := f.call(t, f.annAuth, "3.5", "list_auto_accesses", map[string]any{}).array(t)
		for i, r := range rules {
			ids = append(ids, r["id"].(string))
			if i > 0 && rules[i-1]["next_id"] != r["id"] {
				t.Fatalf("next_id chain broken: %v", rules)
			}
		}
		if len(rules) > 0 && rules[len(rules)-1]["next_id"] != "" {
			t.Fatalf("last rule has next_id: %v", rules)
		}
		return ids
	}
	if got := order(); len(got) != 3 || got[0] != c || got[1] != a || got[2] != b {
		t.Fatalf("order %v, want %v", got, []string{c, a, b})
	}
	rules := f.call(t, f.annAuth, "3.5", "list_auto_accesses", map[string]any{}).array(t)
	if rules[1]["description"] != "pricing" || rules[1]["conditions"].(map[string]any)["url"] == nil {
		t.Fatalf("rule %v", rules[1])
	}
	f.call(t, f.ownerAuth, "3.5", "update_auto_access", map[string]any{"id": b, "next_id": c}).ok(t)
	f.call(t, f.ownerAuth, "3.5", "update_auto_access", map[string]any{"id": c, "description": "geo"}).ok(t)
	if got := order(); got[0] != b || got[1] != c || got[2] != a {
		t.Fatalf("order after moves %v", got)
	}
	f.call(t, f.ownerAuth, "3.5", "update_auto_access", map[string]any{"id": b, "next_id": ""}).ok(t)
	if got := order(); got[2] != b {
		t.Fatalf("order after a move to the end %v", got)
	}
	for _, bad := range []map[string]any{
		{"access": map[string]any{"groups": []int{}}, "conditions": url("x")},
		{"access": map[string]any{"groups": []int{1}}, "conditions": map[string]any{"url": map[string]any{"values": []map[string]any{{"value": "a"}}, "exclude_values": []map[string]any{{"value": "b"}}}}},
		{"access": map[string]any{"groups": []int{1}}, "conditions": url("")},
		{"access": map[string]any{"groups": []int{1}}, "conditions": map[string]any{"geolocation": map[string]any{"values": []map[string]any{{}}}}},
		{"access": map[string]any{"groups": []int{1}}, "conditions": url("x"), "next_id": "nope"},
	} {
		wantError(t, f.call(t, f.ownerAuth, "3.5", "add_auto_access", bad), http.StatusBadRequest, "validation")
	}
	wantError(t, f.call(t, f.ownerAuth, "3.5", "add_auto_access", map[string]any{"access": map[string]any{"groups": []int{9}}, "conditions": url("x")}), http.StatusBadRequest, "group_not_found")
	wantError(t, f.call(t, f.ownerAuth, "3.5", "update_auto_access", map[string]any{"id": "nope", "description": "x"}), http.StatusNotFound, "not_found")
	wantError(t, f.call(t, f.ownerAuth, "3.5", "update_auto_access", map[string]any{"id": a, "next_id": a}), http.StatusBadRequest, "validation")

	// Applying: a customer on a matching page starts a chat with the first matching rule's groups.
	startOn := func(page string) []int {
		cust, err := f.e.svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{})
		if err != nil {
			t.Fatal(err)
		}
		if page != "" {
			now := time.Now().UTC().Truncate(time.Millisecond)
			cust.LastVisit = &livechat.Visit{StartedAt: now, LastPages: []livechat.Page{
				{OpenedAt: now, URL: page}, {OpenedAt: now.Add(-time.Minute), URL: "https://elsewhere.example.org/"}}}
			if err := f.e.store.Customers().Replace(ctx, cust.ID, cust); err != nil {
				t.Fatal(err)
			}
		}
		v, err := f.e.svc.StartChat(ctx, livechat.CustomerActor(cust), livechat.StartChatInput{Active: true})
		if err != nil {
			t.Fatal(err)
		}
		return v.Chat.Access.GroupIDs
	}
	if g := startOn("https://shop.example.com/Pricing?x=1"); len(g) != 1 || g[0] != 1 {
		t.Fatalf("pricing page access %v", g)
	}
	if g := startOn("https://shop.example.com/cart"); len(g) != 1 || g[0] != 2 {
		t.Fatalf("shop page access %v", g)
	}
	if g := startOn("https://other.example.com/"); len(g) != 1 || g[0] != 0 {
		t.Fatalf("unmatched page access %v", g)
	}
	if g := startOn(""); len(g) != 1 || g[0] != 0 {
		t.Fatalf("no page access %v", g)
	}
	// Geolocation conditions match when the caller knows the place.
	if g, err := f.e.svc.MatchAutoAccess(ctx, "https://x.example/", &livechat.GeoLocation{CountryCode: "pl", City: "Warsaw"}); err != nil || len(g) != 1 || g[0] != 0 {
		t.Fatalf("geo match %v %v", g, err)
	}

	f.call(t, f.ownerAuth, "3.5", "delete_auto_access", map[string]any{"id": c}).ok(t)
	wantError(t, f.call(t, f.ownerAuth, "3.5", "delete_auto_access", map[string]any{"id": c}), http.StatusNotFound, "not_found")
	// Deleting group 2 removes the rule that named only it.
	f.call(t, f.ownerAuth, "3.5", "delete_group", map[string]any{"id": 2}).ok(t)
	if got := order(); len(got) != 1 || got[0] != a {
		t.Fatalf("rules after deleting group 2: %v", got)
	}
}
