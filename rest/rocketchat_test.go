package rest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

// Rocket.Chat's REST subset under /api over real HTTP, beside DDP clients
// on the same conversations.

type rcCreds struct{ uid, token string }

// rcDo sends a JSON request (body nil: none) and decodes the JSON answer.
func (e *env) rcDo(t *testing.T, method, path string, creds *rcCreds, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if creds != nil {
		req.Header.Set("X-User-Id", creds.uid)
		req.Header.Set("X-Auth-Token", creds.token)
	}
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

// rcOK checks a {"success":true} answer.
func rcOK(t *testing.T, status int, m map[string]any, what string) map[string]any {
	t.Helper()
	if status != http.StatusOK || m["success"] != true {
		t.Fatalf("%s: status %d, %v", what, status, m)
	}
	return m
}

func wantRCUnauthorized(t *testing.T, status int, m map[string]any, what string) {
	t.Helper()
	if status != http.StatusUnauthorized || m["status"] != "error" || m["message"] != "You must be logged in to do this." {
		t.Fatalf("%s: status %d, %v; want 401 You must be logged in", what, status, m)
	}
}

func ids(list any) []string {
	var out []string
	items, _ := list.([]any)
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			if id, ok := m["_id"].(string); ok {
				out = append(out, id)
			}
		}
	}
	return out
}

