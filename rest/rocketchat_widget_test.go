package rest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chatbridge/chatbridge/livechat"
)

// The omnichannel visitor endpoints of Rocket.Chat's REST API (the
// Livechat widget's and @rocket.chat/sdk's calls) over real HTTP, against
// the embedded store, with a DDP agent on the other side.

// rcRaw sends a raw body (bad JSON) and decodes the JSON answer.
func (e *env) rcRaw(t *testing.T, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: status %d, body not a JSON object: %s", method, path, res.StatusCode, raw)
	}
	return res.StatusCode, m
}

// wantRCFail checks a 400 {"success":false} answer with errorType typ.
func wantRCFail(t *testing.T, status int, m map[string]any, typ, what string) {
	t.Helper()
	if status != http.StatusBadRequest || m["success"] != false || m["errorType"] != typ || m["error"] == "" {
		t.Fatalf("%s: status %d, %v; want 400 %s", what, status, m, typ)
	}
}

// widgetGroups creates departments 1 (Sales) and 2 (Support).
func widgetGroups(t *testing.T, e *env) {
	t.Helper()
	for _, n := range []string{"Sales", "Support"} {
		if _, err := e.svc.CreateGroup(t.Context(), livechat.System(), n, ""); err != nil {
			t.Fatal(err)
		}
	}
}

func rcObj(t *testing.T, v any, what string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: %#v is not an object", what, v)
	}
	return m
}

// TestRocketChatWidgetConfig: livechat/config without and with a visitor
// (guest, open room, serving agent), online per department, and
// agent.next.
func TestRocketChatWidgetConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	widgetGroups(t, e)

	st, m := e.rcDo(t, http.MethodGet, "/api/v1/livechat/config", nil, nil)
	cfg := rcObj(t, rcOK(t, st, m, "config")["config"], "config")
	if cfg["enabled"] != true || cfg["online"] != false || cfg["guest"] != nil || cfg["room"] != nil || cfg["agent"] != nil {
		t.Fatalf("config without agents or token: %v", cfg)
	}
	for _, k := range []string{"settings", "theme", "messages", "survey", "resources"} {
		rcObj(t, cfg[k], "config."+k)
	}
	if got := ids(cfg["departments"]); !slices.Equal(got, []string{"1", "2"}) {
		t.Fatalf("departments %v", cfg["departments"])
	}
	if rcObj(t, cfg["theme"], "theme")["title"] == "" || rcObj(t, cfg["messages"], "messages")["offlineMessage"] == "" {
		t.Fatalf("theme/messages %v", cfg)
	}

	_, ag, uid := e.ddpAgent(t, "widget.config@example.com", 1)
	ag.mustSub("livechat:inquiry")
	token, rid := "widgetCfgToken001", "widgetCfgRoom0001"
	e.rcServedRoom(t, ag, token, rid, "1")
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/livechat/config?token="+token, nil, nil)
	cfg = rcObj(t, rcOK(t, st, m, "config with a token")["config"], "config")
	if g := rcObj(t, cfg["guest"], "guest"); g["token"] != token || g["department"] != "1" {
		t.Fatalf("config guest %v", g)
	}
	if r := rcObj(t, cfg["room"], "room"); r["_id"] != rid || r["t"] != "l" {
		t.Fatalf("config room %v", r)
	}
	if a := rcObj(t, cfg["agent"], "agent"); a["_id"] != uid {
		t.Fatalf("config agent %v", a)
	}
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/livechat/config?token=unknownToken123", nil, nil)
	if cfg = rcObj(t, rcOK(t, st, m, "config, unknown token")["config"], "config"); cfg["guest"] != nil || cfg["room"] != nil {
		t.Fatalf("config with an unknown token: %v", cfg)
	}

	// The visitor has an open room: agent.next names nobody.
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/livechat/agent.next/"+token+"?department=", nil, nil)
	if rcOK(t, st, m, "agent.next with an open room"); m["agent"] != nil {
		t.Fatalf("agent.next with an open room: %v", m)
	}
	// A new visitor: nobody accepts chats yet.
	other := "widgetCfgToken002"
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/visitor", nil, map[string]any{"visitor": map[string]any{"token": other}})
	rcOK(t, st, m, "livechat/visitor")
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/livechat/agent.next/"+other+"?department=1", nil, nil)
	wantRCFail(t, st, m, "agent-not-found", "agent.next, nobody accepting")

	ag.mustCall("livechat:changeLivechatStatus", map[string]any{"status": "available"})
	for _, c := range []struct {
		query  string
		online bool
	}{{"", true}, {"?department=1", true}, {"?department=2", false}, {"?department=99", false}, {"?department=sales", false}} {
		st, m = e.rcDo(t, http.MethodGet, "/api/v1/livechat/config"+c.query, nil, nil)
		if cfg := rcObj(t, rcOK(t, st, m, "config"+c.query)["config"], "config"); cfg["online"] != c.online {
			t.Fatalf("config%s online = %v, want %v", c.query, cfg["online"], c.online)
		}
	}
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/livechat/agent.next/"+other+"?department=1", nil, nil)
	if a := rcObj(t, rcOK(t, st, m, "agent.next")["agent"], "agent"); a["_id"] != uid || a["username"] == "" {
		t.Fatalf("agent.next %v", a)
	}
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/livechat/agent.next/"+other, nil, nil)
	if a := rcObj(t, rcOK(t, st, m, "agent.next, no department")["agent"], "agent"); a["_id"] != uid {
		t.Fatalf("agent.next, no department %v", a)
	}
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/livechat/agent.next/"+other+"?department=2", nil, nil)
	wantRCFail(t, st, m, "agent-not-found", "agent.next, department without agents")
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/livechat/agent.next/"+other+"?department=99", nil, nil)
	wantRCFail(t, st, m, "error-invalid-department", "agent.next, unknown department")
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/livechat/agent.next/noSuchVisitor01", nil, nil)
	wantRCFail(t, st, m, "invalid-token", "agent.next, unknown token")
}

