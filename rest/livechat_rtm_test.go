package rest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/crypto/bcrypt"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/mongostore/storetest"
	"github.com/chatbridge/chatbridge/rest"
)

// newRTMEnv is newEnv with RTM timers of the test's choosing.
func newRTMEnv(t *testing.T, tuning rest.RTMTuning) *env {
	t.Helper()
	store := storetest.Open(t)
	hub := livechat.NewHub(livechat.HubConfig{})
	t.Cleanup(hub.Close)
	svc, err := livechat.NewService(t.Context(), livechat.Config{Store: store, Publisher: hub, PasswordCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	s, err := rest.NewServer(rest.Config{Service: svc, Store: store, Hub: hub, RTM: tuning})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &env{svc: svc, store: store, srv: srv}
}

// rtmClient is a test RTM connection that records every frame it reads.
type rtmClient struct {
	t      *testing.T
	c      *websocket.Conn
	frames chan map[string]any
	n      int
}

func (e *env) dialRTM(t *testing.T, version string) *rtmClient {
	t.Helper()
	return e.dialRTMPath(t, "/v"+version+"/agent/rtm/ws", 256)
}

// dialRTMPath opens an RTM websocket at path and reads its frames into a
// channel of room buffered frames.
func (e *env) dialRTMPath(t *testing.T, path string, room int) *rtmClient {
	t.Helper()
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http") + path
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	rc := &rtmClient{t: t, c: c, frames: make(chan map[string]any, room)}
	go func() {
		defer close(rc.frames)
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			var m map[string]any
			if json.Unmarshal(msg, &m) == nil {
				rc.frames <- m
			}
		}
	}()
	t.Cleanup(func() { c.Close() })
	return rc
}

func (rc *rtmClient) send(action string, payload any) string {
	rc.t.Helper()
	rc.n++
	id := "r" + strings.Repeat("x", rc.n%3) + string(rune('a'+rc.n%26))
	b, _ := json.Marshal(map[string]any{"action": action, "payload": payload, "request_id": id})
	if err := rc.c.WriteMessage(websocket.TextMessage, b); err != nil {
		rc.t.Fatalf("write: %v", err)
	}
	return id
}

// next waits for a frame matching ok, skipping others.
func (rc *rtmClient) next(what string, ok func(map[string]any) bool) map[string]any {
	rc.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case f, open := <-rc.frames:
			if !open {
				rc.t.Fatalf("connection closed waiting for %s", what)
			}
			if ok(f) {
				return f
			}
		case <-deadline:
			rc.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (rc *rtmClient) response(id string) map[string]any {
	rc.t.Helper()
	return rc.next("response "+id, func(f map[string]any) bool { return f["type"] == "response" && f["request_id"] == id })
}

func (rc *rtmClient) push(action string) map[string]any {
	rc.t.Helper()
	return rc.next("push "+action, func(f map[string]any) bool { return f["type"] == "push" && f["action"] == action })
}

func (rc *rtmClient) call(action string, payload any) map[string]any {
	rc.t.Helper()
	r := rc.response(rc.send(action, payload))
	if r["success"] != true {
		rc.t.Fatalf("%s failed: %v", action, r["payload"])
	}
	return r["payload"].(map[string]any)
}

func errType(f map[string]any) string {
	p, _ := f["payload"].(map[string]any)
	e, _ := p["error"].(map[string]any)
	s, _ := e["type"].(string)
	return s
}

func TestAgentRTMLoginAndPushes(t *testing.T) {
	t.Parallel()
	e := newRTMEnv(t, rest.RTMTuning{})
	ctx := context.Background()
	for _, name := range []string{"Sales", "Support"} {
		if _, err := e.svc.CreateGroup(ctx, livechat.System(), name, ""); err != nil {
			t.Fatal(err)
		}
	}
	ann := e.agentBearer(t, "ann@example.com", 2)
	bob := e.agentBearer(t, "bob@example.com", 1)
	cust, err := e.svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{})
	if err != nil {
		t.Fatal(err)
	}

	rc := e.dialRTM(t, "3.5")
	// Before login: ping works, anything else is an authentication error; bad JSON is a validation error.
	if r := rc.response(rc.send("ping", nil)); r["success"] != true || r["action"] != "ping" {
		t.Fatalf("ping before login: %v", r)
	}
	if r := rc.response(rc.send("list_chats", map[string]any{})); errType(r) != "authentication" || r["action"] != "list_chats" {
		t.Fatalf("list_chats before login: %v", r)
	}
	if err := rc.c.WriteMessage(websocket.TextMessage, []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	if r := rc.next("validation error", func(f map[string]any) bool { return f["type"] == "response" }); errType(r) != "validation" {
		t.Fatalf("bad frame: %v", r)
	}
	if r := rc.response(rc.send("login", map[string]any{"token": "Bearer nope"})); errType(r) != "authentication" {
		t.Fatalf("bad token: %v", r)
	}
	// lc-sdk-js sends the token without its scheme.
	login := rc.call("login", map[string]any{"token": strings.TrimPrefix(ann, "Bearer ")})
	lic := login["license"].(map[string]any)
	if lic["organization_id"] != e.svc.Organization().OrganizationID || login["my_profile"].(map[string]any)["id"] != "ann@example.com" {
		t.Fatalf("login payload %v", login)
	}
	if _, ok := login["chats_summary"].([]any); !ok {
		t.Fatalf("chats_summary missing: %v", login)
	}
	rc.push("incoming_customers")

	// Ann starts a chat over RTM: the response comes before the incoming_chat push that carries its request_id.
	id := rc.send("start_chat", map[string]any{"chat": map[string]any{"access": map[string]any{"group_ids": []int{2}}, "users": []map[string]any{{"id": cust.ID, "type": "customer"}}}})
	first := rc.next("start_chat answer", func(f map[string]any) bool { return f["request_id"] == id })
	if first["type"] != "response" || first["success"] != true {
		t.Fatalf("first frame for the request: %v", first)
	}
	chatID := first["payload"].(map[string]any)["chat_id"].(string)
	push := rc.push("incoming_chat")
	if push["request_id"] != id || push["version"] != "3.5" || push["payload"].(map[string]any)["chat"].(map[string]any)["id"] != chatID {
		t.Fatalf("incoming_chat %v", push)
	}

	// Bob (another group, a Web API client) cannot write; Ann's chat gets events from the Web API and the RTM side sees them.
	wantError(t, e.action(t, bob, "3.5", "send_event", map[string]any{"chat_id": chatID, "event": map[string]any{"type": "message", "text": "x"}}), 403, "missing_access")
	r := e.action(t, ann, "3.5", "send_event", map[string]any{"chat_id": chatID, "event": map[string]any{"type": "message", "text": "from web"}})
	if r.status != 200 {
		t.Fatalf("send_event: %d %s", r.status, r.body)
	}
	ev := rc.push("incoming_event")
	if ev["request_id"] != nil || ev["payload"].(map[string]any)["event"].(map[string]any)["text"] != "from web" {
		t.Fatalf("incoming_event %v", ev)
	}

	// A second agent connected over RTM without access to the chat sees none of it.
	bc := e.dialRTM(t, "3.4")
	bc.call("login", map[string]any{"token": bob})
	rc.call("send_event", map[string]any{"chat_id": chatID, "event": map[string]any{"type": "message", "text": "rtm"}})
	rc.push("incoming_event")
	rc.call("update_chat_properties", map[string]any{"id": chatID, "properties": map[string]any{"test": map[string]any{"x": 1}}})
	rc.push("chat_properties_updated")
	rc.call("deactivate_chat", map[string]any{"id": chatID})
	rc.push("chat_deactivated")
	bc.call("ping", nil)
	select {
	case f := <-bc.frames:
		if f["type"] == "push" && f["action"] != "incoming_customers" {
			t.Fatalf("agent without access got %v", f)
		}
	default:
	}

	// The pushes filter of login is honoured: a socket subscribed only to chat_deactivated gets no incoming_event.
	fc := e.dialRTM(t, "3.5")
	fc.call("login", map[string]any{"token": ann, "pushes": map[string]any{"3.5": []string{"chat_deactivated"}}})
	rc.call("resume_chat", map[string]any{"chat": map[string]any{"id": chatID}})
	rc.call("send_event", map[string]any{"chat_id": chatID, "event": map[string]any{"type": "message", "text": "filtered"}})
	rc.call("deactivate_chat", map[string]any{"id": chatID})
	got := fc.push("chat_deactivated")
	if got["payload"].(map[string]any)["chat_id"] != chatID {
		t.Fatalf("filtered socket: %v", got)
	}

	// Unknown action and wrong version are errors; the socket stays usable.
	if r := rc.response(rc.send("no_such_action", nil)); errType(r) != "validation" {
		t.Fatalf("unknown action: %v", r)
	}
	b, _ := json.Marshal(map[string]any{"action": "list_chats", "request_id": "v", "version": "3.3"})
	_ = rc.c.WriteMessage(websocket.TextMessage, b)
	if r := rc.response("v"); errType(r) != "unsupported_version" {
		t.Fatalf("lower version: %v", r)
	}
	rc.call("list_chats", map[string]any{})
}

func TestAgentRTMDeadlines(t *testing.T) {
	t.Parallel()
	e := newRTMEnv(t, rest.RTMTuning{LoginTimeout: 300 * time.Millisecond, IdleTimeout: 400 * time.Millisecond, PingInterval: 100 * time.Millisecond, TickInterval: 20 * time.Millisecond})
	ann := e.agentBearer(t, "ann@example.com")

	// No login in time: agent_disconnected with connection_timeout, then the socket closes.
	rc := e.dialRTM(t, "3.5")
	if p := rc.push("agent_disconnected"); p["payload"].(map[string]any)["reason"] != "connection_timeout" {
		t.Fatalf("login deadline: %v", p)
	}
	for range rc.frames {
	}

	// A healthy client that only answers the server's control pings (gorilla answers while reading) stays up.
	ok := e.dialRTM(t, "3.5")
	ok.call("login", map[string]any{"token": ann})
	time.Sleep(time.Second) // the thing under test is staying up for longer than the idle timeout
	ok.call("list_chats", map[string]any{})

	// A client that stops reading (so never pongs) and sends nothing is dropped.
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/v3.5/agent/rtm/ws"
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetPingHandler(func(string) error { return nil }) // swallow pings: no pong
	b, _ := json.Marshal(map[string]any{"action": "login", "payload": map[string]any{"token": ann}, "request_id": "l"})
	_ = c.WriteMessage(websocket.TextMessage, b)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	sawDisconnect := false
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			break
		}
		if strings.Contains(string(msg), `"agent_disconnected"`) && strings.Contains(string(msg), "connection_timeout") {
			sawDisconnect = true
		}
	}
	if !sawDisconnect {
		t.Fatal("silent client not disconnected with connection_timeout")
	}
}

