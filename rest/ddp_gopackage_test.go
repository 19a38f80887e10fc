package rest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gopackage/ddp"
)

// The unmodified Go DDP client github.com/gopackage/ddp against the bridge's
// /websocket: password-digest and resume logins, rooms/get, loadHistory,
// sendMessage, subscriptions and typing, beside LiveChat RTM clients.
//
// Library limits this test works within:
//   - Connect returns before "connected": wait for the ConnectionListener.
//   - Stream events ("changed" for an id never "added") are dropped by its
//     KeyCache and Collection has unexported methods, so a caller cannot
//     see stream-room-messages / stream-notify-room pushes. The test checks
//     that its subscriptions get "ready" and that the pushes are sent (on
//     the test's raw DDP connection, subscribed the same way).
//   - It is not goroutine-safe: everything is set up before Connect, it is
//     never closed from the test (the server's shutdown ends it), and the
//     heartbeat/reconnect timers are pushed out of the test's lifetime.

type gpConnected chan struct{}

func (c gpConnected) Connected() {
	select {
	case c <- struct{}{}:
	default:
	}
}

func dialGopackage(t *testing.T, e *env) *ddp.Client {
	t.Helper()
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/websocket"
	c := ddp.NewClient(url, e.srv.URL)
	c.HeartbeatInterval = time.Hour
	c.ReconnectInterval = time.Hour
	connected := make(gpConnected, 1)
	c.AddConnectionListener(connected)
	// Create the collections now: the library's collection map has no lock.
	c.CollectionByName("stream-room-messages")
	c.CollectionByName("stream-notify-room")
	if err := c.Connect(); err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	select {
	case <-connected:
	case <-time.After(ddpWait):
		t.Fatal("gopackage/ddp: no connected")
	}
	if c.Session() == "" || c.Version() != "1" {
		t.Fatalf("session %q version %q", c.Session(), c.Version())
	}
	return c
}

// gpCall is Client.Call with a deadline.
func gpCall(t *testing.T, c *ddp.Client, method string, args ...any) any {
	t.Helper()
	select {
	case call := <-c.Go(method, make(chan *ddp.Call, 1), args...).Done:
		if call.Error != nil {
			t.Fatalf("%s: %v", method, call.Error)
		}
		return call.Reply
	case <-time.After(ddpWait):
		t.Fatalf("%s: no result", method)
	}
	return nil
}

// gpSub is Client.Sub with a deadline.
func gpSub(t *testing.T, c *ddp.Client, name string, args ...any) {
	t.Helper()
	select {
	case call := <-c.Subscribe(name, make(chan *ddp.Call, 1), args...).Done:
		if call.Error != nil {
			t.Fatalf("sub %s %v: %v", name, args, call.Error)
		}
	case <-time.After(ddpWait):
		t.Fatalf("sub %s %v: no ready", name, args)
	}
}