func TestRocketChatREST(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a, ag, uid := e.ddpAgent(t, "rest.agent@example.com")
	ag.mustSub("livechat:inquiry")

	if st, m := e.rcDo(t, http.MethodGet, "/api/info", nil, nil); st != http.StatusOK || m["success"] != true || m["version"] == nil {
		t.Fatalf("/api/info: %d %v", st, m)
	}

	// Visitor: register, get a room, send a message.
	token, rid := "restVisitorToken01", "restVisitorRoom01"
	st, m := e.rcDo(t, http.MethodPost, "/api/v1/livechat/visitor", nil, map[string]any{"visitor": map[string]any{"token": token, "name": "Rita REST"}})
	v := rcOK(t, st, m, "livechat/visitor")["visitor"].(map[string]any)
	if v["token"] != token || v["name"] != "Rita REST" {
		t.Fatalf("visitor %v", v)
	}
	// Custom fields at registration become the visitor's livechatData.
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/visitor", nil, map[string]any{"visitor": map[string]any{"token": token,
		"customFields": []any{map[string]any{"key": "plan", "value": "gold", "overwrite": true}}}})
	if v := rcOK(t, st, m, "livechat/visitor with customFields")["visitor"].(map[string]any); v["livechatData"].(map[string]any)["plan"] != "gold" || v["name"] != "Rita REST" {
		t.Fatalf("visitor with customFields %v", v)
	}
	if st, m := e.rcDo(t, http.MethodPost, "/api/v1/livechat/visitor", nil, map[string]any{"visitor": map[string]any{"token": token,
		"customFields": []any{map[string]any{"key": "", "value": "x"}}}}); st != http.StatusBadRequest || m["success"] != false {
		t.Fatalf("livechat/visitor with an empty custom field key: %d %v", st, m)
	}
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/livechat/room?token="+token+"&rid="+rid, nil, nil)
	rcOK(t, st, m, "livechat/room")
	if r := m["room"].(map[string]any); r["_id"] != rid || m["newRoom"] != true {
		t.Fatalf("livechat/room %v", m)
	}
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/livechat/room?token="+token+"&rid="+rid, nil, nil)
	if rcOK(t, st, m, "livechat/room again"); m["newRoom"] != false {
		t.Fatalf("livechat/room again %v", m)
	}
	if st, m := e.rcDo(t, http.MethodGet, "/api/v1/livechat/room?token=noSuchToken123", nil, nil); st != http.StatusBadRequest || m["success"] != false || m["errorType"] != "invalid-token" {
		t.Fatalf("livechat/room bad token: %d %v", st, m)
	}

	// The DDP agent sees the inquiry, takes it, and hears the visitor's message.
	inq := ag.take("inquiry added", func(m map[string]any) bool {
		f, _ := m["fields"].(map[string]any)
		return m["msg"] == "added" && m["collection"] == "rocketchat_livechat_inquiry" && f != nil && f["rid"] == rid
	})
	ag.mustCall("livechat:takeInquiry", inq["id"].(string))
	ag.mustSub("stream-room-messages", rid, false)
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/message", nil, map[string]any{"token": token, "rid": rid, "_id": "restVisitorMsg01", "msg": "Hello over REST"})
	if msg := rcOK(t, st, m, "livechat/message")["message"].(map[string]any); msg["_id"] != "restVisitorMsg01" || msg["rid"] != rid {
		t.Fatalf("livechat/message %v", m)
	}
	ag.stream("stream-room-messages", rid, func(a []any) bool { return msgOf(a)["_id"] == "restVisitorMsg01" })

	// Missing or wrong credentials.
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/me", nil, nil)
	wantRCUnauthorized(t, st, m, "me without credentials")
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/me", &rcCreds{uid, "notAToken"}, nil)
	wantRCUnauthorized(t, st, m, "me with a bad token")
	if st, m := e.rcDo(t, http.MethodPost, "/api/v1/login", nil, map[string]any{"user": a.Username, "password": "wrong-password"}); st != http.StatusUnauthorized || m["status"] != "error" {
		t.Fatalf("bad login: %d %v", st, m)
	}

	// Agent over REST: login, me, rooms, subscriptions.
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/login", nil, map[string]any{"user": a.Username, "password": testPassword})
	if st != http.StatusOK || m["status"] != "success" {
		t.Fatalf("login: %d %v", st, m)
	}
	data := m["data"].(map[string]any)
	creds := &rcCreds{uid: data["userId"].(string), token: data["authToken"].(string)}
	if creds.uid != uid {
		t.Fatalf("login userId %s, want %s", creds.uid, uid)
	}
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/me", creds, nil)
	if rcOK(t, st, m, "me"); m["_id"] != uid || m["username"] != a.Username {
		t.Fatalf("me %v", m)
	}
	// The resume token is also a LiveChat Bearer token.
	e.wantInfo(t, "Bearer "+creds.token, a.ID)
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/login", nil, map[string]any{"resume": creds.token})
	if st != http.StatusOK || m["data"].(map[string]any)["userId"] != uid {
		t.Fatalf("resume login: %d %v", st, m)
	}
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/rooms.get", creds, nil)
	if rcOK(t, st, m, "rooms.get"); !slices.Contains(ids(m["update"]), rid) {
		t.Fatalf("rooms.get %v", m)
	}
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/subscriptions.get", creds, nil)
	rcOK(t, st, m, "subscriptions.get")
	if subs, _ := m["update"].([]any); len(subs) == 0 || subs[0].(map[string]any)["rid"] != rid {
		t.Fatalf("subscriptions.get %v", m)
	}

	// Messages: send (the DDP agent hears it), post, update, delete.
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/chat.sendMessage", creds, map[string]any{"message": map[string]any{"_id": "restAgentMsg0001", "rid": rid, "msg": "Hi Rita"}})
	if msg := rcOK(t, st, m, "chat.sendMessage")["message"].(map[string]any); msg["_id"] != "restAgentMsg0001" || msg["msg"] != "Hi Rita" {
		t.Fatalf("chat.sendMessage %v", m)
	}
	ag.stream("stream-room-messages", rid, func(a []any) bool { return msgOf(a)["_id"] == "restAgentMsg0001" })
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/chat.postMessage", creds, map[string]any{"roomId": rid, "text": "Posted"})
	posted := rcOK(t, st, m, "chat.postMessage")["message"].(map[string]any)["_id"].(string)
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/chat.update", creds, map[string]any{"roomId": rid, "msgId": "restAgentMsg0001", "text": "Hi Rita, edited"})
	if msg := rcOK(t, st, m, "chat.update")["message"].(map[string]any); msg["msg"] != "Hi Rita, edited" {
		t.Fatalf("chat.update %v", m)
	}
	ag.stream("stream-room-messages", rid, func(a []any) bool {
		return msgOf(a)["_id"] == "restAgentMsg0001" && msgOf(a)["msg"] == "Hi Rita, edited"
	})
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/chat.delete", creds, map[string]any{"roomId": rid, "msgId": posted})
	if rcOK(t, st, m, "chat.delete"); m["_id"] != posted {
		t.Fatalf("chat.delete %v", m)
	}
	if st, m := e.rcDo(t, http.MethodPost, "/api/v1/chat.delete", creds, map[string]any{"roomId": rid, "msgId": posted}); st != http.StatusBadRequest || m["success"] != false || m["errorType"] != "error-invalid-message" {
		t.Fatalf("second chat.delete: %d %v", st, m)
	}
	if st, m := e.rcDo(t, http.MethodPost, "/api/v1/chat.sendMessage", creds, map[string]any{"message": map[string]any{"rid": rid, "msg": "  "}}); st != http.StatusBadRequest || m["success"] != false || m["error"] == "" {
		t.Fatalf("empty chat.sendMessage: %d %v", st, m)
	}

	// History, agent and visitor: newest first, the deleted message gone.
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/channels.history?roomId="+rid+"&count=50", creds, nil)
	got := ids(rcOK(t, st, m, "channels.history")["messages"])
	if !slices.Contains(got, "restVisitorMsg01") || !slices.Contains(got, "restAgentMsg0001") || slices.Contains(got, posted) ||
		slices.Index(got, "restAgentMsg0001") > slices.Index(got, "restVisitorMsg01") {
		t.Fatalf("channels.history %v", got)
	}
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/livechat/messages.history/"+rid+"?token="+url.QueryEscape(token), nil, nil)
	if got := ids(rcOK(t, st, m, "livechat/messages.history")["messages"]); !slices.Contains(got, "restAgentMsg0001") || slices.Contains(got, posted) {
		t.Fatalf("livechat/messages.history %v", got)
	}
	if st, m := e.rcDo(t, http.MethodGet, "/api/v1/livechat/messages.history/"+rid+"?token=otherToken12345", nil, nil); st == http.StatusOK || m["success"] != false {
		t.Fatalf("history with a wrong token: %d %v", st, m)
	}

	// Logout revokes the token.
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/logout", creds, nil)
	if st != http.StatusOK || m["status"] != "success" {
		t.Fatalf("logout: %d %v", st, m)
	}
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/me", creds, nil)
	wantRCUnauthorized(t, st, m, "me after logout")
}