// TestAgentRTMOverSockJS logs in over the SockJS endpoint @livechat/chat-sdk uses.
func TestAgentRTMOverSockJS(t *testing.T) {
	t.Parallel()
	e := newRTMEnv(t, rest.RTMTuning{})
	ann := e.agentBearer(t, "ann@example.com")
	r := e.do(t, request{path: "/v3.4/agent/rtm/sjs/info?bh=x"})
	if r.status != 200 || r.object(t)["websocket"] != true {
		t.Fatalf("/info: %d %s", r.status, r.body)
	}
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/v3.4/agent/rtm/sjs/104/upvqznwx/websocket?bh=x"
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "o" {
		t.Fatalf("open frame %q %v", msg, err)
	}
	login, _ := json.Marshal(map[string]any{"request_id": "idm", "action": "login", "payload": map[string]any{"token": ann}})
	frame, _ := json.Marshal([]string{string(login), `{"action":"ping"}`})
	if err := c.WriteMessage(websocket.TextMessage, frame); err != nil {
		t.Fatal(err)
	}
	var sawLogin, sawPing bool
	for !(sawLogin && sawPing) {
		_, msg, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if len(msg) < 1 || msg[0] != 'a' {
			continue
		}
		var batch []string
		if err := json.Unmarshal(msg[1:], &batch); err != nil {
			t.Fatalf("a-frame %q: %v", msg, err)
		}
		for _, m := range batch {
			var f map[string]any
			_ = json.Unmarshal([]byte(m), &f)
			switch {
			case f["action"] == "login" && f["success"] == true:
				sawLogin = true
			case f["action"] == "ping" && f["type"] == "response":
				sawPing = true
			}
		}
	}
}

