package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/mongostore"
)

// idleCloseBound is how soon after its last event a thread must be closed
// with --thread-idle-timeout 2s.
const idleCloseBound = 5 * time.Second

// wsAgent is an agent's LiveChat RTM connection to a test server; a reader
// goroutine queues every frame (and so answers the server's control pings).
type wsAgent struct {
	t      *testing.T
	c      *websocket.Conn
	frames chan wsFrame
	n      int
}

// wsFrame is one frame and when it arrived.
type wsFrame struct {
	m  map[string]any
	at time.Time
}

// dialAgent opens an RTM websocket to in and logs in with token.
func (in *instance) dialAgent(t *testing.T, token string) *wsAgent {
	t.Helper()
	url := "ws" + strings.TrimPrefix(in.base, "http") + "/v3.5/agent/rtm/ws"
	c, _, err := websocket.DefaultDialer.DialContext(t.Context(), url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	a := &wsAgent{t: t, c: c, frames: make(chan wsFrame, 1024)}
	go func() {
		defer close(a.frames)
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			var m map[string]any
			if json.Unmarshal(msg, &m) == nil {
				a.frames <- wsFrame{m: m, at: time.Now()}
			}
		}
	}()
	t.Cleanup(func() {
		c.Close()
		in.waitAgentsGone(t)
	})
	a.call("login", map[string]any{"token": token})
	return a
}

// waitAgentsGone polls /metrics until in holds no agent RTM connection, so a
// test's sessions end before serve shuts down (ending them from both sides
// at once races on the session's close reason in livechat/rtm). It expects
// one connection per instance, closed by the caller.
func (in *instance) waitAgentsGone(t *testing.T) {
	t.Helper()
	const gauge = `chatbridge_connections{protocol="livechat_agent"} `
	deadline := time.Now().Add(10 * time.Second)
	for {
		// Not in.do: cleanups run after t.Context() is cancelled.
		if res, err := client.Get(in.base + "/metrics"); err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			i := strings.Index(string(b), gauge)
			if i < 0 || strings.HasPrefix(string(b[i+len(gauge):]), "0\n") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Errorf("agent connections still open 10 s after the client closed")
			return
		}
		time.Sleep(20 * time.Millisecond) // poll interval, not a wait for an event
	}
}

// next returns the first frame matching ok before deadline, skipping others;
// ok is false when the deadline passes first.
func (a *wsAgent) next(deadline time.Time, match func(map[string]any) bool) (wsFrame, bool) {
	a.t.Helper()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		select {
		case f, open := <-a.frames:
			if !open {
				a.t.Fatal("the RTM connection closed")
			}
			if match(f.m) {
				return f, true
			}
		case <-timer.C:
			return wsFrame{}, false
		}
	}
}

// collect returns the frames matching match that arrive until the deadline;
// unlike next it never fails the test, so it can run on another goroutine.
func (a *wsAgent) collect(until time.Time, match func(map[string]any) bool) []wsFrame {
	var out []wsFrame
	timer := time.NewTimer(time.Until(until))
	defer timer.Stop()
	for {
		select {
		case f, open := <-a.frames:
			if !open {
				return out
			}
			if match(f.m) {
				out = append(out, f)
			}
		case <-timer.C:
			return out
		}
	}
}

// call sends a request and returns its successful response's payload.
func (a *wsAgent) call(action string, payload any) map[string]any {
	a.t.Helper()
	a.n++
	id := action + "-" + time.Now().Format("150405.000000") + "-" + string(rune('a'+a.n%26))
	b, _ := json.Marshal(map[string]any{"action": action, "payload": payload, "request_id": id})
	if err := a.c.WriteMessage(websocket.TextMessage, b); err != nil {
		a.t.Fatalf("%s: write: %v", action, err)
	}
	f, ok := a.next(time.Now().Add(10*time.Second), func(m map[string]any) bool { return m["type"] == "response" && m["request_id"] == id })
	if !ok {
		a.t.Fatalf("%s: no response", action)
	}
	if f.m["success"] != true {
		a.t.Fatalf("%s failed: %v", action, f.m["payload"])
	}
	p, _ := f.m["payload"].(map[string]any)
	return p
}

// pushFor matches a push of action about chatID.
func pushFor(action, chatID string) func(map[string]any) bool {
	return func(m map[string]any) bool {
		p, _ := m["payload"].(map[string]any)
		return m["type"] == "push" && m["action"] == action && p["chat_id"] == chatID
	}
}

