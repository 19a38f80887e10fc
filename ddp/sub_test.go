package ddp

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestSubscriptionLifecycle(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, testConfig(newFakeClock()))
	ts := time.UnixMilli(1700000000000).UTC()
	var stops atomic.Int32
	subs := make(chan *Subscription, 4)
	srv.Publish("rooms", func(ctx context.Context, sub *Subscription) error {
		var filter string
		if err := sub.Params().Decode(&filter); err != nil {
			return err
		}
		if SessionFromContext(ctx) != sub.Session() || sub.Name() != "rooms" {
			return errors.New("bad subscription context")
		}
		sub.OnStop(func() { stops.Add(1) })
		if err := sub.Added("rocketchat_room", "GENERAL", map[string]any{"name": filter, "lm": ts}); err != nil {
			return err
		}
		sub.Ready()
		sub.Ready() // once
		subs <- sub
		return nil
	})
	c := serve(t, srv)
	c.connect()
	c.send(`{"msg":"sub","id":"s1","name":"rooms","params":["general"]}`)
	c.expect(`{"msg":"added","collection":"rocketchat_room","id":"GENERAL","fields":{"lm":{"$date":1700000000000},"name":"general"}}`)
	c.expect(`{"msg":"ready","subs":["s1"]}`)
	sub := <-subs

	// Later changes, from another goroutine.
	go func() {
		_ = sub.Changed("rocketchat_room", "GENERAL", map[string]any{"topic": "hi"}, "name")
	}()
	c.expect(`{"msg":"changed","collection":"rocketchat_room","id":"GENERAL","fields":{"topic":"hi"},"cleared":["name"]}`)

	// A duplicate active id is ignored.
	c.send(`{"msg":"sub","id":"s1","name":"rooms","params":["again"]}`)
	c.sync()

	// unsub: removed for the sub's documents, then nosub.
	c.send(`{"msg":"unsub","id":"s1"}`)
	c.expect(`{"msg":"removed","collection":"rocketchat_room","id":"GENERAL"}`)
	c.expect(`{"msg":"nosub","id":"s1"}`)
	if n := stops.Load(); n != 1 {
		t.Fatalf("OnStop ran %d times", n)
	}
	if err := sub.Added("rocketchat_room", "X", nil); !errors.Is(err, ErrSubscriptionStopped) {
		t.Fatalf("Added after stop: %v", err)
	}
	select {
	case <-sub.Context().Done():
	default:
		t.Fatal("subscription context not canceled")
	}
	ran := false
	sub.OnStop(func() { ran = true })
	if !ran {
		t.Fatal("OnStop after stop did not run at once")
	}

	// unsub of an unknown id still answers.
	c.send(`{"msg":"unsub","id":"nope"}`)
	c.expect(`{"msg":"nosub","id":"nope"}`)
}

func TestSubscriptionErrors(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, testConfig(newFakeClock()))
	srv.Publish("denied", func(ctx context.Context, sub *Subscription) error {
		return NewError("not-allowed", "Not allowed")
	})
	srv.Publish("broken", func(ctx context.Context, sub *Subscription) error {
		return errors.New("database is down")
	})
	srv.Publish("panics", func(ctx context.Context, sub *Subscription) error { panic("boom") })
	srv.Publish("stops", func(ctx context.Context, sub *Subscription) error {
		sub.Ready()
		sub.Stop()
		return nil
	})
	srv.Publish("badfields", func(ctx context.Context, sub *Subscription) error {
		if err := sub.Added("c", "1", time.Now()); err == nil {
			return errors.New("a date was accepted as fields")
		}
		if err := sub.Added("c", "1", []int{1}); err == nil {
			return errors.New("an array was accepted as fields")
		}
		sub.Error(NewError(400, "Match failed"))
		return nil
	})
	c := serve(t, srv)
	c.connect()
	internal := `{"isClientSafe":true,"error":500,"reason":"Internal server error","message":"Internal server error [500]","errorType":"Meteor.Error"}`
	for _, tt := range []struct{ name, want string }{
		{"missing", `{"msg":"nosub","id":"x","error":{"isClientSafe":true,"error":404,"reason":"Subscription 'missing' not found","message":"Subscription 'missing' not found [404]","errorType":"Meteor.Error"}}`},
		{"denied", `{"msg":"nosub","id":"x","error":{"isClientSafe":true,"error":"not-allowed","reason":"Not allowed","message":"Not allowed [not-allowed]","errorType":"Meteor.Error"}}`},
		{"broken", `{"msg":"nosub","id":"x","error":` + internal + `}`},
		{"panics", `{"msg":"nosub","id":"x","error":` + internal + `}`},
		{"badfields", `{"msg":"nosub","id":"x","error":{"isClientSafe":true,"error":400,"reason":"Match failed","message":"Match failed [400]","errorType":"Meteor.Error"}}`},
	} {
		c.send(`{"msg":"sub","id":"x","name":"` + tt.name + `"}`)
		c.expect(tt.want)
	}
	c.send(`{"msg":"sub","id":"y","name":"stops"}`)
	c.expect(`{"msg":"ready","subs":["y"]}`)
	c.expect(`{"msg":"nosub","id":"y"}`)
	// The id is free again once stopped.
	c.send(`{"msg":"sub","id":"y","name":"stops"}`)
	c.expect(`{"msg":"ready","subs":["y"]}`)
	c.expect(`{"msg":"nosub","id":"y"}`)
}