// TestAgentRTMCustomerMonitoring: "my" hears only of its own customers,
// "online" of every customer.
func TestAgentRTMCustomerMonitoring(t *testing.T) {
	t.Parallel()
	e := newRTMEnv(t, rest.RTMTuning{})
	ctx := context.Background()
	ann := e.agentBearer(t, "ann@example.com")
	mine, _ := e.svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{})
	other, _ := e.svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{})
	my := e.dialRTM(t, "3.5")
	my.call("login", map[string]any{"token": ann, "customer_monitoring_level": "my"})
	all := e.dialRTM(t, "3.5")
	all.call("login", map[string]any{"token": ann, "customer_monitoring_level": "online"})
	bad := e.dialRTM(t, "3.3")
	if r := bad.response(bad.send("login", map[string]any{"token": ann, "customer_monitoring_level": "highest_available"})); errType(r) != "validation" {
		t.Fatalf("3.3 highest_available: %v", r)
	}
	my.call("start_chat", map[string]any{"chat": map[string]any{"users": []map[string]any{{"id": mine.ID, "type": "customer"}}}})
	actor, _ := e.svc.Authenticate(ctx, ann)
	name := "Changed"
	for _, c := range []*livechat.Customer{other, mine} {
		if _, err := e.svc.UpdateCustomer(ctx, actor, c.ID, livechat.CustomerInput{Name: &name}); err != nil {
			t.Fatal(err)
		}
	}
	// "online" hears both, in order; "my" hears only its chat's customer.
	if p := all.push("customer_updated"); p["payload"].(map[string]any)["id"] != other.ID {
		t.Fatalf("online level: %v", p)
	}
	if p := my.push("customer_updated"); p["payload"].(map[string]any)["id"] != mine.ID {
		t.Fatalf("my level got another customer first: %v", p)
	}
}