// startChatWith starts an active chat with customer and sends one more
// message; it returns the chat, its thread and the server's time of the
// thread's last event.
func (a *wsAgent) startChatWith(customer string) (chatID, threadID string, last time.Time) {
	a.t.Helper()
	r := a.call("start_chat", map[string]any{"chat": map[string]any{
		"users":  []map[string]any{{"id": customer, "type": "customer"}},
		"thread": map[string]any{"events": []map[string]any{{"type": "message", "text": "hello"}}},
	}})
	chatID, threadID = r["chat_id"].(string), r["thread_id"].(string)
	return chatID, threadID, a.sendMessage(chatID, "anyone there?")
}

// sendMessage sends a message and returns its created_at, read from the
// incoming_event push.
func (a *wsAgent) sendMessage(chatID, text string) time.Time {
	a.t.Helper()
	id := a.call("send_event", map[string]any{"chat_id": chatID, "event": map[string]any{"type": "message", "text": text}})["event_id"]
	f, ok := a.next(time.Now().Add(10*time.Second), func(m map[string]any) bool {
		p, _ := m["payload"].(map[string]any)
		ev, _ := p["event"].(map[string]any)
		return m["action"] == "incoming_event" && ev["id"] == id
	})
	if !ok {
		a.t.Fatalf("no incoming_event for %v", id)
	}
	s, _ := f.m["payload"].(map[string]any)["event"].(map[string]any)["created_at"].(string)
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		a.t.Fatalf("event created_at %q: %v", s, err)
	}
	return at
}

// waitDeactivated waits for chat_deactivated about chatID until
// idleCloseBound after last, checks it is the system's close of threadID,
// and returns how long after last it arrived.
func (a *wsAgent) waitDeactivated(chatID, threadID string, last time.Time) time.Duration {
	a.t.Helper()
	f, ok := a.next(last.Add(idleCloseBound), pushFor("chat_deactivated", chatID))
	if !ok {
		a.t.Fatalf("no chat_deactivated for chat %s within %v of its last event", chatID, idleCloseBound)
	}
	p := f.m["payload"].(map[string]any)
	if _, has := p["user_id"]; has || p["thread_id"] != threadID {
		a.t.Fatalf("chat_deactivated %v, want thread %s and no user_id", p, threadID)
	}
	return f.at.Sub(last)
}

// TestThreadIdleTimeoutEndToEnd: with --thread-idle-timeout 2s an agent on
// RTM gets chat_deactivated within 5 s of the last event, not before 2 s,
// and the chat can be resumed in a new thread, which is closed in its turn.
func TestThreadIdleTimeoutEndToEnd(t *testing.T) {
	t.Parallel()
	in := startServe(t, serveArgs(t.TempDir(), "--admin-email", adminEmail, "--admin-token", adminToken, "--thread-idle-timeout", "2s")...)
	org, _ := in.info(t, "Bearer "+adminToken)["organization_id"].(string)
	_, customer := in.customerToken(t, org)
	agent := in.dialAgent(t, "Bearer "+adminToken)

	chatID, threadID, last := agent.startChatWith(customer)
	first := agent.waitDeactivated(chatID, threadID, last)

	r := agent.call("resume_chat", map[string]any{"chat": map[string]any{"id": chatID}})
	next, _ := r["thread_id"].(string)
	if next == "" || next == threadID {
		t.Fatalf("resume_chat gave thread %q after %s", next, threadID)
	}
	last = agent.sendMessage(chatID, "back again")
	second := agent.waitDeactivated(chatID, next, last)

	for _, d := range []time.Duration{first, second} {
		if d < 2*time.Second {
			t.Errorf("closed %v after the last event, before the 2 s timeout", d)
		}
	}
	t.Logf("close latency after the last event with --thread-idle-timeout 2s: %v, %v", first, second)

	metrics := string(in.do(t, http.MethodGet, "/metrics", "", "", "").body)
	for _, job := range []string{"close_idle_threads", "expired_claims"} {
		if !strings.Contains(metrics, `chatbridge_job_runs_total{job="`+job+`"}`) {
			t.Errorf("/metrics lacks the runs of %s", job)
		}
	}
}