// TestRocketChatWidgetVisitor: the visitor document, custom fields, status,
// visited pages, offline messages and deleting the visitor.
func TestRocketChatWidgetVisitor(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, ag, _ := e.ddpAgent(t, "widget.visitor@example.com")
	ag.mustSub("livechat:inquiry")
	token, rid := "widgetVisToken001", "widgetVisRoom0001"
	e.rcServedRoom(t, ag, token, rid, "")

	st, m := e.rcDo(t, http.MethodGet, "/api/v1/livechat/visitor/"+token, nil, nil)
	v := rcObj(t, rcOK(t, st, m, "GET visitor")["visitor"], "visitor")
	vid, _ := v["_id"].(string)
	if v["token"] != token || v["name"] != "Visitor "+token || vid == "" {
		t.Fatalf("visitor %v", v)
	}
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/livechat/visitor/unknownToken123", nil, nil)
	wantRCFail(t, st, m, "invalid-token", "GET visitor, unknown token")

	// Custom fields: session fields of the customer; overwrite decides.
	field := func(key, value string, overwrite bool) map[string]any {
		return map[string]any{"key": key, "value": value, "overwrite": overwrite}
	}
	body := field("plan", "gold", false)
	body["token"] = token
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/custom.field", nil, body)
	if f := rcObj(t, rcOK(t, st, m, "custom.field")["field"], "field"); f["key"] != "plan" || f["value"] != "gold" || f["overwrite"] != false {
		t.Fatalf("custom.field %v", f)
	}
	body = field("plan", "silver", false)
	body["token"] = token
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/custom.field", nil, body)
	rcOK(t, st, m, "custom.field, no overwrite")
	livechatData := func() map[string]any {
		t.Helper()
		st, m := e.rcDo(t, http.MethodGet, "/api/v1/livechat/visitor/"+token, nil, nil)
		d, _ := rcObj(t, rcOK(t, st, m, "GET visitor")["visitor"], "visitor")["livechatData"].(map[string]any)
		return d
	}
	if d := livechatData(); d["plan"] != "gold" {
		t.Fatalf("livechatData after a field without overwrite: %v", d)
	}
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/custom.fields", nil, map[string]any{"token": token,
		"customFields": []any{field("plan", "silver", true), field("city", "Rome", false)}})
	if fs, _ := rcOK(t, st, m, "custom.fields")["fields"].([]any); len(fs) != 2 || rcObj(t, fs[1], "field")["key"] != "city" {
		t.Fatalf("custom.fields %v", m)
	}
	if d := livechatData(); d["plan"] != "silver" || d["city"] != "Rome" {
		t.Fatalf("livechatData after custom.fields: %v", d)
	}
	cust, err := e.svc.VisitorByToken(t.Context(), token)
	if err != nil || len(cust.SessionFields) != 2 {
		t.Fatalf("session fields %v, %v", cust, err)
	}
	for _, c := range []struct {
		path, typ string
		body      any
	}{
		{"custom.field", "error-invalid-params", map[string]any{"token": token, "key": "plan", "value": "x"}},
		{"custom.field", "invalid-params", map[string]any{"token": token, "key": "", "value": "x", "overwrite": true}},
		{"custom.field", "invalid-token", map[string]any{"token": "unknownToken123", "key": "plan", "value": "x", "overwrite": true}},
		{"custom.fields", "error-invalid-params", map[string]any{"token": token, "customFields": []any{}}},
		{"custom.fields", "error-invalid-params", map[string]any{"token": token, "customFields": []any{map[string]any{"key": "a"}}}},
		{"custom.fields", "invalid-token", map[string]any{"customFields": []any{field("a", "b", true)}}},
	} {
		st, m := e.rcDo(t, http.MethodPost, "/api/v1/livechat/"+c.path, nil, c.body)
		wantRCFail(t, st, m, c.typ, c.path+" bad input")
	}

	// Status: checked and acknowledged.
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/visitor.status", nil, map[string]any{"token": token, "status": "away"})
	if rcOK(t, st, m, "visitor.status"); m["status"] != "away" || m["token"] != token {
		t.Fatalf("visitor.status %v", m)
	}
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/visitor.status", nil, map[string]any{"token": token, "status": "sleeping"})
	wantRCFail(t, st, m, "invalid-params", "visitor.status, bad status")
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/visitor.status", nil, map[string]any{"token": "unknownToken123", "status": "away"})
	wantRCFail(t, st, m, "invalid-token", "visitor.status, unknown token")

	// Visited pages join the customer's visit.
	page := func(change, title, href string) map[string]any {
		return map[string]any{"token": token, "rid": rid, "pageInfo": map[string]any{"change": change, "title": title, "location": map[string]any{"href": href}}}
	}
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/page.visited", nil, page("url", "Pricing", "https://shop.example.com/pricing"))
	p := rcObj(t, rcOK(t, st, m, "page.visited")["page"], "page")
	if p["msg"] != "Pricing - https://shop.example.com/pricing" || rcObj(t, p["navigation"], "navigation")["token"] != token {
		t.Fatalf("page.visited %v", p)
	}
	if cust, err = e.svc.VisitorByToken(t.Context(), token); err != nil || cust.LastVisit == nil ||
		!slices.ContainsFunc(cust.LastVisit.LastPages, func(p livechat.Page) bool { return p.URL == "https://shop.example.com/pricing" }) {
		t.Fatalf("visited pages: %+v %v", cust, err)
	}
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/page.visited", nil, page("title", "Pricing!", "https://shop.example.com/pricing"))
	if rcOK(t, st, m, "page.visited, title change"); m["page"] != nil {
		t.Fatalf("page.visited, title change: %v", m)
	}
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/page.visited", nil, page("url", "Rel", "/relative"))
	wantRCFail(t, st, m, "invalid-params", "page.visited, relative URL")
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/page.visited", nil, map[string]any{"token": token})
	wantRCFail(t, st, m, "error-invalid-params", "page.visited without pageInfo")

	// Offline messages.
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/offline.message", nil, map[string]any{"name": "Olga", "email": "olga@example.com", "message": "Call me"})
	if rcOK(t, st, m, "offline.message"); m["message"] == "" {
		t.Fatalf("offline.message %v", m)
	}
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/offline.message", nil, map[string]any{"name": "Olga", "message": "Call me"})
	wantRCFail(t, st, m, "invalid-params", "offline.message without email")
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/offline.message", nil, map[string]any{"name": "Olga", "email": "not-an-email", "message": "Call me"})
	wantRCFail(t, st, m, "invalid-params", "offline.message, bad email")

	// Deleting: refused with an open room; after the close the token is
	// forgotten and the personal data erased.
	st, m = e.rcDo(t, http.MethodDelete, "/api/v1/livechat/visitor/"+token, nil, nil)
	wantRCFail(t, st, m, "visitor-has-open-rooms", "DELETE visitor with an open room")
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/room.close", nil, map[string]any{"rid": rid, "token": token})
	rcOK(t, st, m, "room.close")
	st, m = e.rcDo(t, http.MethodDelete, "/api/v1/livechat/visitor/"+token, nil, nil)
	if d := rcObj(t, rcOK(t, st, m, "DELETE visitor")["visitor"], "visitor"); d["_id"] != vid || d["ts"] == nil {
		t.Fatalf("DELETE visitor %v", d)
	}
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/livechat/visitor/"+token, nil, nil)
	wantRCFail(t, st, m, "invalid-token", "GET visitor after DELETE")
	st, m = e.rcDo(t, http.MethodDelete, "/api/v1/livechat/visitor/"+token, nil, nil)
	wantRCFail(t, st, m, "invalid-token", "DELETE visitor twice")
	gone, err := e.svc.GetCustomer(t.Context(), livechat.System(), vid)
	if err != nil || gone.Name != "" || gone.Email != "" || len(gone.SessionFields) != 0 || gone.LastVisit != nil {
		t.Fatalf("erased customer %+v, %v", gone, err)
	}
}