func TestGopackageDDP(t *testing.T) {
	t.Parallel()
	x := newCrossEnv(t)
	rid := x.chatID

	// Password digest login: {user:{email}, password:{digest, algorithm:"sha-256"}}.
	g := dialGopackage(t, x.env)
	login := ddp.NewEmailLogin(x.a.Email, testPassword)
	if login.Password.Algorithm != "sha-256" || login.Password.Digest != digest(testPassword) {
		t.Fatalf("library login %+v", login.Password)
	}
	lr, _ := gpCall(t, g, "login", login).(map[string]any)
	if lr["id"] != x.uid || lr["token"] == nil || lr["token"] == "" {
		t.Fatalf("login %v", lr)
	}
	if exp, _ := lr["tokenExpires"].(map[string]any); exp["$date"] == nil {
		t.Fatalf("tokenExpires %v", lr)
	}
	token := lr["token"].(string)

	// A second client resumes with the token.
	g2 := dialGopackage(t, x.env)
	if g2.Session() == g.Session() {
		t.Fatalf("same session %q", g.Session())
	}
	rr, _ := gpCall(t, g2, "login", ddp.NewLoginResume(token)).(map[string]any)
	if rr["id"] != x.uid || rr["token"] != token {
		t.Fatalf("resume %v", rr)
	}

	// rooms/get: the LiveChat chat.
	rooms, _ := gpCall(t, g2, "rooms/get").([]any)
	if len(rooms) != 1 {
		t.Fatalf("rooms/get %v", rooms)
	}
	if r, _ := rooms[0].(map[string]any); r["_id"] != rid || r["t"] != "l" {
		t.Fatalf("room %v", r)
	}

	// Subscriptions get "ready" through the library; the raw client takes the same pushes.
	gpSub(t, g, "stream-room-messages", rid, false)
	gpSub(t, g, "stream-notify-room", rid+"/typing", false)
	gpSub(t, g, "stream-notify-room", rid+"/user-activity", false)
	x.ddp.mustSub("stream-room-messages", rid, false)
	x.ddp.mustSub("stream-notify-room", rid+"/typing", false)

	// receive: a customer message through the core is pushed to room subscribers.
	sent := x.cust.call("send_event", map[string]any{"chat_id": rid, "event": map[string]any{"type": "message", "text": "hello gopackage"}})
	eventID := sent["event_id"].(string)
	if m := msgOf(x.ddp.stream("stream-room-messages", rid, func(a []any) bool { return msgOf(a)["_id"] == eventID })); m["msg"] != "hello gopackage" {
		t.Fatalf("pushed message %v", m)
	}

	// send: sendMessage reaches the customer and the RTM agent.
	res, _ := gpCall(t, g, "sendMessage", map[string]any{"_id": "gopackageMsg00001", "rid": rid, "msg": "hi from gopackage"}).(map[string]any)
	if res["_id"] != "gopackageMsg00001" || res["rid"] != rid {
		t.Fatalf("sendMessage %v", res)
	}
	if u, _ := res["u"].(map[string]any); u["_id"] != x.uid {
		t.Fatalf("sendMessage author %v", res)
	}
	for _, rc := range []*rtmClient{x.cust, x.rtm} {
		ev := rc.next("incoming_event from gopackage", func(f map[string]any) bool {
			return f["action"] == "incoming_event" && payload(f)["event"].(map[string]any)["text"] == "hi from gopackage"
		})
		if got := payload(ev)["event"].(map[string]any); got["id"] != "gopackageMsg00001" || got["author_id"] != x.a.ID {
			t.Fatalf("incoming_event %v", got)
		}
	}

	// history: newest first, ending with the thread start.
	h, _ := gpCall(t, g2, "loadHistory", rid, nil, 50, nil).(map[string]any)
	msgs, _ := h["messages"].([]any)
	var ids []any
	for _, m := range msgs {
		ids = append(ids, m.(map[string]any)["_id"])
	}
	if len(ids) != 3 || ids[0] != "gopackageMsg00001" || ids[1] != eventID || ids[2] != x.threadID {
		t.Fatalf("loadHistory ids %v", ids)
	}

	// typing, sent: the method call reaches the RTM agent.
	gpCall(t, g, "stream-notify-room", rid+"/user-activity", x.a.Username, []string{"user-typing"}, map[string]any{})
	if ind := payload(x.rtm.push("incoming_typing_indicator"))["typing_indicator"].(map[string]any); ind["author_id"] != x.a.ID || ind["is_typing"] != true {
		t.Fatalf("incoming_typing_indicator %v", ind)
	}
	// typing, received: the RTM agent's typing is pushed on stream-notify-room.
	x.rtm.call("send_typing_indicator", map[string]any{"chat_id": rid, "is_typing": true})
	if ty := x.ddp.stream("stream-notify-room", rid+"/typing", nil); ty[0] != x.b.Username || ty[1] != true {
		t.Fatalf("typing %v", ty)
	}

	// The library's connection stays usable after the pushes it drops.
	if r, _ := gpCall(t, g, "rooms/get").([]any); len(r) != 1 {
		t.Fatalf("rooms/get after pushes %v", r)
	}
}