// sharedStore is an embedded store of the test's own, for several servers
// to reach by --mongo-uri.
func sharedStore(t *testing.T) *mongostore.Store {
	t.Helper()
	store, err := mongostore.Open(context.Background(), mongostore.Config{DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		if err := store.Close(ctx); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return store
}

// TestThreadIdleTimeoutTwoInstances runs two servers on one store (the test's
// own embedded FerretDB, reached by --mongo-uri): each idle thread is closed
// once, with one routing.archived_inactive message and one chat_deactivated.
func TestThreadIdleTimeoutTwoInstances(t *testing.T) {
	t.Parallel()
	store := sharedStore(t)
	var (
		ins    []*instance
		agents []*wsAgent
		org    string
	)
	for range 2 { // one after the other: the first creates the organization
		in := startServe(t, serveArgs(t.TempDir(), "--mongo-uri", store.URI(),
			"--admin-email", adminEmail, "--admin-token", adminToken, "--thread-idle-timeout", "2s")...)
		got, _ := in.info(t, "Bearer "+adminToken)["organization_id"].(string)
		if org != "" && got != org {
			t.Fatalf("the instances serve organizations %s and %s", org, got)
		}
		org = got
		ins = append(ins, in)
		agents = append(agents, in.dialAgent(t, "Bearer "+adminToken))
	}
	type started struct {
		chat, thread string
		last         time.Time
	}
	var chats []started
	var latest time.Time
	for i := range 4 { // on both instances, so both hold sessions in the chats
		_, customer := ins[i%2].customerToken(t, org)
		c, th, last := agents[i%2].startChatWith(customer)
		chats = append(chats, started{c, th, last})
		latest = last
	}

	// The instance that closes a thread pushes chat_deactivated to its own
	// agent sessions only (no --nats-url here), so the pushes over
	// both connections count the closes. Listen 3 s (6 sweeps of each
	// instance) past the bound for a second close.
	until := latest.Add(idleCloseBound + 3*time.Second)
	got := make([][]wsFrame, len(agents))
	var wg sync.WaitGroup
	for i, a := range agents {
		wg.Go(func() {
			got[i] = a.collect(until, func(m map[string]any) bool { return m["type"] == "push" && m["action"] == "chat_deactivated" })
		})
	}
	wg.Wait()
	for _, c := range chats {
		seen := 0
		for i := range agents {
			for _, f := range got[i] {
				if f.m["payload"].(map[string]any)["chat_id"] != c.chat {
					continue
				}
				seen++
				d := f.at.Sub(c.last)
				t.Logf("chat %s closed by instance %d, %v after its last event", c.chat, i, d)
				if d > idleCloseBound {
					t.Errorf("chat %s closed %v after its last event, want within %v", c.chat, d, idleCloseBound)
				}
			}
		}
		if seen != 1 {
			t.Errorf("chat %s: %d chat_deactivated over both instances, want 1", c.chat, seen)
		}
		evs, err := store.Events().Find(t.Context(), livechat.Where(livechat.Eq("thread_id", c.thread), livechat.Eq("system_message_type", "routing.archived_inactive")))
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 {
			t.Errorf("thread %s: %d routing.archived_inactive messages, want 1", c.thread, len(evs))
		}
	}
}

// TestThreadIdleTimeoutSetting reads --thread-idle-timeout over
// CHATBRIDGE_THREAD_IDLE_TIMEOUT over 30m (no t.Parallel: t.Setenv).
func TestThreadIdleTimeoutSetting(t *testing.T) {
	for _, tc := range []struct {
		name, env string
		args      []string
		want      time.Duration
		wantErr   string
	}{
		{name: "default", want: 30 * time.Minute},
		{name: "env", env: "90s", want: 90 * time.Second},
		{name: "flag over env", env: "90s", args: []string{"--thread-idle-timeout", "2s"}, want: 2 * time.Second},
		{name: "bad env", env: "soon", wantErr: "CHATBRIDGE_THREAD_IDLE_TIMEOUT"},
		{name: "bad flag", args: []string{"--thread-idle-timeout", "soon"}, wantErr: "thread-idle-timeout"},
		{name: "too short", args: []string{"--thread-idle-timeout", "500ms"}, wantErr: "at least 1s"},
		{name: "zero", env: "0s", wantErr: "at least 1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("CHATBRIDGE_THREAD_IDLE_TIMEOUT", tc.env)
			}
			c, _, err := parseConfig("serve", tc.args, io.Discard, nil)
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
			case err != nil:
				t.Errorf("parseConfig: %v", err)
			case c.ThreadIdleTimeout != tc.want:
				t.Errorf("ThreadIdleTimeout = %v, want %v", c.ThreadIdleTimeout, tc.want)
			}
		})
	}
}