// TestRocketChatRESTDeltas: rooms.get and subscriptions.get with
// updatedSince answer only what changed after it; a closed chat stays a
// room (in update) and its subscription is listed in remove.
func TestRocketChatRESTDeltas(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a, ag, uid := e.ddpAgent(t, "rest.delta@example.com")
	ag.mustSub("livechat:inquiry")
	st, m := e.rcDo(t, http.MethodPost, "/api/v1/login", nil, map[string]any{"user": a.Username, "password": testPassword})
	if st != http.StatusOK {
		t.Fatalf("login: %d %v", st, m)
	}
	creds := &rcCreds{uid: uid, token: m["data"].(map[string]any)["authToken"].(string)}

	if st, m := e.rcDo(t, http.MethodGet, "/api/v1/info", creds, nil); st != http.StatusOK || m["success"] != true || m["info"] == nil {
		t.Fatalf("/api/v1/info: %d %v", st, m)
	}
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/info", nil, nil)
	wantRCUnauthorized(t, st, m, "/api/v1/info without credentials")

	before := time.Now().UTC()
	time.Sleep(5 * time.Millisecond)
	rid := e.rcServedRoom(t, ag, "restDeltaToken001", "restDeltaRoom0001", "")
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/rooms.get?updatedSince="+since(before), creds, nil)
	if rcOK(t, st, m, "rooms.get since before"); !slices.Contains(ids(m["update"]), rid) || len(m["remove"].([]any)) != 0 {
		t.Fatalf("rooms.get since before: %v", m)
	}
	time.Sleep(5 * time.Millisecond)
	mark := time.Now().UTC()
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/rooms.get?updatedSince="+since(mark), creds, nil)
	if rcOK(t, st, m, "rooms.get since now"); len(m["update"].([]any)) != 0 {
		t.Fatalf("rooms.get since now lists rooms: %v", m)
	}
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/subscriptions.get?updatedSince="+since(mark), creds, nil)
	if rcOK(t, st, m, "subscriptions.get since now"); len(m["update"].([]any)) != 0 || len(m["remove"].([]any)) != 0 {
		t.Fatalf("subscriptions.get since now: %v", m)
	}

	time.Sleep(5 * time.Millisecond)
	ag.mustCall("livechat:closeRoom", rid, "done")
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/subscriptions.get?updatedSince="+since(mark), creds, nil)
	rcOK(t, st, m, "subscriptions.get after close")
	removed, _ := m["remove"].([]any)
	if len(removed) != 1 || removed[0].(map[string]any)["_deletedAt"] == nil || len(m["update"].([]any)) != 0 {
		t.Fatalf("subscriptions.get after close: %v", m)
	}
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/rooms.get?updatedSince="+since(mark), creds, nil)
	if rcOK(t, st, m, "rooms.get after close"); !slices.Contains(ids(m["update"]), rid) {
		t.Fatalf("rooms.get after close: %v", m)
	}
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/subscriptions.get", creds, nil)
	if rcOK(t, st, m, "subscriptions.get, all"); len(m["update"].([]any)) != 0 {
		t.Fatalf("subscriptions.get lists a closed chat: %v", m)
	}

	st, m = e.rcDo(t, http.MethodGet, "/api/v1/rooms.get?updatedSince=yesterday", creds, nil)
	if st != http.StatusBadRequest || m["success"] != false || m["errorType"] != "error-updatedSince-param-invalid" {
		t.Fatalf("rooms.get with a bad date: %d %v", st, m)
	}
}

