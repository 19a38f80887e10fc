package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// hookReceiver is a real HTTP server that records webhook envelopes.
type hookReceiver struct {
	mu   sync.Mutex
	envs []map[string]any
	srv  *http.Server
}

func startReceiver(t *testing.T, l net.Listener) *hookReceiver {
	t.Helper()
	r := &hookReceiver{}
	r.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var env map[string]any
		if json.Unmarshal(b, &env) == nil {
			r.mu.Lock()
			r.envs = append(r.envs, env)
			r.mu.Unlock()
		}
		w.WriteHeader(http.StatusOK)
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = r.srv.Serve(l) }()
	t.Cleanup(func() { r.srv.Close() })
	return r
}

// byAction returns the envelopes received for action.
func (r *hookReceiver) byAction(action string) []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]any
	for _, e := range r.envs {
		if e["action"] == action {
			out = append(out, e)
		}
	}
	return out
}

func waitUntil(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond) // poll interval, not a wait for an event
	}
}

const e2eToken = "e2e-admin-token-0123456789abcdef"

func (in *instance) action(t *testing.T, api, method string, payload any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(payload)
	r := in.do(t, http.MethodPost, "/v3.5/"+api+"/action/"+method, "Bearer "+e2eToken, "application/json", string(b))
	if r.status != http.StatusOK {
		t.Fatalf("%s %s: %d %s", api, method, r.status, r.body)
	}
	var m map[string]any
	_ = json.Unmarshal(r.body, &m)
	return m
}

func (in *instance) registerHook(t *testing.T, action, url string) {
	t.Helper()
	in.action(t, "configuration", "register_webhook", map[string]any{
		"action": action, "url": url, "secret_key": "s3cret", "owner_client_id": "e2e-client", "type": "license",
	})
}

// dialCustomer opens a customer RTM socket and logs in.
func (in *instance) dialCustomer(t *testing.T, org, token string) *wsAgent {
	t.Helper()
	url := "ws" + strings.TrimPrefix(in.base, "http") + "/v3.5/customer/rtm/ws?organization_id=" + org
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
	t.Cleanup(func() { c.Close() })
	a.call("login", map[string]any{"token": "Bearer " + token})
	return a
}

// TestCustomerAgentWebhookEndToEnd: a customer starts a chat over RTM, it is
// routed to an accepting agent, the agent answers over the Web API, the
// customer gets the event, and a registered receiver gets incoming_chat and
// incoming_event with its secret key.
func TestCustomerAgentWebhookEndToEnd(t *testing.T) {
	dir := t.TempDir()
	in := startServe(t, serveArgs(dir, "--admin-email", "owner@e2e.test", "--admin-password", "secret123", "--admin-token", e2eToken)...)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rcv := startReceiver(t, l)
	hookURL := "http://" + l.Addr().String() + "/hook"
	in.registerHook(t, "incoming_chat", hookURL)
	in.registerHook(t, "incoming_event", hookURL)
	org, _ := in.info(t, "Bearer "+e2eToken)["organization_id"].(string)

	agent := in.dialAgent(t, e2eToken)
	agent.call("set_routing_status", map[string]any{"status": "accepting_chats"})
	ct, _ := in.customerToken(t, org)
	cust := in.dialCustomer(t, org, ct)
	started := cust.call("start_chat", map[string]any{"chat": map[string]any{"thread": map[string]any{"events": []any{map[string]any{"type": "message", "text": "help please"}}}}})
	chatID, _ := started["chat_id"].(string)
	if chatID == "" {
		t.Fatalf("start_chat: %v", started)
	}
	// Routed: the agent gets the chat.
	if _, ok := agent.next(time.Now().Add(10*time.Second), func(m map[string]any) bool {
		p, _ := m["payload"].(map[string]any)
		c, _ := p["chat"].(map[string]any)
		return m["action"] == "incoming_chat" && c["id"] == chatID
	}); !ok {
		t.Fatal("the accepting agent did not get the customer's chat")
	}
	in.action(t, "agent", "send_event", map[string]any{"chat_id": chatID, "event": map[string]any{"type": "message", "text": "how can I help?"}})
	if _, ok := cust.next(time.Now().Add(10*time.Second), func(m map[string]any) bool {
		p, _ := m["payload"].(map[string]any)
		e, _ := p["event"].(map[string]any)
		return m["action"] == "incoming_event" && e["text"] == "how can I help?"
	}); !ok {
		t.Fatal("the customer did not get the agent's answer")
	}
	defer func() {
		if t.Failed() {
			m := in.do(t, http.MethodGet, "/metrics", "", "", "")
			var lines []string
			for _, l := range strings.Split(string(m.body), "\n") {
				if strings.HasPrefix(l, "chatbridge_webhook") || strings.HasPrefix(l, "chatbridge_domain_events_total") {
					lines = append(lines, l)
				}
			}
			hooks := in.action(t, "configuration", "list_webhooks", map[string]any{"owner_client_id": "e2e-client"})
			t.Logf("received %d envelopes; webhooks %v; metrics:\n%s", len(rcv.envs), hooks, strings.Join(lines, "\n"))
		}
	}()
	waitUntil(t, "incoming_chat and incoming_event webhooks", 15*time.Second, func() bool {
		return len(rcv.byAction("incoming_chat")) >= 1 && len(rcv.byAction("incoming_event")) >= 1
	})
	for _, action := range []string{"incoming_chat", "incoming_event"} {
		env := rcv.byAction(action)[0]
		if env["secret_key"] != "s3cret" || env["organization_id"] != org || env["webhook_id"] == "" {
			t.Fatalf("%s envelope %v", action, env)
		}
	}
}

// TestWebhooksSurviveRestart: with the receiver down, events are queued; the
// server restarts, the receiver comes back within the retry schedule, and
// every webhook arrives exactly once.
func TestWebhooksSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	args := serveArgs(dir, "--admin-email", "owner@e2e.test", "--admin-password", "secret123", "--admin-token", e2eToken,
		"--webhook-retry-schedule", "3s,3s,5s,10s")
	in := startServe(t, args...)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // the receiver is down
	in.registerHook(t, "incoming_event", "http://"+addr+"/hook")
	cust := in.action(t, "agent", "create_customer", map[string]any{"name": "Dana"})
	chat := in.action(t, "agent", "start_chat", map[string]any{"chat": map[string]any{"users": []any{map[string]any{"id": cust["customer_id"], "type": "customer"}}}})
	want := map[string]bool{}
	for _, text := range []string{"one", "two", "three"} {
		ev := in.action(t, "agent", "send_event", map[string]any{"chat_id": chat["chat_id"], "event": map[string]any{"type": "message", "text": text}})
		want[ev["event_id"].(string)] = true
	}
	in.stop(t)

	in2 := startServe(t, args...)
	_ = in2
	l2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the receiver's port was taken meanwhile: %v", err)
	}
	rcv := startReceiver(t, l2)
	waitUntil(t, "the queued webhooks after the restart", 30*time.Second, func() bool { return len(rcv.byAction("incoming_event")) >= len(want) })
	time.Sleep(4 * time.Second) // the thing under test: no second copy arrives in the next retry window
	got := map[string]int{}
	for _, env := range rcv.byAction("incoming_event") {
		p, _ := env["payload"].(map[string]any)
		e, _ := p["event"].(map[string]any)
		id, _ := e["id"].(string)
		got[id]++
		if env["secret_key"] != "s3cret" {
			t.Fatalf("envelope %v", env)
		}
	}
	for id := range want {
		if got[id] != 1 {
			t.Fatalf("event %s delivered %d times, want exactly once (all: %v)", id, got[id], got)
		}
	}
}
