package main

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// TestCrossInstancePushes runs two servers on one store with --nats-url: an
// agent connected to one instance hears, as pushes, what happens through
// the other (a chat started, a message sent, the chat closed), once.
func TestCrossInstancePushes(t *testing.T) {
	t.Parallel()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS did not start")
	}
	t.Cleanup(ns.Shutdown)
	store := sharedStore(t)
	var ins []*instance
	var agents []*wsAgent
	for range 2 { // one after the other: the first creates the organization
		in := startServe(t, serveArgs(t.TempDir(), "--mongo-uri", store.URI(), "--nats-url", ns.ClientURL(),
			"--admin-email", adminEmail, "--admin-token", adminToken)...)
		ins = append(ins, in)
		agents = append(agents, in.dialAgent(t, "Bearer "+adminToken))
	}
	org, _ := ins[0].info(t, "Bearer "+adminToken)["organization_id"].(string)
	_, customer := ins[0].customerToken(t, org)

	// Through instance 0; instance 1's session hears it.
	chatID, _, _ := agents[0].startChatWith(customer)
	deadline := time.Now().Add(10 * time.Second)
	if _, ok := agents[1].next(deadline, func(m map[string]any) bool {
		p, _ := m["payload"].(map[string]any)
		c, _ := p["chat"].(map[string]any)
		return m["type"] == "push" && m["action"] == "incoming_chat" && c["id"] == chatID
	}); !ok {
		t.Fatalf("the other instance's agent did not get incoming_chat\n%s\n---\n%s", ins[0].stderr, ins[1].stderr)
	}
	if _, ok := agents[1].next(deadline, func(m map[string]any) bool {
		p, _ := m["payload"].(map[string]any)
		ev, _ := p["event"].(map[string]any)
		return m["action"] == "incoming_event" && p["chat_id"] == chatID && ev["text"] == "anyone there?"
	}); !ok {
		t.Fatal("the other instance's agent did not get incoming_event")
	}
	// Through instance 1 this time.
	agents[1].call("deactivate_chat", map[string]any{"id": chatID})
	if _, ok := agents[0].next(time.Now().Add(10*time.Second), pushFor("chat_deactivated", chatID)); !ok {
		t.Fatal("instance 0's agent did not get chat_deactivated")
	}
	// Once: no second copy arrives.
	if f, dup := agents[0].next(time.Now().Add(500*time.Millisecond), pushFor("chat_deactivated", chatID)); dup {
		t.Fatalf("a second chat_deactivated: %v", f.m)
	}
}