// TestRTMTokenExpiry: an agent and a customer session end with
// access_token_expired when the token they logged in with expires; a
// personal access token without expiry keeps its session.
func TestRTMTokenExpiry(t *testing.T) {
	t.Parallel()
	store := storetest.Open(t)
	hub := livechat.NewHub(livechat.HubConfig{})
	t.Cleanup(hub.Close)
	svc, err := livechat.NewService(t.Context(), livechat.Config{Store: store, Publisher: hub, PasswordCost: bcrypt.MinCost,
		AgentTokenTTL: 2 * time.Second, CustomerTokenTTL: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s, err := rest.NewServer(rest.Config{Service: svc, Store: store, Hub: hub, RTM: rest.RTMTuning{TickInterval: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	e := &env{svc: svc, store: store, srv: srv}

	ann := e.agentBearer(t, "ann@example.com")
	a, err := svc.GetAgent(t.Context(), livechat.System(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	pat, _, err := svc.CreatePersonalAccessToken(t.Context(), livechat.AgentActor(a), a.ID, "cli", 0)
	if err != nil {
		t.Fatal(err)
	}
	rc := e.dialRTM(t, "3.5")
	rc.call("login", map[string]any{"token": ann})
	keep := e.dialRTM(t, "3.5")
	keep.call("login", map[string]any{"token": "Basic " + base64.StdEncoding.EncodeToString([]byte(a.AccountID+":"+pat))})
	cu := e.newCustomer(t)
	cust, _ := e.loginCustomer(t, cu)

	if p := rc.push("agent_disconnected"); p["payload"].(map[string]any)["reason"] != "access_token_expired" {
		t.Fatalf("agent: %v", p)
	}
	if p := cust.push("customer_disconnected"); p["payload"].(map[string]any)["reason"] != "access_token_expired" {
		t.Fatalf("customer: %v", p)
	}
	keep.call("list_chats", map[string]any{}) // still up: that token does not expire
}

// TestRTMTokenRevoked: DELETE /v2/token ends the sessions logged in with
// that token (access_token_revoked), agent or customer, and no other.
func TestRTMTokenRevoked(t *testing.T) {
	t.Parallel()
	e := newRTMEnv(t, rest.RTMTuning{TickInterval: 20 * time.Millisecond})
	first := e.agentBearer(t, "ann@example.com")
	a, err := e.svc.GetAgent(t.Context(), livechat.System(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	toks, err := e.svc.IssueAgentTokens(t.Context(), a, "second")
	if err != nil {
		t.Fatal(err)
	}
	second := "Bearer " + toks.AccessToken
	rc1 := e.dialRTM(t, "3.5")
	rc1.call("login", map[string]any{"token": first})
	rc2 := e.dialRTM(t, "3.5")
	rc2.call("login", map[string]any{"token": second})
	cu := e.newCustomer(t)
	cust, _ := e.loginCustomer(t, cu)

	if r := e.do(t, request{method: http.MethodDelete, path: "/v2/token", auth: first}); r.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if p := rc1.push("agent_disconnected"); p["payload"].(map[string]any)["reason"] != "access_token_revoked" {
		t.Fatalf("agent: %v", p)
	}
	rc2.call("list_chats", map[string]any{}) // the other token's session stays

	if r := e.do(t, request{method: http.MethodDelete, path: "/v2/token", auth: cu.bearer()}); r.status != http.StatusOK {
		t.Fatalf("revoke the customer's token: %d %s", r.status, r.body)
	}
	if p := cust.push("customer_disconnected"); p["payload"].(map[string]any)["reason"] != "access_token_revoked" {
		t.Fatalf("customer: %v", p)
	}
}