// rcServedRoom registers a visitor over REST, opens room rid for it and has
// the DDP agent ag (subscribed to livechat:inquiry) take it.
// The visitor asks for department dept ("": none).
func (e *env) rcServedRoom(t *testing.T, ag *ddpClient, token, rid, dept string) string {
	t.Helper()
	st, m := e.rcDo(t, http.MethodPost, "/api/v1/livechat/visitor", nil, map[string]any{"visitor": map[string]any{"token": token, "name": "Visitor " + token, "department": dept}})
	rcOK(t, st, m, "livechat/visitor")
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/livechat/room?token="+token+"&rid="+rid, nil, nil)
	rcOK(t, st, m, "livechat/room")
	inq := ag.take("inquiry added", func(m map[string]any) bool {
		f, _ := m["fields"].(map[string]any)
		return m["msg"] == "added" && m["collection"] == "rocketchat_livechat_inquiry" && f != nil && f["rid"] == rid
	})
	ag.mustCall("livechat:takeInquiry", inq["id"].(string))
	return rid
}

func since(t0 time.Time) string { return url.QueryEscape(t0.Format(time.RFC3339Nano)) }

// TestRocketChatRESTMessageSync: chat.syncMessages lists what was sent or
// edited after lastUpdate and what was deleted after it; chat.getMessage
// and chat.react; another agent's room stays out of reach.
func TestRocketChatRESTMessageSync(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, n := range []string{"Sales", "Elsewhere"} {
		if _, err := e.svc.CreateGroup(t.Context(), livechat.System(), n, ""); err != nil {
			t.Fatal(err)
		}
	}
	a, ag, uid := e.ddpAgent(t, "rest.sync@example.com", 1)
	ag.mustSub("livechat:inquiry")
	rid := e.rcServedRoom(t, ag, "restSyncToken0001", "restSyncRoom00001", "1")
	st, m := e.rcDo(t, http.MethodPost, "/api/v1/login", nil, map[string]any{"user": a.Username, "password": testPassword})
	if st != http.StatusOK {
		t.Fatalf("login: %d %v", st, m)
	}
	creds := &rcCreds{uid: uid, token: m["data"].(map[string]any)["authToken"].(string)}
	send := func(id, text string) {
		st, m := e.rcDo(t, http.MethodPost, "/api/v1/chat.sendMessage", creds, map[string]any{"message": map[string]any{"_id": id, "rid": rid, "msg": text}})
		rcOK(t, st, m, "chat.sendMessage "+id)
	}
	send("restSyncMsg00001", "one")
	send("restSyncMsg00002", "two")
	time.Sleep(5 * time.Millisecond)
	mark := time.Now().UTC()
	time.Sleep(5 * time.Millisecond)
	send("restSyncMsg00003", "three")
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/chat.update", creds, map[string]any{"roomId": rid, "msgId": "restSyncMsg00001", "text": "one, edited"})
	rcOK(t, st, m, "chat.update")
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/chat.delete", creds, map[string]any{"roomId": rid, "msgId": "restSyncMsg00002"})
	rcOK(t, st, m, "chat.delete")

	st, m = e.rcDo(t, http.MethodGet, "/api/v1/chat.syncMessages?roomId="+rid+"&lastUpdate="+since(mark), creds, nil)
	res := rcOK(t, st, m, "chat.syncMessages")["result"].(map[string]any)
	if got := ids(res["updated"]); !slices.Equal(got, []string{"restSyncMsg00003", "restSyncMsg00001"}) {
		t.Fatalf("syncMessages updated %v", got)
	}
	if got := ids(res["deleted"]); !slices.Equal(got, []string{"restSyncMsg00002"}) {
		t.Fatalf("syncMessages deleted %v", res["deleted"])
	}

	st, m = e.rcDo(t, http.MethodPost, "/api/v1/chat.react", creds, map[string]any{"emoji": ":thumbsup:", "messageId": "restSyncMsg00003"})
	rcOK(t, st, m, "chat.react")
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/chat.getMessage?msgId=restSyncMsg00003", creds, nil)
	msg := rcOK(t, st, m, "chat.getMessage")["message"].(map[string]any)
	if r, _ := msg["reactions"].(map[string]any); msg["msg"] != "three" || r[":thumbsup:"] == nil {
		t.Fatalf("chat.getMessage %v", msg)
	}
	if st, m := e.rcDo(t, http.MethodGet, "/api/v1/chat.getMessage?msgId=restSyncMsg00002", creds, nil); st != http.StatusBadRequest || m["success"] != false {
		t.Fatalf("chat.getMessage of a deleted message: %d %v", st, m)
	}
	if st, m := e.rcDo(t, http.MethodPost, "/api/v1/chat.react", creds, map[string]any{"emoji": "not an emoji!", "messageId": "restSyncMsg00003"}); st != http.StatusBadRequest || m["success"] != false {
		t.Fatalf("chat.react with a bad emoji: %d %v", st, m)
	}

	for _, q := range []string{"lastUpdate=" + since(mark), "roomId=" + rid, "roomId=" + rid + "&lastUpdate=notadate"} {
		if st, m := e.rcDo(t, http.MethodGet, "/api/v1/chat.syncMessages?"+q, creds, nil); st != http.StatusBadRequest || m["success"] != false || m["errorType"] == "" {
			t.Fatalf("chat.syncMessages?%s: %d %v", q, st, m)
		}
	}

	// An agent of another group, not in the chat, cannot read it.
	b, _, uid2 := e.ddpAgent(t, "rest.sync.other@example.com", 2)
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/login", nil, map[string]any{"user": b.Username, "password": testPassword})
	other := &rcCreds{uid: uid2, token: m["data"].(map[string]any)["authToken"].(string)}
	if st, m := e.rcDo(t, http.MethodGet, "/api/v1/chat.syncMessages?roomId="+rid+"&lastUpdate="+since(mark), other, nil); st == http.StatusOK || m["success"] != false {
		t.Fatalf("another agent synced the room: %d %v", st, m)
	}
	if st, m := e.rcDo(t, http.MethodGet, "/api/v1/chat.getMessage?msgId=restSyncMsg00003", other, nil); st == http.StatusOK || m["success"] != false {
		t.Fatalf("another agent read a message: %d %v", st, m)
	}
	if st, m := e.rcDo(t, http.MethodPost, "/api/v1/chat.react", other, map[string]any{"emoji": ":smile:", "messageId": "restSyncMsg00003"}); st == http.StatusOK || m["success"] != false {
		t.Fatalf("another agent reacted: %d %v", st, m)
	}
}

