package ddp

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	cfg := testConfig(clock)
	cfg.NoRateLimits = false // the defaults: login 5 per 10 s per connection
	srv := newTestServer(t, cfg)
	srv.Method("login", func(ctx context.Context, inv *Invocation) (any, error) { return "ok", nil })
	c := serve(t, srv)
	c.connect()
	call := func(id string) map[string]any {
		t.Helper()
		c.send(`{"msg":"method","id":"` + id + `","method":"login","params":[{"resume":"t"}]}`)
		m := c.next()
		c.expect(`{"msg":"updated","methods":["` + id + `"]}`)
		return m
	}
	for i := range 5 {
		if m := call(fmt.Sprint(i)); m["result"] != "ok" {
			t.Fatalf("call %d refused: %v", i, m)
		}
		clock.Advance(time.Second)
	}
	// 5 s into the window: the 6th waits 5 s.
	c.send(`{"msg":"method","id":"6","method":"login","params":[{"resume":"t"}]}`)
	c.expect(`{"msg":"result","id":"6","error":{"isClientSafe":true,"error":"too-many-requests",` +
		`"reason":"Error, too many requests. Please slow down. You must wait 5 seconds before trying again.",` +
		`"details":{"timeToReset":5000},` +
		`"message":"Error, too many requests. Please slow down. You must wait 5 seconds before trying again. [too-many-requests]",` +
		`"errorType":"Meteor.Error"}}`)
	c.expect(`{"msg":"updated","methods":["6"]}`)
	clock.Advance(4500 * time.Millisecond)
	if m := call("7"); m["error"].(map[string]any)["details"].(map[string]any)["timeToReset"] != 500.0 {
		t.Fatalf("want timeToReset 500, got %v", m)
	}
	clock.Advance(500 * time.Millisecond)
	if m := call("8"); m["result"] != "ok" {
		t.Fatalf("new window refused: %v", m)
	}
	// Another connection has its own window.
	c2 := serve(t, srv)
	c2.connect()
	c2.send(`{"msg":"method","id":"1","method":"login","params":[]}`)
	c2.expect(`{"msg":"result","id":"1","result":"ok"}`)
}

func TestSubscriptionRateLimit(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	cfg := testConfig(clock)
	cfg.NoRateLimits = false
	cfg.RateLimits = []RateRule{{Kind: KindSubscription, Key: RateByConnection, PerName: true, Limit: 1, Interval: 1500 * time.Millisecond}}
	srv := newTestServer(t, cfg)
	srv.Publish("p", func(ctx context.Context, sub *Subscription) error { sub.Ready(); return nil })
	srv.Method("m", func(ctx context.Context, inv *Invocation) (any, error) { return 1, nil })
	c := serve(t, srv)
	c.connect()
	c.send(`{"msg":"sub","id":"1","name":"p"}`)
	c.expect(`{"msg":"ready","subs":["1"]}`)
	c.send(`{"msg":"sub","id":"2","name":"p"}`)
	m := c.next()
	e := m["error"].(map[string]any)
	if m["msg"] != "nosub" || e["error"] != "too-many-requests" || e["details"].(map[string]any)["timeToReset"] != 1500.0 ||
		e["reason"] != "Error, too many requests. Please slow down. You must wait 2 seconds before trying again." {
		t.Fatalf("got %v", m)
	}
	// Methods are not limited by a subscription rule.
	for i := range 3 {
		c.send(fmt.Sprintf(`{"msg":"method","id":"%d","method":"m"}`, i))
		c.expect(fmt.Sprintf(`{"msg":"result","id":"%d","result":1}`, i))
		c.next()
	}
	// Unknown names are not counted (they answer 404 first).
	c.send(`{"msg":"sub","id":"3","name":"unknown"}`)
	if m := c.next(); m["error"].(map[string]any)["error"] != 404.0 {
		t.Fatalf("got %v", m)
	}
}

