package rest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/crypto/bcrypt"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/mongostore/storetest"
	"github.com/chatbridge/chatbridge/rest"
)

// The Rocket.Chat realtime API on a running server, over real websockets:
// DDP clients beside LiveChat RTM clients on the same conversations.

// ddpWait bounds every wait for a DDP message.
const ddpWait = 10 * time.Second

// ddpClient is a test DDP connection. Every message the server sends is
// kept; waits take the first matching message not taken yet, so the order
// of unrelated messages does not matter. Server pings are answered.
type ddpClient struct {
	t    *testing.T
	c    *websocket.Conn
	wmu  sync.Mutex
	n    int
	mu   sync.Mutex
	msgs []map[string]any
	took []bool
	more chan struct{} // signaled on each new message and when the socket ends
	done bool
	// closeCode is the websocket close code the server sent, once done.
	closeCode int
}

func (e *env) dialDDP(t *testing.T, path string) *ddpClient {
	t.Helper()
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http") + path
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	d := &ddpClient{t: t, c: c, more: make(chan struct{}, 1)}
	go d.read()
	t.Cleanup(func() { c.Close() })
	return d
}

func (d *ddpClient) read() {
	defer func() {
		d.mu.Lock()
		d.done = true
		d.mu.Unlock()
		d.signal()
	}()
	for {
		_, msg, err := d.c.ReadMessage()
		if err != nil {
			if ce, ok := err.(*websocket.CloseError); ok {
				d.mu.Lock()
				d.closeCode = ce.Code
				d.mu.Unlock()
			}
			return
		}
		var m map[string]any
		if json.Unmarshal(msg, &m) != nil {
			continue
		}
		if m["msg"] == "ping" {
			pong := map[string]any{"msg": "pong"}
			if id, ok := m["id"]; ok {
				pong["id"] = id
			}
			d.send(pong)
			continue
		}
		d.mu.Lock()
		d.msgs = append(d.msgs, m)
		d.took = append(d.took, false)
		d.mu.Unlock()
		d.signal()
	}
}

func (d *ddpClient) signal() {
	select {
	case d.more <- struct{}{}:
	default:
	}
}

func (d *ddpClient) send(m map[string]any) {
	b, _ := json.Marshal(m)
	d.wmu.Lock()
	defer d.wmu.Unlock()
	_ = d.c.WriteMessage(websocket.TextMessage, b)
}

func (d *ddpClient) nextID() string {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	d.n++
	return strconv.Itoa(d.n)
}

// take waits for the first message matching ok that no wait took yet.
func (d *ddpClient) take(what string, ok func(map[string]any) bool) map[string]any {
	d.t.Helper()
	deadline := time.After(ddpWait)
	for {
		d.mu.Lock()
		for i, m := range d.msgs {
			if !d.took[i] && ok(m) {
				d.took[i] = true
				d.mu.Unlock()
				return m
			}
		}
		done := d.done
		d.mu.Unlock()
		if done {
			d.t.Fatalf("socket closed waiting for %s", what)
		}
		select {
		case <-d.more:
		case <-deadline:
			d.t.Fatalf("timed out waiting for %s; received: %v", what, d.all())
		}
	}
}

// absent fails if a message matching ok was received (call it after a
// later message has arrived, to be sure this one would have too).
func (d *ddpClient) absent(what string, ok func(map[string]any) bool) {
	d.t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, m := range d.msgs {
		if ok(m) {
			d.t.Fatalf("unexpected %s: %v", what, m)
		}
	}
}

func (d *ddpClient) all() []map[string]any {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.msgs)
}

func (d *ddpClient) connect() {
	d.t.Helper()
	d.send(map[string]any{"msg": "connect", "version": "1", "support": []string{"1", "pre2", "pre1"}})
	d.take("connected", func(m map[string]any) bool { return m["msg"] == "connected" })
}

// call runs a method and returns its result or error (after its `updated`).
func (d *ddpClient) call(method string, params ...any) (any, map[string]any) {
	d.t.Helper()
	if params == nil {
		params = []any{}
	}
	id := d.nextID()
	d.send(map[string]any{"msg": "method", "method": method, "params": params, "id": id})
	r := d.take("result of "+method, func(m map[string]any) bool { return m["msg"] == "result" && m["id"] == id })
	d.take("updated of "+method, func(m map[string]any) bool {
		ids, _ := m["methods"].([]any)
		return m["msg"] == "updated" && slices.Contains(ids, any(id))
	})
	e, _ := r["error"].(map[string]any)
	return r["result"], e
}

func (d *ddpClient) mustCall(method string, params ...any) any {
	d.t.Helper()
	r, e := d.call(method, params...)
	if e != nil {
		d.t.Fatalf("%s failed: %v", method, e)
	}
	return r
}

// callErr runs a method that must fail and returns its error code.
func (d *ddpClient) callErr(method string, params ...any) any {
	d.t.Helper()
	r, e := d.call(method, params...)
	if e == nil {
		d.t.Fatalf("%s succeeded with %v, want an error", method, r)
	}
	return e["error"]
}

// sub subscribes and returns the nosub error (nil when ready).
func (d *ddpClient) sub(name string, params ...any) map[string]any {
	d.t.Helper()
	id := "s" + d.nextID()
	if params == nil {
		params = []any{}
	}
	d.send(map[string]any{"msg": "sub", "id": id, "name": name, "params": params})
	m := d.take("ready or nosub of "+name, func(m map[string]any) bool {
		ids, _ := m["subs"].([]any)
		return m["msg"] == "ready" && slices.Contains(ids, any(id)) || m["msg"] == "nosub" && m["id"] == id
	})
	if m["msg"] == "nosub" {
		e, _ := m["error"].(map[string]any)
		if e == nil {
			e = map[string]any{}
		}
		return e
	}
	return nil
}