// TestRocketChatRESTOmnichannelAgent: an agent app over REST lists the
// queue, takes an inquiry, forwards the room and closes it; a second take
// and another group's agent are refused.
func TestRocketChatRESTOmnichannelAgent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, n := range []string{"Sales", "Elsewhere"} {
		if _, err := e.svc.CreateGroup(t.Context(), livechat.System(), n, ""); err != nil {
			t.Fatal(err)
		}
	}
	login := func(a *livechat.Agent, uid string) *rcCreds {
		st, m := e.rcDo(t, http.MethodPost, "/api/v1/login", nil, map[string]any{"user": a.Username, "password": testPassword})
		if st != http.StatusOK {
			t.Fatalf("login: %d %v", st, m)
		}
		return &rcCreds{uid: uid, token: m["data"].(map[string]any)["authToken"].(string)}
	}
	a, ag, uid := e.ddpAgent(t, "rest.queue@example.com", 1)
	creds := login(a, uid)
	b, bg, uidB := e.ddpAgent(t, "rest.queue.b@example.com", 1)
	credsB := login(b, uidB)
	c, _, uidC := e.ddpAgent(t, "rest.queue.c@example.com", 2)
	credsC := login(c, uidC)

	// Nobody accepts chats: the visitor's room is queued.
	token, rid := "restQueueToken001", "restQueueRoom0001"
	st, m := e.rcDo(t, http.MethodPost, "/api/v1/livechat/visitor", nil, map[string]any{"visitor": map[string]any{"token": token, "name": "Quinn", "department": "1"}})
	rcOK(t, st, m, "livechat/visitor")
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/message", nil, map[string]any{"token": token, "rid": rid, "msg": "Is this queue moving?"})
	rcOK(t, st, m, "livechat/message")

	st, m = e.rcDo(t, http.MethodGet, "/api/v1/livechat/inquiries.queued", creds, nil)
	inqs := rcOK(t, st, m, "inquiries.queued")["inquiries"].([]any)
	if len(inqs) != 1 || inqs[0].(map[string]any)["rid"] != rid || m["total"] != float64(1) || inqs[0].(map[string]any)["message"] != "Is this queue moving?" {
		t.Fatalf("inquiries.queued %v", m)
	}
	inqID := inqs[0].(map[string]any)["_id"].(string)
	for _, q := range []string{"offset=1&count=9223372036854775807", "offset=-5&count=-1", "offset=99"} {
		st, m := e.rcDo(t, http.MethodGet, "/api/v1/livechat/inquiries.queued?"+q, creds, nil)
		if rcOK(t, st, m, "inquiries.queued?"+q); m["total"] != float64(1) {
			t.Fatalf("inquiries.queued?%s: %v", q, m)
		}
	}
	st, m = e.rcDo(t, http.MethodGet, "/api/v1/livechat/inquiries.queuedForUser", credsC, nil)
	if rcOK(t, st, m, "another group's queue"); m["total"] != float64(0) {
		t.Fatalf("an agent of another group sees the inquiry: %v", m)
	}
	if st, m := e.rcDo(t, http.MethodPost, "/api/v1/livechat/inquiries.take", credsC, map[string]any{"inquiryId": inqID}); st == http.StatusOK {
		t.Fatalf("an agent of another group took it: %v", m)
	}

	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/inquiries.take", creds, map[string]any{"inquiryId": inqID})
	if inq := rcOK(t, st, m, "inquiries.take")["inquiry"].(map[string]any); inq["rid"] != rid {
		t.Fatalf("inquiries.take %v", m)
	}
	ag.mustSub("stream-room-messages", rid, false)
	if st, m := e.rcDo(t, http.MethodPost, "/api/v1/livechat/inquiries.take", credsB, map[string]any{"inquiryId": inqID}); st != http.StatusBadRequest || m["errorType"] != "error-inquiry-taken" {
		t.Fatalf("second take: %d %v", st, m)
	}
	if st, m := e.rcDo(t, http.MethodPost, "/api/v1/livechat/inquiries.take", creds, map[string]any{}); st != http.StatusBadRequest {
		t.Fatalf("take without an id: %d %v", st, m)
	}

	// Forward to the second agent (connected over DDP), who closes it.
	bg.mustCall("livechat:changeLivechatStatus", map[string]any{"status": "available"})
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/room.forward", creds, map[string]any{"roomId": rid, "userId": uidB})
	rcOK(t, st, m, "room.forward")
	chat, err := e.svc.ReadChat(t.Context(), livechat.System(), rid)
	if err != nil || chat.User(b.ID) == nil {
		t.Fatalf("after the forward: %+v %v", chat, err)
	}
	if st, m := e.rcDo(t, http.MethodPost, "/api/v1/livechat/room.closeByUser", credsC, map[string]any{"rid": rid}); st == http.StatusOK {
		t.Fatalf("an agent of another group closed it: %v", m)
	}
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/room.closeByUser", credsB, map[string]any{"rid": rid, "comment": "solved"})
	rcOK(t, st, m, "room.closeByUser")
	ag.stream("stream-room-messages", rid, func(a []any) bool { return msgOf(a)["t"] == "livechat-close" })
	if st, m := e.rcDo(t, http.MethodPost, "/api/v1/livechat/room.closeByUser", credsB, map[string]any{"rid": rid}); st != http.StatusBadRequest || m["errorType"] != "room-closed" {
		t.Fatalf("closing twice: %d %v", st, m)
	}
	if st, m := e.rcDo(t, http.MethodPost, "/api/v1/livechat/room.forward", creds, map[string]any{"roomId": rid}); st != http.StatusBadRequest {
		t.Fatalf("forward without a target: %d %v", st, m)
	}
}