func TestLimiterRules(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	in := func(kind, name, user, conn, addr string) RateInput {
		return RateInput{Kind: kind, Name: name, UserID: user, ConnectionID: conn, ClientAddress: addr}
	}
	t.Run("per user across connections", func(t *testing.T) {
		t.Parallel()
		l := newLimiter([]RateRule{{Key: RateByUser, Limit: 2, Interval: time.Minute}})
		for i, c := range []string{"c1", "c2"} {
			if _, ok := l.take(t0, in(KindMethod, "a", "u", c, "")); !ok {
				t.Fatalf("call %d refused", i)
			}
		}
		if wait, ok := l.take(t0.Add(10*time.Second), in(KindMethod, "b", "u", "c3", "")); ok || wait != 50*time.Second {
			t.Fatalf("third call: %v %v", wait, ok)
		}
		if _, ok := l.take(t0, in(KindMethod, "a", "", "c1", "")); !ok {
			t.Fatal("anonymous call counted by a user rule")
		}
	})
	t.Run("per IP, loopback exempt", func(t *testing.T) {
		t.Parallel()
		l := newLimiter([]RateRule{{Key: RateByIP, Limit: 1, Interval: time.Minute}})
		for range 3 {
			if _, ok := l.take(t0, in(KindMethod, "a", "", "c", "127.0.0.1")); !ok {
				t.Fatal("loopback limited")
			}
			if _, ok := l.take(t0, in(KindMethod, "a", "", "c", "[::1]:4000")); !ok {
				t.Fatal("loopback limited")
			}
		}
		l.take(t0, in(KindMethod, "a", "", "c1", "203.0.113.9"))
		if _, ok := l.take(t0, in(KindMethod, "b", "", "c2", "203.0.113.9:5555")); ok {
			t.Fatal("second call from one address allowed")
		}
	})
	t.Run("names, prefixes and exceptions", func(t *testing.T) {
		t.Parallel()
		l := newLimiter([]RateRule{
			{Key: RateByConnection, PerName: true, Except: []string{"stream-*"}, Limit: 1, Interval: time.Second},
			{Key: RateByConnection, PerName: true, Names: []string{"stream-*"}, Limit: 2, Interval: time.Second},
		})
		calls := func(name string) (n int) {
			for range 5 {
				if _, ok := l.take(t0, in(KindSubscription, name, "", "c", "")); ok {
					n++
				}
			}
			return n
		}
		if got := calls("rooms"); got != 1 {
			t.Fatalf("rooms allowed %d", got)
		}
		if got := calls("users"); got != 1 {
			t.Fatalf("users allowed %d (per name)", got)
		}
		if got := calls("stream-room-messages"); got != 2 {
			t.Fatalf("stream allowed %d", got)
		}
	})
	t.Run("exempt", func(t *testing.T) {
		t.Parallel()
		l := newLimiter([]RateRule{{Key: RateByUser, Limit: 1, Interval: time.Minute,
			Exempt: func(in RateInput) bool { return in.UserID == "bot" }}})
		for range 3 {
			if _, ok := l.take(t0, in(KindMethod, "a", "bot", "c", "")); !ok {
				t.Fatal("exempt user limited")
			}
		}
	})
	t.Run("sweep drops expired windows", func(t *testing.T) {
		t.Parallel()
		l := newLimiter([]RateRule{{Key: RateByConnection, Limit: 1, Interval: time.Second}})
		for i := range sweepEvery {
			l.take(t0, in(KindMethod, "a", "", fmt.Sprint(i), ""))
		}
		for range sweepEvery {
			l.take(t0.Add(2*time.Second), in(KindMethod, "a", "", "last", ""))
		}
		l.mu.Lock()
		n := len(l.windows)
		l.mu.Unlock()
		if n > 2 {
			t.Fatalf("%d windows kept", n)
		}
	})
	t.Run("defaults are valid", func(t *testing.T) {
		t.Parallel()
		for _, r := range DefaultRateLimits() {
			if err := r.validate(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