func (d *ddpClient) mustSub(name string, params ...any) {
	d.t.Helper()
	if e := d.sub(name, params...); e != nil {
		d.t.Fatalf("sub %s %v refused: %v", name, params, e)
	}
}

// stream waits for a stream event of collection/eventName whose args
// satisfy ok, and returns the args.
func (d *ddpClient) stream(collection, eventName string, ok func(args []any) bool) []any {
	d.t.Helper()
	m := d.take(collection+" "+eventName, func(m map[string]any) bool {
		f, _ := m["fields"].(map[string]any)
		if m["msg"] != "changed" || m["collection"] != collection || m["id"] != "id" || f["eventName"] != eventName {
			return false
		}
		args, _ := f["args"].([]any)
		return ok == nil || ok(args)
	})
	return m["fields"].(map[string]any)["args"].([]any)
}

func isStream(m map[string]any, collection, eventName string) bool {
	f, _ := m["fields"].(map[string]any)
	return m["msg"] == "changed" && m["collection"] == collection && f["eventName"] == eventName
}

func digest(password string) string {
	sum := sha256.Sum256([]byte(password))
	return hex.EncodeToString(sum[:])
}

// login signs in with a password digest and returns the user id and token.
func (d *ddpClient) login(username string) (uid, token string) {
	d.t.Helper()
	r := d.mustCall("login", map[string]any{"user": map[string]any{"username": username}, "password": map[string]any{"digest": digest(testPassword), "algorithm": "sha-256"}})
	m := r.(map[string]any)
	return m["id"].(string), m["token"].(string)
}

func (e *env) ddpAgent(t *testing.T, email string, groups ...int) (*livechat.Agent, *ddpClient, string) {
	t.Helper()
	in := livechat.AgentInput{Email: email, Password: testPassword}
	for _, g := range groups {
		in.Groups = append(in.Groups, livechat.GroupMembership{ID: g, Priority: "normal"})
	}
	a, err := e.svc.CreateAgent(t.Context(), livechat.System(), in)
	if err != nil {
		t.Fatal(err)
	}
	d := e.dialDDP(t, "/websocket")
	d.connect()
	uid, _ := d.login(a.Username)
	if uid != a.AccountID {
		t.Fatalf("login id = %s, want the account id %s", uid, a.AccountID)
	}
	return a, d, uid
}

func msgOf(args []any) map[string]any {
	if len(args) == 0 {
		return nil
	}
	m, _ := args[0].(map[string]any)
	return m
}

func TestDDPLoginAndTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a := e.createAgent(t, "ddp.login@example.com")

	// Failures first (Meteor's 403s, and 400 for unknown forms), each on its own
	// connection: login is limited to 5 calls per 10 s per connection.
	for _, tc := range []struct {
		name   string
		params map[string]any
		code   any
	}{
		{"unknown user", map[string]any{"user": map[string]any{"username": "nobody"}, "password": map[string]any{"digest": digest("x"), "algorithm": "sha-256"}}, 403.0},
		{"wrong password", map[string]any{"user": map[string]any{"email": a.Email}, "password": map[string]any{"digest": digest("wrong-one"), "algorithm": "sha-256"}}, 403.0},
		{"wrong algorithm", map[string]any{"user": map[string]any{"email": a.Email}, "password": map[string]any{"digest": digest(testPassword), "algorithm": "md5"}}, 400.0},
		{"two user keys", map[string]any{"user": map[string]any{"email": a.Email, "username": a.Username}, "password": testPassword}, 400.0},
		{"unknown resume token", map[string]any{"resume": "not-a-token"}, 403.0},
		{"unrecognized", map[string]any{"ldap": true}, 400.0},
	} {
		d := e.dialDDP(t, "/websocket")
		d.connect()
		if code := d.callErr("login", tc.params); code != tc.code {
			t.Errorf("%s: error %v, want %v", tc.name, code, tc.code)
		}
	}
	d := e.dialDDP(t, "/websocket")
	d.connect()

	// Password digest by username: the users document comes before the result.
	id := d.nextID()
	d.send(map[string]any{"msg": "method", "method": "login", "id": id, "params": []any{map[string]any{
		"user": map[string]any{"username": a.Username}, "password": map[string]any{"digest": digest(testPassword), "algorithm": "sha-256"}}}})
	var order []string
	for len(order) < 2 {
		m := d.take("login answer", func(m map[string]any) bool {
			return m["msg"] == "added" && m["collection"] == "users" || m["msg"] == "result" && m["id"] == id
		})
		order = append(order, m["msg"].(string))
		if m["msg"] == "added" {
			if m["id"] != a.AccountID || m["fields"].(map[string]any)["username"] != a.Username {
				t.Fatalf("users added %v", m)
			}
			continue
		}
		res := m["result"].(map[string]any)
		exp, _ := res["tokenExpires"].(map[string]any)
		if res["id"] != a.AccountID || res["token"] == "" || res["type"] != "password" || exp == nil || exp["$date"] == nil {
			t.Fatalf("login result %v", res)
		}
		token := res["token"].(string)
		// A Rocket.Chat login token is a LiveChat Bearer token for the same agent.
		e.wantInfo(t, "Bearer "+token, a.ID)
		// ... and resumes a DDP session.
		d2 := e.dialDDP(t, "/websocket")
		d2.connect()
		r := d2.mustCall("login", map[string]any{"resume": token}).(map[string]any)
		if r["id"] != a.AccountID || r["token"] != token || r["type"] != "resume" {
			t.Fatalf("resume result %v", r)
		}
		// logout revokes it everywhere.
		d2.mustCall("logout")
		d2.take("users removed", func(m map[string]any) bool { return m["msg"] == "removed" && m["collection"] == "users" })
		if r := e.info(t, "Bearer "+token); r.status != http.StatusUnauthorized {
			t.Fatalf("/v2/info after logout: %d %s", r.status, r.body)
		}
	}
	if order[0] != "added" {
		t.Fatalf("order %v, want the users document before the result", order)
	}

	// A LiveChat access token resumes a DDP session; plain-text password by e-mail works too.
	tok := e.passwordGrant(t, a.Email, testPassword)["access_token"].(string)
	d3 := e.dialDDP(t, "/websocket")
	d3.connect()
	if r := d3.mustCall("login", map[string]any{"resume": tok}).(map[string]any); r["id"] != a.AccountID || r["token"] != tok {
		t.Fatalf("LiveChat token as resume: %v", r)
	}
	d4 := e.dialDDP(t, "/websocket")
	d4.connect()
	if r := d4.mustCall("login", map[string]any{"user": map[string]any{"email": a.Email}, "password": testPassword}).(map[string]any); r["id"] != a.AccountID {
		t.Fatalf("plain password login: %v", r)
	}
	if r := d4.mustCall("getNewToken").(map[string]any); r["token"] == "" || r["id"] != a.AccountID {
		t.Fatalf("getNewToken: %v", r)
	}
}