// TestRocketChatWidgetRoom: messages by id (get, edit, delete), agent.info,
// room.transfer and room.close, with their error paths; visitor B never
// reaches visitor A's room or messages, and sees the same errors as for a
// missing room or message.
func TestRocketChatWidgetRoom(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	widgetGroups(t, e)
	a, ag, uid := e.ddpAgent(t, "widget.room@example.com", 1)
	ag.mustSub("livechat:inquiry")
	tokA, ridA := "widgetRoomTokenA1", "widgetRoomRoomA01"
	tokB, ridB := "widgetRoomTokenB1", "widgetRoomRoomB01"
	e.rcServedRoom(t, ag, tokA, ridA, "1")
	e.rcServedRoom(t, ag, tokB, ridB, "1")

	send := func(token, rid, id, msg string) {
		t.Helper()
		st, m := e.rcDo(t, http.MethodPost, "/api/v1/livechat/message", nil, map[string]any{"token": token, "rid": rid, "_id": id, "msg": msg})
		rcOK(t, st, m, "livechat/message "+id)
	}
	send(tokA, ridA, "widgetMsgA000001", "Hello from A")
	send(tokA, ridA, "widgetMsgA000002", "To be deleted")
	send(tokB, ridB, "widgetMsgB000001", "Hello from B")
	ag.mustCall("sendMessage", map[string]any{"_id": "widgetAgentMsg01", "rid": ridA, "msg": "Hi A"})

	msgPath := func(id, token, rid string) string {
		return "/api/v1/livechat/message/" + id + "?token=" + url.QueryEscape(token) + "&rid=" + url.QueryEscape(rid)
	}
	st, m := e.rcDo(t, http.MethodGet, msgPath("widgetMsgA000001", tokA, ridA), nil, nil)
	if msg := rcObj(t, rcOK(t, st, m, "GET message")["message"], "message"); msg["_id"] != "widgetMsgA000001" || msg["msg"] != "Hello from A" || msg["rid"] != ridA {
		t.Fatalf("GET message %v", msg)
	}
	st, m = e.rcDo(t, http.MethodGet, msgPath("widgetAgentMsg01", tokA, ridA), nil, nil)
	rcOK(t, st, m, "GET the agent's message")

	// Edit and delete the visitor's own messages.
	st, m = e.rcDo(t, http.MethodPut, "/api/v1/livechat/message/widgetMsgA000001", nil, map[string]any{"token": tokA, "rid": ridA, "msg": "Hello from A, edited"})
	if msg := rcObj(t, rcOK(t, st, m, "PUT message")["message"], "message"); msg["msg"] != "Hello from A, edited" || msg["editedAt"] == nil {
		t.Fatalf("PUT message %v", msg)
	}
	st, m = e.rcDo(t, http.MethodGet, msgPath("widgetMsgA000001", tokA, ridA), nil, nil)
	if msg := rcObj(t, rcOK(t, st, m, "GET edited message")["message"], "message"); msg["msg"] != "Hello from A, edited" {
		t.Fatalf("GET edited message %v", msg)
	}
	st, m = e.rcDo(t, http.MethodDelete, "/api/v1/livechat/message/widgetMsgA000002", nil, map[string]any{"token": tokA, "rid": ridA})
	if msg := rcObj(t, rcOK(t, st, m, "DELETE message")["message"], "message"); msg["_id"] != "widgetMsgA000002" || msg["ts"] == nil {
		t.Fatalf("DELETE message %v", msg)
	}
	st, m = e.rcDo(t, http.MethodGet, msgPath("widgetMsgA000002", tokA, ridA), nil, nil)
	wantRCFail(t, st, m, "error-invalid-message", "GET a deleted message")
	st, m = e.rcDo(t, http.MethodDelete, "/api/v1/livechat/message/widgetMsgA000002", nil, map[string]any{"token": tokA, "rid": ridA})
	wantRCFail(t, st, m, "error-invalid-message", "DELETE a deleted message")

	// Only their own: the agent's message stays as it is.
	for _, same := range []string{"Hi A", "Hi A, says the visitor"} {
		st, m = e.rcDo(t, http.MethodPut, "/api/v1/livechat/message/widgetAgentMsg01", nil, map[string]any{"token": tokA, "rid": ridA, "msg": same})
		wantRCFail(t, st, m, "error-action-not-allowed", "PUT the agent's message: "+same)
	}
	st, m = e.rcDo(t, http.MethodDelete, "/api/v1/livechat/message/widgetAgentMsg01", nil, map[string]any{"token": tokA, "rid": ridA})
	wantRCFail(t, st, m, "error-action-not-allowed", "DELETE the agent's message")

	// The agent serving the room.
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/livechat/agent.info/"+ridA+"/"+tokA, nil, nil)
	if ai := rcObj(t, rcOK(t, st, m, "agent.info")["agent"], "agent"); ai["_id"] != uid || ai["username"] != a.Username || ai["emails"] == nil {
		t.Fatalf("agent.info %v", ai)
	}

	// Visitor B against A's room and messages: the answers for a missing
	// room or message, and nothing changes.
	missingRoom := func(what string, st int, m map[string]any) {
		t.Helper()
		wantRCFail(t, st, m, "error-invalid-room", what)
	}
	st, m = e.rcDo(t, http.MethodGet, msgPath("widgetMsgA000001", tokB, "noSuchRoom000001"), nil, nil)
	missingRoom("GET message, missing room", st, m)
	wantErr := m["error"]
	st, m = e.rcDo(t, http.MethodGet, msgPath("widgetMsgA000001", tokB, ridA), nil, nil)
	if missingRoom("B GETs A's message", st, m); m["error"] != wantErr {
		t.Fatalf("B's answer for A's room %v differs from a missing room's %v", m["error"], wantErr)
	}
	st, m = e.rcDo(t, http.MethodGet, msgPath("widgetMsgA000001", tokB, ridB), nil, nil)
	wantRCFail(t, st, m, "error-invalid-message", "B GETs A's message through its own room")
	st, m = e.rcDo(t, http.MethodGet, msgPath("noSuchMessage001", tokB, ridB), nil, nil)
	wantRCFail(t, st, m, "error-invalid-message", "GET a missing message")
	st, m = e.rcDo(t, http.MethodPut, "/api/v1/livechat/message/widgetMsgA000001", nil, map[string]any{"token": tokB, "rid": ridA, "msg": "hijacked"})
	missingRoom("B PUTs A's message", st, m)
	st, m = e.rcDo(t, http.MethodPut, "/api/v1/livechat/message/widgetMsgA000001", nil, map[string]any{"token": tokB, "rid": ridB, "msg": "hijacked"})
	wantRCFail(t, st, m, "error-invalid-message", "B PUTs A's message through its own room")
	st, m = e.rcDo(t, http.MethodDelete, "/api/v1/livechat/message/widgetMsgA000001", nil, map[string]any{"token": tokB, "rid": ridA})
	missingRoom("B DELETEs A's message", st, m)
	st, m = e.rcDo(t, http.MethodDelete, "/api/v1/livechat/message/widgetMsgA000001", nil, map[string]any{"token": tokB, "rid": ridB})
	wantRCFail(t, st, m, "error-invalid-message", "B DELETEs A's message through its own room")
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/livechat/agent.info/"+ridA+"/"+tokB, nil, nil)
	missingRoom("B's agent.info for A's room", st, m)
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/room.transfer", nil, map[string]any{"rid": ridA, "token": tokB, "department": "2"})
	missingRoom("B transfers A's room", st, m)
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/room.close", nil, map[string]any{"rid": ridA, "token": tokB})
	missingRoom("B closes A's room", st, m)
	st, m = e.rcDo(t, http.MethodGet, msgPath("widgetMsgA000001", tokA, ridA), nil, nil)
	if msg := rcObj(t, rcOK(t, st, m, "A's message after B's tries")["message"], "message"); msg["msg"] != "Hello from A, edited" {
		t.Fatalf("A's message changed: %v", msg)
	}
	if c, err := e.svc.ReadChat(t.Context(), livechat.System(), ridA); err != nil || !c.Active() {
		t.Fatalf("A's room after B's close: %v %v", c, err)
	}

	// Bad input and unknown tokens.
	for _, c := range []struct {
		method, path, typ string
		body              any
	}{
		{http.MethodGet, msgPath("widgetMsgA000001", "", ridA), "invalid-token", nil},
		{http.MethodGet, msgPath("widgetMsgA000001", "unknownToken123", ridA), "invalid-token", nil},
		{http.MethodGet, msgPath("widgetMsgA000001", tokA, ""), "error-invalid-room", nil},
		{http.MethodPut, "/api/v1/livechat/message/widgetMsgA000001", "invalid-params", map[string]any{"token": tokA, "rid": ridA}},
		{http.MethodPut, "/api/v1/livechat/message/widgetMsgA000001", "invalid-token", map[string]any{"rid": ridA, "msg": "x"}},
		{http.MethodDelete, "/api/v1/livechat/message/widgetMsgA000001", "invalid-token", map[string]any{"token": "unknownToken123", "rid": ridA}},
		{http.MethodGet, "/api/v1/livechat/agent.info/noSuchRoom000001/" + tokA, "error-invalid-room", nil},
		{http.MethodGet, "/api/v1/livechat/agent.info/" + ridA + "/unknownToken123", "invalid-token", nil},
		{http.MethodPost, "/api/v1/livechat/room.close", "invalid-token", map[string]any{"rid": ridA}},
		{http.MethodPost, "/api/v1/livechat/room.close", "error-invalid-room", map[string]any{"token": tokA}},
		{http.MethodPost, "/api/v1/livechat/room.transfer", "invalid-params", map[string]any{"rid": ridA, "token": tokA}},
		{http.MethodPost, "/api/v1/livechat/room.transfer", "error-invalid-department", map[string]any{"rid": ridA, "token": tokA, "department": "sales"}},
		{http.MethodPost, "/api/v1/livechat/room.transfer", "error-invalid-department", map[string]any{"rid": ridA, "token": tokA, "department": "99"}},
	} {
		st, m := e.rcDo(t, c.method, c.path, nil, c.body)
		wantRCFail(t, st, m, c.typ, c.method+" "+c.path)
	}
	for _, p := range []struct{ method, path string }{
		{http.MethodPut, "/api/v1/livechat/message/widgetMsgA000001"},
		{http.MethodDelete, "/api/v1/livechat/message/widgetMsgA000001"},
		{http.MethodPost, "/api/v1/livechat/room.close"},
		{http.MethodPost, "/api/v1/livechat/room.transfer"},
		{http.MethodPost, "/api/v1/livechat/custom.field"},
		{http.MethodPost, "/api/v1/livechat/page.visited"},
		{http.MethodPost, "/api/v1/livechat/visitor.status"},
		{http.MethodPost, "/api/v1/livechat/offline.message"},
	} {
		st, m := e.rcRaw(t, p.method, p.path, `{"token":`)
		wantRCFail(t, st, m, "error-invalid-params", "bad JSON to "+p.method+" "+p.path)
	}

	// Transfer to department 2: nobody there accepts, then an agent does.
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/room.transfer", nil, map[string]any{"rid": ridA, "token": tokA, "department": "2"})
	wantRCFail(t, st, m, "error-agent-offline", "transfer to a department nobody serves")
	_, ag2, uid2 := e.ddpAgent(t, "widget.room.two@example.com", 2)
	ag2.mustCall("livechat:changeLivechatStatus", map[string]any{"status": "available"})
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/room.transfer", nil, map[string]any{"rid": ridA, "token": tokA, "department": "2"})
	r := rcObj(t, rcOK(t, st, m, "room.transfer")["room"], "room")
	if r["_id"] != ridA || r["departmentId"] != "2" || rcObj(t, r["servedBy"], "servedBy")["_id"] != uid2 {
		t.Fatalf("room.transfer %v", r)
	}
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/livechat/agent.info/"+ridA+"/"+tokA, nil, nil)
	if ai := rcObj(t, rcOK(t, st, m, "agent.info after the transfer")["agent"], "agent"); ai["_id"] != uid2 {
		t.Fatalf("agent.info after the transfer %v", ai)
	}

	// Close: once; then the room is closed for transfers too.
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/room.close", nil, map[string]any{"rid": ridA, "token": tokA})
	if rcOK(t, st, m, "room.close"); m["rid"] != ridA || m["comment"] == "" {
		t.Fatalf("room.close %v", m)
	}
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/room.close", nil, map[string]any{"rid": ridA, "token": tokA})
	wantRCFail(t, st, m, "room-closed", "second room.close")
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/room.transfer", nil, map[string]any{"rid": ridA, "token": tokA, "department": "1"})
	wantRCFail(t, st, m, "room-closed", "transfer of a closed room")
}