// Two subscriptions publishing one document: one `added`, and `removed`
// only when the last one lets go.
func TestMergeBoxByDocument(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, testConfig(newFakeClock()))
	srv.Publish("user", func(ctx context.Context, sub *Subscription) error {
		var field string
		if err := sub.Params().Decode(&field); err != nil {
			return err
		}
		if err := sub.Added("users", "u1", map[string]any{field: "x"}); err != nil {
			return err
		}
		sub.Ready()
		return nil
	})
	srv.Publish("gone", func(ctx context.Context, sub *Subscription) error {
		if err := sub.Added("users", "u2", map[string]any{"a": 1}); err != nil {
			return err
		}
		if err := sub.Removed("users", "u2"); err != nil {
			return err
		}
		return sub.Removed("users", "never-added") // passes through
	})
	c := serve(t, srv)
	c.connect()
	c.send(`{"msg":"sub","id":"a","name":"user","params":["name"]}`)
	c.expect(`{"msg":"added","collection":"users","id":"u1","fields":{"name":"x"}}`)
	c.expect(`{"msg":"ready","subs":["a"]}`)
	c.send(`{"msg":"sub","id":"b","name":"user","params":["status"]}`)
	c.expect(`{"msg":"changed","collection":"users","id":"u1","fields":{"status":"x"}}`)
	c.expect(`{"msg":"ready","subs":["b"]}`)
	c.send(`{"msg":"unsub","id":"a"}`)
	c.expect(`{"msg":"nosub","id":"a"}`) // b still holds u1
	c.send(`{"msg":"unsub","id":"b"}`)
	c.expect(`{"msg":"removed","collection":"users","id":"u1"}`)
	c.expect(`{"msg":"nosub","id":"b"}`)

	c.send(`{"msg":"sub","id":"g","name":"gone"}`)
	c.expect(`{"msg":"added","collection":"users","id":"u2","fields":{"a":1}}`)
	c.expect(`{"msg":"removed","collection":"users","id":"u2"}`)
	c.expect(`{"msg":"removed","collection":"users","id":"never-added"}`)
}

// Rocket.Chat streams: `changed` with id "id" and no `added`, as
// @rocket.chat/ddp-client expects; encoded once, sent to many sessions.
func TestStreamEventsEncodedOnce(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, testConfig(newFakeClock()))
	ready := make(chan *Subscription, 2)
	srv.Publish("stream-room-messages", func(ctx context.Context, sub *Subscription) error {
		sub.Ready()
		ready <- sub
		return nil
	})
	c1, c2 := serve(t, srv), serve(t, srv)
	for _, c := range []*client{c1, c2} {
		c.connect()
		c.send(`{"msg":"sub","id":"r","name":"stream-room-messages","params":["GENERAL",{"useCollection":false,"args":[null]}]}`)
		c.expect(`{"msg":"ready","subs":["r"]}`)
	}
	subs := []*Subscription{<-ready, <-ready}
	frame, err := EncodeChanged("stream-room-messages", "id", map[string]any{
		"eventName": "GENERAL",
		"args":      []any{map[string]any{"_id": "m1", "msg": "hello", "ts": time.UnixMilli(1700000000000)}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range subs {
		if !sub.Session().Send(frame) {
			t.Fatal("Send refused")
		}
	}
	want := `{"msg":"changed","collection":"stream-room-messages","id":"id","fields":{"args":[{"_id":"m1","msg":"hello","ts":{"$date":1700000000000}}],"eventName":"GENERAL"}}`
	c1.expect(want)
	c2.expect(want)
}

// Closing the session stops its subscriptions (OnStop runs) without
// sending anything more.
func TestSessionEndStopsSubscriptions(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, testConfig(newFakeClock()))
	stopped := make(chan string, 2)
	srv.Publish("p", func(ctx context.Context, sub *Subscription) error {
		sub.OnStop(func() { stopped <- sub.ID() })
		sub.Ready()
		return nil
	})
	c := serve(t, srv)
	c.connect()
	c.send(`{"msg":"sub","id":"1","name":"p"}`)
	c.next()
	c.send(`{"msg":"sub","id":"2","name":"p"}`)
	c.next()
	c.Close(1000, "client went away")
	c.closed(CloseClientGone)
	got := map[string]bool{<-stopped: true, <-stopped: true}
	if !got["1"] || !got["2"] {
		t.Fatalf("stopped %v", got)
	}
}