func TestDDPResumeTokenExpiry(t *testing.T) {
	t.Parallel()
	clock := livechat.NewFakeClock(time.Now())
	e := newEnv(t, clock)
	a := e.createAgent(t, "ddp.expiry@example.com")
	d := e.dialDDP(t, "/websocket")
	d.connect()
	_, token := d.login(a.Username)
	clock.Advance(livechat.DefaultResumeTokenTTL + time.Hour)
	d2 := e.dialDDP(t, "/websocket")
	d2.connect()
	_, err := d2.call("login", map[string]any{"resume": token})
	if err == nil || err["error"] != 403.0 || !strings.Contains(err["reason"].(string), "expired") {
		t.Fatalf("expired resume: %v", err)
	}
}

// crossEnv is one chat between a customer (Customer RTM), agent B (Agent
// RTM) and agent A (DDP).
type crossEnv struct {
	*env
	a, b       *livechat.Agent
	ddp        *ddpClient
	uid        string
	rtm        *rtmClient
	cust       *rtmClient
	custID     string
	chatID     string
	threadID   string
	customerID string
}

func newCrossEnv(t *testing.T) *crossEnv {
	t.Helper()
	e := newEnv(t, nil)
	x := &crossEnv{env: e}
	x.a, x.ddp, x.uid = e.ddpAgent(t, "ddp.ann@example.com")
	var err error
	x.b, err = e.svc.CreateAgent(t.Context(), livechat.System(), livechat.AgentInput{Email: "rtm.bob@example.com", Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	bt := e.passwordGrant(t, x.b.Email, testPassword)["access_token"].(string)
	x.rtm = e.dialRTM(t, "3.5")
	x.rtm.call("login", map[string]any{"token": "Bearer " + bt})
	cu := e.newCustomer(t)
	x.customerID = cu.id
	x.cust, _ = e.loginCustomer(t, cu)
	view, err := e.svc.StartChat(t.Context(), livechat.AgentActor(x.b), livechat.StartChatInput{CustomerID: cu.id, AgentIDs: []string{x.a.ID}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	x.chatID, x.threadID = view.Chat.ID, view.Thread.ID
	x.rtm.push("incoming_chat")
	x.cust.push("incoming_chat")
	return x
}

func TestDDPCrossProtocol(t *testing.T) {
	t.Parallel()
	x := newCrossEnv(t)
	d, rid, uid := x.ddp, x.chatID, x.uid
	d.mustSub("stream-room-messages", rid, false)
	d.mustSub("stream-room-messages", "__my_messages__", false)
	d.mustSub("stream-notify-room", rid+"/user-activity", false)
	d.mustSub("stream-notify-room", rid+"/typing", false)
	d.mustSub("stream-notify-room", rid+"/deleteMessage", map[string]any{"useCollection": false, "args": []any{}})
	d.mustSub("stream-notify-user", uid+"/rooms-changed", false)
	d.mustSub("stream-notify-user", uid+"/subscriptions-changed", false)
	d.mustSub("stream-notify-user", uid+"/notification", false)

	// The room and the subscription of the LiveChat chat.
	rooms := d.mustCall("rooms/get").([]any)
	if len(rooms) != 1 {
		t.Fatalf("rooms/get: %v", rooms)
	}
	r := rooms[0].(map[string]any)
	if r["_id"] != rid || r["t"] != "l" || r["open"] != true || r["v"].(map[string]any)["_id"] != x.customerID || r["servedBy"] == nil {
		t.Fatalf("room %v", r)
	}
	subs := d.mustCall("subscriptions/get").([]any)
	if len(subs) != 1 || subs[0].(map[string]any)["rid"] != rid || subs[0].(map[string]any)["u"].(map[string]any)["_id"] != uid {
		t.Fatalf("subscriptions/get: %v", subs)
	}
	delta := d.mustCall("rooms/get", map[string]any{"$date": 0}).(map[string]any)
	if u, _ := delta["update"].([]any); len(u) != 1 {
		t.Fatalf("rooms/get delta: %v", delta)
	}

	// A customer message over LiveChat RTM reaches the DDP subscriber, with the event id as _id.
	sent := x.cust.call("send_event", map[string]any{"chat_id": rid, "event": map[string]any{"type": "message", "text": "hello from LiveChat"}})
	eventID := sent["event_id"].(string)
	args := d.stream("stream-room-messages", rid, func(a []any) bool { return msgOf(a)["msg"] == "hello from LiveChat" })
	m := msgOf(args)
	if m["_id"] != eventID || m["rid"] != rid || m["u"].(map[string]any)["_id"] != x.customerID {
		t.Fatalf("message %v", m)
	}
	if ts, _ := m["ts"].(map[string]any); ts["$date"] == nil {
		t.Fatalf("ts is not an EJSON date: %v", m)
	}
	my := d.stream("stream-room-messages", "__my_messages__", func(a []any) bool { return msgOf(a)["_id"] == eventID })
	if extra := my[1].(map[string]any); extra["roomParticipant"] != true || extra["roomType"] != "l" {
		t.Fatalf("__my_messages__ %v", my)
	}
	d.stream("stream-notify-user", uid+"/rooms-changed", func(a []any) bool { return a[0] == "updated" && a[1].(map[string]any)["_id"] == rid })
	sub := d.stream("stream-notify-user", uid+"/subscriptions-changed", func(a []any) bool { return a[0] == "updated" })
	if s := sub[1].(map[string]any); s["unread"] != 1.0 || s["alert"] != true {
		t.Fatalf("subscription after a message: %v", s)
	}
	d.stream("stream-notify-user", uid+"/notification", func(a []any) bool {
		return a[0].(map[string]any)["payload"].(map[string]any)["_id"] == eventID
	})
	x.rtm.push("incoming_event")
	d.mustCall("readMessages", rid)
	d.stream("stream-notify-user", uid+"/subscriptions-changed", func(a []any) bool { return a[1].(map[string]any)["unread"] == 0.0 })

	// A DDP sendMessage (client-chosen _id) reaches the customer and the RTM agent as incoming_event.
	res := d.mustCall("sendMessage", map[string]any{"_id": "ddpClientMsg00001", "rid": rid, "msg": "hi from DDP"}).(map[string]any)
	if res["_id"] != "ddpClientMsg00001" || res["u"].(map[string]any)["_id"] != uid {
		t.Fatalf("sendMessage result %v", res)
	}
	for _, rc := range []*rtmClient{x.cust, x.rtm} {
		ev := rc.next("incoming_event from DDP", func(f map[string]any) bool {
			return f["action"] == "incoming_event" && payload(f)["event"].(map[string]any)["text"] == "hi from DDP"
		})
		if got := payload(ev)["event"].(map[string]any); got["id"] != "ddpClientMsg00001" || got["author_id"] != x.a.ID {
			t.Fatalf("incoming_event %v", got)
		}
	}
	// A retried sendMessage with the same _id stores nothing new.
	if r, e := d.call("sendMessage", map[string]any{"_id": "ddpClientMsg00001", "rid": rid, "msg": "hi from DDP"}); e != nil || r != nil {
		t.Fatalf("retried sendMessage: %v %v", r, e)
	}

	// History: newest first; the thread start is a livechat-started message with the thread id.
	h := d.mustCall("loadHistory", rid, nil, 50, nil).(map[string]any)
	msgs := h["messages"].([]any)
	var ids, types []any
	for _, m := range msgs {
		ids, types = append(ids, m.(map[string]any)["_id"]), append(types, m.(map[string]any)["t"])
	}
	if len(msgs) != 3 || ids[0] != "ddpClientMsg00001" || ids[1] != eventID || ids[2] != x.threadID || types[2] != "livechat-started" {
		t.Fatalf("loadHistory ids %v types %v", ids, types)
	}
	next := d.mustCall("loadNextMessages", rid, map[string]any{"$date": 0}, 10).(map[string]any)["messages"].([]any)
	if len(next) != 3 || next[0].(map[string]any)["_id"] != x.threadID {
		t.Fatalf("loadNextMessages %v", next)
	}

	// Typing both ways.
	x.rtm.call("send_typing_indicator", map[string]any{"chat_id": rid, "is_typing": true})
	ua := d.stream("stream-notify-room", rid+"/user-activity", nil)
	if ua[0] != x.b.Username || len(ua[1].([]any)) != 1 || ua[1].([]any)[0] != "user-typing" {
		t.Fatalf("user-activity %v", ua)
	}
	if ty := d.stream("stream-notify-room", rid+"/typing", nil); ty[0] != x.b.Username || ty[1] != true {
		t.Fatalf("typing %v", ty)
	}
	d.mustCall("stream-notify-room", rid+"/user-activity", x.a.Username, []string{"user-typing"}, map[string]any{})
	ti := x.rtm.push("incoming_typing_indicator")
	if ind := payload(ti)["typing_indicator"].(map[string]any); ind["author_id"] != x.a.ID || ind["is_typing"] != true {
		t.Fatalf("incoming_typing_indicator %v", ti)
	}
	// The customer typing (a sneak peek) shows as user-activity too.
	x.cust.call("send_sneak_peek", map[string]any{"chat_id": rid, "sneak_peek_text": "I am typ"})
	d.stream("stream-notify-room", rid+"/user-activity", func(a []any) bool { return a[0] == "guest-"+x.customerID })

	// Edit, react, delete: LiveChat clients see the event change; DDP the message.
	d.mustCall("updateMessage", map[string]any{"_id": "ddpClientMsg00001", "rid": rid, "msg": "hi from DDP (edited)"})
	upd := x.cust.push("event_updated")
	if got := payload(upd)["event"].(map[string]any); got["text"] != "hi from DDP (edited)" {
		t.Fatalf("event_updated %v", upd)
	}
	edited := msgOf(d.stream("stream-room-messages", rid, func(a []any) bool { return msgOf(a)["msg"] == "hi from DDP (edited)" }))
	if edited["editedAt"] == nil || edited["editedBy"].(map[string]any)["_id"] != uid {
		t.Fatalf("edited message %v", edited)
	}
	if code := d.callErr("updateMessage", map[string]any{"_id": eventID, "rid": rid, "msg": "not mine"}); code != "error-action-not-allowed" {
		t.Fatalf("editing another's message: %v", code)
	}
	d.mustCall("setReaction", ":thumbsup:", eventID)
	reacted := msgOf(d.stream("stream-room-messages", rid, func(a []any) bool { return msgOf(a)["reactions"] != nil }))
	if us := reacted["reactions"].(map[string]any)[":thumbsup:"].(map[string]any)["usernames"].([]any); len(us) != 1 || us[0] != x.a.Username {
		t.Fatalf("reactions %v", reacted)
	}
	x.rtm.push("event_properties_updated")
	d.mustCall("deleteMessage", map[string]any{"_id": "ddpClientMsg00001"})
	if del := d.stream("stream-notify-room", rid+"/deleteMessage", nil); del[0].(map[string]any)["_id"] != "ddpClientMsg00001" {
		t.Fatalf("deleteMessage %v", del)
	}
	h = d.mustCall("loadHistory", rid, nil, 50, nil).(map[string]any)
	if n := len(h["messages"].([]any)); n != 2 {
		t.Fatalf("history after delete has %d messages, want 2", n)
	}

	// Members, single messages, and the messages around one.
	members := d.mustCall("getUsersOfRoom", rid, true).(map[string]any)
	if members["total"] != 3.0 {
		t.Fatalf("getUsersOfRoom: %v", members)
	}
	if one := d.mustCall("getSingleMessage", eventID).(map[string]any); one["msg"] != "hello from LiveChat" {
		t.Fatalf("getSingleMessage: %v", one)
	}
	around := d.mustCall("loadSurroundingMessages", map[string]any{"_id": eventID, "rid": rid, "ts": msgOf(args)["ts"]}, 10).(map[string]any)
	if ms := around["messages"].([]any); len(ms) != 2 || ms[1].(map[string]any)["_id"] != eventID {
		t.Fatalf("loadSurroundingMessages: %v", around)
	}
	if missed := d.mustCall("loadMissedMessages", rid, map[string]any{"$date": 0}).([]any); len(missed) != 2 {
		t.Fatalf("loadMissedMessages: %v", missed)
	}

	// Closing the thread over LiveChat closes the room for the DDP client.
	x.rtm.call("deactivate_chat", map[string]any{"id": rid})
	closed := d.stream("stream-notify-user", uid+"/rooms-changed", func(a []any) bool {
		return a[0] == "updated" && a[1].(map[string]any)["open"] == nil
	})
	if closed[1].(map[string]any)["closedAt"] == nil {
		t.Fatalf("closed room %v", closed)
	}
	d.stream("stream-room-messages", rid, func(a []any) bool { return msgOf(a)["t"] == "livechat-close" })
	d.stream("stream-notify-user", uid+"/subscriptions-changed", func(a []any) bool { return a[0] == "removed" })
	if code := d.callErr("sendMessage", map[string]any{"rid": rid, "msg": "too late"}); code != "room-closed" {
		t.Fatalf("sendMessage to a closed room: %v", code)
	}
	if rooms := d.mustCall("rooms/get").([]any); len(rooms) != 0 {
		t.Fatalf("rooms/get after close: %v", rooms)
	}
}

func TestDDPRoomAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := t.Context()
	g, err := e.svc.CreateGroup(ctx, livechat.System(), "Sales", "en")
	if err != nil {
		t.Fatal(err)
	}
	sales, ds, sUID := e.ddpAgent(t, "sales@example.com", g.ID)
	_, do, oUID := e.ddpAgent(t, "other@example.com")
	cust, err := e.svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{})
	if err != nil {
		t.Fatal(err)
	}
	view, err := e.svc.StartChat(ctx, livechat.AgentActor(sales), livechat.StartChatInput{CustomerID: cust.ID, Active: true, Access: &livechat.Access{GroupIDs: []int{g.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	rid := view.Chat.ID
	ds.mustSub("stream-room-messages", "__my_messages__", false)
	do.mustSub("stream-room-messages", "__my_messages__", false)

	if rooms := ds.mustCall("rooms/get").([]any); len(rooms) != 1 {
		t.Fatalf("sales agent rooms: %v", rooms)
	}
	if rooms := do.mustCall("rooms/get").([]any); len(rooms) != 0 {
		t.Fatalf("other agent sees %v", rooms)
	}
	if e := do.sub("stream-room-messages", rid, false); e == nil || e["error"] != "not-allowed" {
		t.Fatalf("room stream without access: %v", e)
	}
	if e := do.sub("stream-notify-room", rid+"/typing", false); e == nil || e["error"] != "not-allowed" {
		t.Fatalf("notify-room without access: %v", e)
	}
	if e := do.sub("stream-notify-user", sUID+"/rooms-changed", false); e == nil || e["error"] != "not-allowed" {
		t.Fatalf("another user's stream: %v", e)
	}
	if r := do.mustCall("loadHistory", rid, nil, 20, nil); r != false {
		t.Fatalf("loadHistory without access: %v", r)
	}
	if code := do.callErr("getRoomById", rid); code != "error-not-allowed" {
		t.Fatalf("getRoomById without access: %v", code)
	}
	if code := do.callErr("sendMessage", map[string]any{"rid": rid, "msg": "x"}); code != "error-not-allowed" {
		t.Fatalf("sendMessage without access: %v", code)
	}
	if r := do.mustCall("canAccessRoom", rid, oUID); r != false {
		t.Fatalf("canAccessRoom: %v", r)
	}
	// A message in the chat reaches the agent with access, not the other.
	ds.mustCall("sendMessage", map[string]any{"rid": rid, "msg": "sales only"})
	ds.stream("stream-room-messages", "__my_messages__", func(a []any) bool { return msgOf(a)["msg"] == "sales only" })
	ds.mustCall("sendMessage", map[string]any{"rid": rid, "msg": "second"})
	ds.stream("stream-room-messages", "__my_messages__", func(a []any) bool { return msgOf(a)["msg"] == "second" })
	do.mustCall("rooms/get") // a round trip after both messages
	do.absent("a message of a chat without access", func(m map[string]any) bool { return isStream(m, "stream-room-messages", "__my_messages__") })
	// Unknown methods and subscriptions answer 404; unsupported ones say so.
	if code := do.callErr("noSuchMethod"); code != 404.0 {
		t.Fatalf("unknown method: %v", code)
	}
	if e := do.sub("noSuchPublication"); e["error"] != 404.0 {
		t.Fatalf("unknown publication: %v", e)
	}
	if code := do.callErr("createChannel", "general", []string{}); code != "error-not-allowed" {
		t.Fatalf("createChannel: %v", code)
	}
}

func TestDDPStartupCatalog(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a, d, uid := e.ddpAgent(t, "boot@example.com")
	for _, name := range []string{"meteor.loginServiceConfiguration", "meteor_autoupdate_clientVersions"} {
		d.mustSub(name)
	}
	d.mustSub("stream-notify-logged", "user-status", false)
	d.mustSub("stream-notify-all", "public-settings-changed", false)
	settings := d.mustCall("public-settings/get").([]any)
	found := map[string]any{}
	for _, s := range settings {
		m := s.(map[string]any)
		found[m["_id"].(string)] = m["value"]
	}
	if found["Message_MaxAllowedSize"] != float64(livechat.MaxMessageText) || found["Livechat_enabled"] != true {
		t.Fatalf("public settings %v", found)
	}
	if dl := d.mustCall("public-settings/get", map[string]any{"$date": 0}).(map[string]any); len(dl["update"].([]any)) != len(settings) {
		t.Fatalf("settings delta %v", dl)
	}
	if p := d.mustCall("permissions/get").([]any); len(p) == 0 || p[0].(map[string]any)["roles"] == nil {
		t.Fatalf("permissions %v", p)
	}
	roles := d.mustCall("getUserRoles").([]any)
	if len(roles) == 0 {
		t.Fatalf("getUserRoles %v", roles)
	}
	if r := d.mustCall("UserPresence:setDefaultStatus", "away"); r != true {
		t.Fatalf("setDefaultStatus %v", r)
	}
	d.mustCall("UserPresence:online")
	// Accepting chats shows as user-status online to logged users.
	d.mustCall("livechat:changeLivechatStatus", map[string]any{"status": "available"})
	st := d.stream("stream-notify-logged", "user-status", func(args []any) bool {
		u := args[0].([]any)
		return u[0] == uid && u[2] == 1.0
	})
	if st[0].([]any)[1] != a.Username {
		t.Fatalf("user-status %v", st)
	}
	if r := d.mustCall("listEmojiCustom").([]any); len(r) != 0 {
		t.Fatalf("listEmojiCustom %v", r)
	}
}

func TestDDPVisitorAndInquiries(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, ag, uid := e.ddpAgent(t, "omni@example.com")
	ag.mustSub("livechat:inquiry")
	ag.mustSub("stream-livechat-inquiry-queue-observer", "public", false)
	ag.mustSub("stream-notify-user", uid+"/subscriptions-changed", false)

	// A visitor: no login, a token its widget made, a room id it chose.
	v := e.dialDDP(t, "/websocket")
	v.connect()
	token, rid := "visitorTokenABCDEFG", "visitorRoomId0001"
	g := v.mustCall("livechat:registerGuest", map[string]any{"token": token, "name": "Vera Visitor", "email": "vera@example.com"}).(map[string]any)
	vid := g["userId"].(string)
	if vis := g["visitor"].(map[string]any); vis["token"] != token || vis["username"] != "guest-"+vid || vis["name"] != "Vera Visitor" {
		t.Fatalf("registerGuest %v", g)
	}
	extra := map[string]any{"useCollection": false, "args": []any{map[string]any{"token": token, "visitorToken": token}}}
	v.mustSub("stream-room-messages", rid, extra)
	v.mustSub("stream-livechat-room", rid, extra)
	v.mustSub("stream-notify-room", rid+"/user-activity", extra)
	if e := v.sub("stream-room-messages", rid, map[string]any{"args": []any{map[string]any{"token": "wrongTokenXYZ123"}}}); e == nil {
		t.Fatal("a wrong visitor token subscribed")
	}
	init := v.mustCall("livechat:getInitialData", token).(map[string]any)
	if init["enabled"] != true || init["visitor"] == nil || init["room"] != nil {
		t.Fatalf("getInitialData %v", init)
	}

	// The first message creates the chat with the widget's room id; nobody accepts chats: it is queued.
	res := v.mustCall("sendMessageLivechat", map[string]any{"_id": "visitorMsg0000001", "rid": rid, "msg": "Can someone help?", "token": token}).(map[string]any)
	if res["_id"] != "visitorMsg0000001" || res["rid"] != rid || res["newRoom"] != true {
		t.Fatalf("sendMessageLivechat %v", res)
	}
	v.stream("stream-room-messages", rid, func(a []any) bool { return msgOf(a)["_id"] == "visitorMsg0000001" })
	chat, err := e.svc.ReadChat(t.Context(), livechat.System(), rid)
	if err != nil || chat.CustomerID != vid {
		t.Fatalf("chat %s: %v %v", rid, chat, err)
	}
	inq := ag.take("inquiry added", func(m map[string]any) bool {
		return m["msg"] == "added" && m["collection"] == "rocketchat_livechat_inquiry"
	})
	inqID := inq["id"].(string)
	if f := inq["fields"].(map[string]any); f["rid"] != rid || f["status"] != "queued" || f["message"] != "" && f["message"] != "Can someone help?" {
		t.Fatalf("inquiry %v", inq)
	}
	ag.stream("stream-livechat-inquiry-queue-observer", "public", func(a []any) bool { return a[0].(map[string]any)["type"] == "added" })

	// The agent takes it: the inquiry goes, the visitor hears who serves it, the agent gets the subscription.
	ag.mustCall("livechat:takeInquiry", inqID)
	ag.take("inquiry removed", func(m map[string]any) bool {
		return m["msg"] == "removed" && m["collection"] == "rocketchat_livechat_inquiry" && m["id"] == inqID
	})
	ag.stream("stream-notify-user", uid+"/subscriptions-changed", func(a []any) bool { return a[1].(map[string]any)["rid"] == rid })
	ad := v.stream("stream-livechat-room", rid, func(a []any) bool { return a[0].(map[string]any)["type"] == "agentData" })
	if ad[0].(map[string]any)["data"].(map[string]any)["_id"] != uid {
		t.Fatalf("agentData %v", ad)
	}
	if code := ag.callErr("livechat:takeInquiry", inqID); code != "error-inquiry-taken" {
		t.Fatalf("second take: %v", code)
	}
	// A transfer to an agent who is not connected fails; returned to the queue, it is an inquiry again.
	offline := e.createAgent(t, "offline.omni@example.com")
	if code := ag.callErr("livechat:transfer", map[string]any{"roomId": rid, "userId": offline.AccountID}); code != "error-agent-offline" {
		t.Fatalf("transfer to an offline agent: %v", code)
	}
	if r := ag.mustCall("livechat:returnAsInquiry", rid); r != true {
		t.Fatalf("returnAsInquiry: %v", r)
	}
	ag.take("inquiry added again", func(m map[string]any) bool {
		return m["msg"] == "added" && m["collection"] == "rocketchat_livechat_inquiry" && m["id"] == inqID
	})
	ag.mustCall("livechat:takeInquiry", inqID)
	ag.take("inquiry removed again", func(m map[string]any) bool {
		return m["msg"] == "removed" && m["collection"] == "rocketchat_livechat_inquiry" && m["id"] == inqID
	})

	// Both ways in the room; typing from the agent reaches the visitor.
	ag.mustSub("stream-room-messages", rid, false)
	ag.mustCall("sendMessage", map[string]any{"rid": rid, "msg": "Sure, how can I help?"})
	v.stream("stream-room-messages", rid, func(a []any) bool { return msgOf(a)["msg"] == "Sure, how can I help?" })
	v.mustCall("sendMessageLivechat", map[string]any{"_id": "visitorMsg0000002", "rid": rid, "msg": "Thanks", "token": token})
	ag.stream("stream-room-messages", rid, func(a []any) bool { return msgOf(a)["_id"] == "visitorMsg0000002" })
	ag.mustCall("stream-notify-room", rid+"/user-activity", "omni.example.com", []string{"user-typing"}, map[string]any{})
	v.stream("stream-notify-room", rid+"/user-activity", nil)
	hist := v.mustCall("livechat:loadHistory", map[string]any{"token": token, "rid": rid, "limit": 10}).(map[string]any)
	if n := len(hist["messages"].([]any)); n < 3 {
		t.Fatalf("visitor history: %v", hist)
	}

	// The visitor closes: the agent's subscription goes.
	if r := v.mustCall("livechat:closeByVisitor", map[string]any{"roomId": rid, "token": token}); r != true {
		t.Fatalf("closeByVisitor %v", r)
	}
	ag.stream("stream-notify-user", uid+"/subscriptions-changed", func(a []any) bool { return a[0] == "removed" })
	v.stream("stream-room-messages", rid, func(a []any) bool { return msgOf(a)["t"] == "livechat-close" })
	// Writing again reopens the same room in a new thread.
	res = v.mustCall("sendMessageLivechat", map[string]any{"_id": "visitorMsg0000003", "rid": rid, "msg": "One more thing", "token": token}).(map[string]any)
	if res["newRoom"] != false || res["rid"] != rid {
		t.Fatalf("message after close %v", res)
	}
	if code := v.callErr("sendMessageLivechat", map[string]any{"_id": "x1", "rid": rid, "msg": "x", "token": "unknownVisitorToken"}); code != "invalid-token" {
		t.Fatalf("unknown token: %v", code)
	}
	// An offline message becomes an inactive chat.
	if _, e := v.call("livechat:sendOfflineMessage", map[string]any{"name": "Olga", "email": "olga@example.com", "message": "Call me"}); e != nil {
		t.Fatalf("sendOfflineMessage %v", e)
	}
	// The agent closes the reopened room.
	ag.mustCall("livechat:closeRoom", rid, "done")
}

func TestDDPSockJS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a := e.createAgent(t, "sockjs.ddp@example.com")
	r := e.do(t, request{path: "/sockjs/info?cb=abc"})
	if r.status != http.StatusOK || r.object(t)["websocket"] != true {
		t.Fatalf("/sockjs/info: %d %s", r.status, r.body)
	}
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/sockjs/123/abcdefgh/websocket"
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(ddpWait))
	read := func() string {
		t.Helper()
		_, m, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return string(m)
	}
	if f := read(); f != "o" {
		t.Fatalf("first frame %q", f)
	}
	frame := func(msgs ...map[string]any) {
		var ss []string
		for _, m := range msgs {
			b, _ := json.Marshal(m)
			ss = append(ss, string(b))
		}
		b, _ := json.Marshal(ss)
		if err := c.WriteMessage(websocket.TextMessage, b); err != nil {
			t.Fatal(err)
		}
	}
	frame(map[string]any{"msg": "connect", "version": "1", "support": []string{"1"}},
		map[string]any{"msg": "method", "method": "login", "id": "1", "params": []any{map[string]any{
			"user": map[string]any{"username": a.Username}, "password": map[string]any{"digest": digest(testPassword), "algorithm": "sha-256"}}}})
	var got []map[string]any
	for !slices.ContainsFunc(got, func(m map[string]any) bool { return m["msg"] == "result" }) {
		f := read()
		if f == "h" {
			continue
		}
		if !strings.HasPrefix(f, "a[") {
			t.Fatalf("frame %q", f)
		}
		var ss []string
		if err := json.Unmarshal([]byte(f[1:]), &ss); err != nil {
			t.Fatalf("frame %q: %v", f, err)
		}
		for _, s := range ss {
			var m map[string]any
			if err := json.Unmarshal([]byte(s), &m); err != nil {
				t.Fatalf("message %q: %v", s, err)
			}
			got = append(got, m)
		}
	}
	if got[0]["msg"] != "connected" {
		t.Fatalf("first message %v", got[0])
	}
	res := got[len(got)-1]
	if res["error"] != nil || res["result"].(map[string]any)["id"] != a.AccountID {
		t.Fatalf("login over SockJS: %v", got)
	}
}

func TestDDPShutdown(t *testing.T) {
	t.Parallel()
	store := storetest.Open(t)
	hub := livechat.NewHub(livechat.HubConfig{})
	t.Cleanup(hub.Close)
	svc, err := livechat.NewService(t.Context(), livechat.Config{Store: store, Publisher: hub, PasswordCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	s, err := rest.NewServer(rest.Config{Service: svc, Store: store, Hub: hub})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	e := &env{svc: svc, store: store, srv: srv}
	_, d, _ := e.ddpAgent(t, "shutdown@example.com")
	ctx, cancel := context.WithTimeout(context.Background(), ddpWait)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	deadline := time.Now().Add(ddpWait)
	for {
		d.mu.Lock()
		done, code := d.done, d.closeCode
		d.mu.Unlock()
		if done {
			if code != websocket.CloseGoingAway {
				t.Fatalf("close code %d, want %d", code, websocket.CloseGoingAway)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("DDP session still open after Shutdown")
		}
		select {
		case <-d.more:
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestDDPLegacyVisitorMethods: the older visitor helpers — loginByToken,
// getAgentData, getNextAgent, pageVisited, setCustomField — answer as
// their REST endpoints, and a visitor reaches only its own room.
func TestDDPLegacyVisitorMethods(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, ag, uid := e.ddpAgent(t, "legacy.omni@example.com")
	ag.mustCall("livechat:changeLivechatStatus", map[string]any{"status": "available"})
	ag.mustSub("stream-notify-user", uid+"/subscriptions-changed", false)

	v := e.dialDDP(t, "/websocket")
	v.connect()
	token, rid := "legacyVisitorTok01", "legacyVisitorRoom1"
	g := v.mustCall("livechat:registerGuest", map[string]any{"token": token, "name": "Lea Legacy"}).(map[string]any)
	vid := g["userId"].(string)
	if r := v.mustCall("livechat:loginByToken", token).(map[string]any); r["_id"] != vid {
		t.Fatalf("loginByToken %v", r)
	}
	if code := v.callErr("livechat:loginByToken", "noSuchToken00001"); code != "invalid-token" {
		t.Fatalf("loginByToken with an unknown token: %v", code)
	}
	if next := v.mustCall("livechat:getNextAgent", map[string]any{"token": token}).(map[string]any); next["_id"] != uid {
		t.Fatalf("getNextAgent %v", next)
	}
	if r, _ := v.call("livechat:getAgentData", map[string]any{"roomId": rid, "token": token}); r != nil {
		t.Fatalf("getAgentData before the room exists: %v", r)
	}
	v.mustCall("sendMessageLivechat", map[string]any{"_id": "legacyVisitorMsg01", "rid": rid, "msg": "Hello", "token": token})
	ag.stream("stream-notify-user", uid+"/subscriptions-changed", func(a []any) bool { return a[1].(map[string]any)["rid"] == rid })
	if a := v.mustCall("livechat:getAgentData", map[string]any{"roomId": rid, "token": token}).(map[string]any); a["_id"] != uid {
		t.Fatalf("getAgentData %v", a)
	}
	page := v.mustCall("livechat:pageVisited", token, rid, map[string]any{"change": "url", "title": "Pricing", "location": map[string]any{"href": "https://shop.example/pricing"}})
	if p, _ := page.(map[string]any); p == nil || p["navigation"] == nil {
		t.Fatalf("pageVisited %v", page)
	}
	if r := v.mustCall("livechat:setCustomField", token, "plan", "gold", true); r != true {
		t.Fatalf("setCustomField %v", r)
	}
	cust, err := e.svc.VisitorByToken(t.Context(), token)
	if err != nil || cust.LastVisit == nil || len(cust.LastVisit.LastPages) == 0 || len(cust.SessionFields) == 0 || cust.SessionFields[0]["plan"] != "gold" {
		t.Fatalf("visitor after the legacy calls: %+v %v", cust, err)
	}
	if code := v.callErr("livechat:setCustomField", token, "", "x"); code != "invalid-params" {
		t.Fatalf("setCustomField without a key: %v", code)
	}

	// Another visitor learns nothing about this room.
	o := e.dialDDP(t, "/websocket")
	o.connect()
	o.mustCall("livechat:registerGuest", map[string]any{"token": "otherLegacyTok01", "name": "Otto"})
	if r, err := o.call("livechat:getAgentData", map[string]any{"roomId": rid, "token": "otherLegacyTok01"}); r != nil && err == nil {
		t.Fatalf("another visitor got the room's agent: %v", r)
	}
}
