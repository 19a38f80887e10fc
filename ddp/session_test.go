package ddp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestConnectNegotiation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, connect string
		want          string // "connected" or the failed version
		version       string
	}{
		{"meteor and ddp-client", `{"msg":"connect","version":"1","support":["1","pre2","pre1"]}`, "connected", "1"},
		{"simpleddp", `{"msg":"connect","version":"1","support":["1"]}`, "connected", "1"},
		{"rocket.chat sdk 0.2.9", `{"msg":"connect","version":"pre2","support":["pre2"]}`, "connected", "pre2"},
		{"pre1 only", `{"msg":"connect","version":"pre1","support":["pre1"]}`, "connected", "pre1"},
		{"extra fields and session hint ignored", `{"msg":"connect","version":"1","support":["1"],"session":"old","x":{"y":1}}`, "connected", "1"},
		{"client order wins", `{"msg":"connect","version":"pre2","support":["pre2","1"]}`, "connected", "pre2"},
		{"not the best choice", `{"msg":"connect","version":"pre1","support":["pre2","pre1"]}`, "pre2", ""},
		{"unsupported", `{"msg":"connect","version":"2","support":["2"]}`, "1", ""},
		{"unknown first", `{"msg":"connect","version":"2","support":["2","1"]}`, "1", ""},
		{"version not in support", `{"msg":"connect","version":"1","support":["pre2"]}`, "1", ""},
		{"no support", `{"msg":"connect","version":"1"}`, "1", ""},
		{"no version", `{"msg":"connect","support":["1"]}`, "1", ""},
		{"support not strings", `{"msg":"connect","version":"1","support":["1",2]}`, "1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, testConfig(newFakeClock()))
			var got string
			srv.Method("version", func(ctx context.Context, inv *Invocation) (any, error) {
				return inv.Session.Version(), nil
			})
			c := serve(t, srv)
			c.send(tt.connect)
			// Pipelined after connect: ignored when the connect fails.
			c.send(`{"msg":"method","id":"1","method":"version"}`)
			m := c.next()
			if tt.want == "connected" {
				if m["msg"] != "connected" || len(m["session"].(string)) != 17 {
					t.Fatalf("want connected, got %v", m)
				}
				c.expect(fmt.Sprintf(`{"msg":"result","id":"1","result":%q}`, tt.version))
				c.expect(`{"msg":"updated","methods":["1"]}`)
				return
			}
			got, _ = m["version"].(string)
			if m["msg"] != "failed" || got != tt.want || len(m) != 2 {
				t.Fatalf("want failed %s, got %v", tt.want, m)
			}
			c.closed(CloseVersionMismatch)
			c.none(20 * time.Millisecond)
		})
	}
}

func TestProtocolErrorsKeepTheSocket(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, testConfig(newFakeClock()))
	srv.Method("echo", func(ctx context.Context, inv *Invocation) (any, error) { return inv.Params.Value(0) })
	c := serve(t, srv)

	// Before connect.
	c.send(`{"msg":"method","id":"1","method":"echo"}`)
	c.expect(`{"msg":"error","reason":"Must connect first","offendingMessage":{"msg":"method","id":"1","method":"echo"}}`)
	c.send(`{"msg":"ping"}`)
	c.expect(`{"msg":"error","reason":"Must connect first","offendingMessage":{"msg":"ping"}}`)
	c.send(`not json`)
	c.expect(`{"msg":"error","reason":"Bad request"}`)
	c.connect()

	tests := []struct{ in, want string }{
		{`{"msg":`, `{"msg":"error","reason":"Bad request"}`},
		{`[1,2]`, `{"msg":"error","reason":"Bad request"}`},
		{`"connect"`, `{"msg":"error","reason":"Bad request"}`},
		{`null`, `{"msg":"error","reason":"Bad request"}`},
		{`{}`, `{"msg":"error","reason":"Bad request","offendingMessage":{}}`},
		{`{"msg":""}`, `{"msg":"error","reason":"Bad request","offendingMessage":{"msg":""}}`},
		{`{"msg":42}`, `{"msg":"error","reason":"Bad request","offendingMessage":{"msg":42}}`},
		{`{"msg":"frobnicate","id":"1"}`, `{"msg":"error","reason":"Bad request","offendingMessage":{"msg":"frobnicate","id":"1"}}`},
		{`{"msg":"added","collection":"c","id":"1"}`, `{"msg":"error","reason":"Bad request","offendingMessage":{"msg":"added","collection":"c","id":"1"}}`},
		{`{"msg":"connect","version":"1","support":["1"]}`, `{"msg":"error","reason":"Already connected","offendingMessage":{"msg":"connect","version":"1","support":["1"]}}`},
		{`{"msg":"method","id":1,"method":"echo"}`, `{"msg":"error","reason":"Malformed method invocation","offendingMessage":{"msg":"method","id":1,"method":"echo"}}`},
		{`{"msg":"method","method":"echo"}`, `{"msg":"error","reason":"Malformed method invocation","offendingMessage":{"msg":"method","method":"echo"}}`},
		{`{"msg":"method","id":"1"}`, `{"msg":"error","reason":"Malformed method invocation","offendingMessage":{"msg":"method","id":"1"}}`},
		{`{"msg":"method","id":"1","method":"echo","params":{}}`, `{"msg":"error","reason":"Malformed method invocation","offendingMessage":{"msg":"method","id":"1","method":"echo","params":{}}}`},
		{`{"msg":"method","id":"1","method":"echo","params":null}`, `{"msg":"error","reason":"Malformed method invocation","offendingMessage":{"msg":"method","id":"1","method":"echo","params":null}}`},
		{`{"msg":"method","id":"1","method":"echo","randomSeed":5}`, `{"msg":"error","reason":"Malformed method invocation","offendingMessage":{"msg":"method","id":"1","method":"echo","randomSeed":5}}`},
		{`{"msg":"sub","id":"1"}`, `{"msg":"error","reason":"Malformed subscription","offendingMessage":{"msg":"sub","id":"1"}}`},
		{`{"msg":"sub","id":"1","name":"x","params":"a"}`, `{"msg":"error","reason":"Malformed subscription","offendingMessage":{"msg":"sub","id":"1","name":"x","params":"a"}}`},
		{`{"msg":"unsub"}`, `{"msg":"error","reason":"Bad request","offendingMessage":{"msg":"unsub"}}`},
		{`{"msg":"method","id":"1","method":"echo","params":[{"$type":"nope","$value":1}]}`, `{"msg":"error","reason":"Parse error"}`},
		{`{"msg":"method","id":"1","method":"echo","params":[{"$date":"yesterday"}]}`, `{"msg":"error","reason":"Parse error"}`},
	}
	for _, tt := range tests {
		c.send(tt.in)
		c.expect(tt.want)
	}
	// Still usable, and a trailing newline (gopackage/ddp) is fine.
	c.send("{\"msg\":\"method\",\"id\":\"ok\",\"method\":\"echo\",\"params\":[\"still here\"]}\n")
	c.expect(`{"msg":"result","id":"ok","result":"still here"}`)
	c.expect(`{"msg":"updated","methods":["ok"]}`)
}

func TestPingPong(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, testConfig(newFakeClock()))
	c := serve(t, srv)
	c.connect()
	c.send(`{"msg":"ping","id":"abc"}`)
	c.expect(`{"msg":"pong","id":"abc"}`)
	c.send(`{"msg":"ping"}`)
	c.expect(`{"msg":"pong"}`)
	c.send(`{"msg":"ping","id":7}`)
	c.expect(`{"msg":"pong","id":7}`)
	c.send(`{"msg":"pong","id":"whatever"}`) // unsolicited pong: ignored
	c.send(`{"msg":"pong"}`)
	c.none(20 * time.Millisecond)
}

func TestPre1HasNoPing(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, testConfig(newFakeClock()))
	c := serve(t, srv)
	c.send(`{"msg":"connect","version":"pre1","support":["pre1"]}`)
	c.next()
	c.send(`{"msg":"ping","id":"1"}`)
	c.expect(`{"msg":"error","reason":"Bad request","offendingMessage":{"msg":"ping","id":"1"}}`)
}

func TestServerIDGreeting(t *testing.T) {
	t.Parallel()
	cfg := testConfig(newFakeClock())
	cfg.ServerIDGreeting = true
	c := serve(t, newTestServer(t, cfg))
	c.expect(`{"server_id":"0"}`)
	c.connect()
}

func TestMethodResultThenUpdated(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, testConfig(newFakeClock()))
	ts := time.Date(2024, 5, 6, 7, 8, 9, 123_000_000, time.UTC)
	srv.Method("write", func(ctx context.Context, inv *Invocation) (any, error) {
		s := SessionFromContext(ctx)
		if s != inv.Session {
			return nil, errors.New("no session in ctx")
		}
		if err := s.Added("users", "u1", map[string]any{"username": "alice", "createdAt": ts}); err != nil {
			return nil, err
		}
		return map[string]any{"ok": true, "ts": ts, "blob": []byte{1, 2, 3}}, nil
	})
	srv.Method("nothing", func(ctx context.Context, inv *Invocation) (any, error) { return nil, nil })
	srv.Method("null", func(ctx context.Context, inv *Invocation) (any, error) { return json.RawMessage("null"), nil })
	srv.Method("false", func(ctx context.Context, inv *Invocation) (any, error) { return false, nil })
	srv.Method("zero", func(ctx context.Context, inv *Invocation) (any, error) { return 0, nil })
	c := serve(t, srv)
	c.connect()

	c.send(`{"msg":"method","id":"1","method":"write","params":[],"randomSeed":"seed"}`)
	c.expect(`{"msg":"added","collection":"users","id":"u1","fields":{"createdAt":{"$date":1714979289123},"username":"alice"}}`)
	c.expect(`{"msg":"result","id":"1","result":{"blob":{"$binary":"AQID"},"ok":true,"ts":{"$date":1714979289123}}}`)
	c.expect(`{"msg":"updated","methods":["1"]}`)

	for _, tt := range []struct{ method, want string }{
		{"nothing", `{"msg":"result","id":"x"}`},
		{"null", `{"msg":"result","id":"x","result":null}`},
		{"false", `{"msg":"result","id":"x","result":false}`},
		{"zero", `{"msg":"result","id":"x","result":0}`},
	} {
		c.send(`{"msg":"method","id":"x","method":"` + tt.method + `"}`)
		c.expect(tt.want)
		c.expect(`{"msg":"updated","methods":["x"]}`)
	}
}

func TestMethodErrors(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, testConfig(newFakeClock()))
	srv.Method("room", func(ctx context.Context, inv *Invocation) (any, error) {
		return nil, &Error{Code: "error-invalid-room", Reason: "Invalid room", Details: map[string]any{"method": "sendMessage"}}
	})
	srv.Method("forbidden", func(ctx context.Context, inv *Invocation) (any, error) {
		return nil, fmt.Errorf("checking: %w", NewError(403, "User not found"))
	})
	srv.Method("noreason", func(ctx context.Context, inv *Invocation) (any, error) { return nil, NewError("code-only", "") })
	srv.Method("internal", func(ctx context.Context, inv *Invocation) (any, error) {
		return nil, errors.New("mongo: connection refused at 10.0.0.3")
	})
	srv.Method("panics", func(ctx context.Context, inv *Invocation) (any, error) { panic("boom") })
	srv.Method("badresult", func(ctx context.Context, inv *Invocation) (any, error) { return make(chan int), nil })
	c := serve(t, srv)
	c.connect()
	internal := `{"isClientSafe":true,"error":500,"reason":"Internal server error","message":"Internal server error [500]","errorType":"Meteor.Error"}`
	for _, tt := range []struct{ method, err string }{
		{"room", `{"isClientSafe":true,"error":"error-invalid-room","reason":"Invalid room","details":{"method":"sendMessage"},"message":"Invalid room [error-invalid-room]","errorType":"Meteor.Error"}`},
		{"forbidden", `{"isClientSafe":true,"error":403,"reason":"User not found","message":"User not found [403]","errorType":"Meteor.Error"}`},
		{"noreason", `{"isClientSafe":true,"error":"code-only","message":"[code-only]","errorType":"Meteor.Error"}`},
		{"internal", internal},
		{"panics", internal},
		{"badresult", internal},
		{"missing", `{"isClientSafe":true,"error":404,"reason":"Method 'missing' not found","message":"Method 'missing' not found [404]","errorType":"Meteor.Error"}`},
	} {
		c.send(`{"msg":"method","id":"m","method":"` + tt.method + `"}`)
		c.expect(`{"msg":"result","id":"m","error":` + tt.err + `}`)
		c.expect(`{"msg":"updated","methods":["m"]}`)
	}
}

func TestParamsDecode(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, testConfig(newFakeClock()))
	type query struct {
		Rid    string    `json:"rid"`
		End    time.Time `json:"end"`
		Limit  int       `json:"limit"`
		Blob   []byte    `json:"blob"`
		Nested struct {
			At *time.Time `json:"at"`
		} `json:"nested"`
	}
	srv.Method("typed", func(ctx context.Context, inv *Invocation) (any, error) {
		var rid string
		var end time.Time
		var q query
		var missing = "default"
		if err := inv.Params.Decode(&rid, &end, &q, &missing); err != nil {
			return nil, err
		}
		return map[string]any{"rid": rid, "end": end, "q": q, "missing": missing}, nil
	})
	srv.Method("generic", func(ctx context.Context, inv *Invocation) (any, error) {
		v, err := inv.Params.Value(0)
		if err != nil {
			return nil, err
		}
		m := v.(map[string]any)
		if _, ok := m["when"].(time.Time); !ok {
			return nil, fmt.Errorf("when is %T", m["when"])
		}
		if _, ok := m["escaped"].(map[string]any)["$date"].(float64); !ok {
			return nil, fmt.Errorf("escaped is %v", m["escaped"])
		}
		return v, nil
	})
	c := serve(t, srv)
	c.connect()
	c.send(`{"msg":"method","id":"1","method":"typed","params":["GENERAL",{"$date":1700000000000},` +
		`{"rid":"r","end":{"$date":"2023-11-14T22:13:20.5Z"},"limit":50,"blob":{"$binary":"AQID"},"nested":{"at":{"$date":0}}}]}`)
	c.expect(`{"msg":"result","id":"1","result":{"end":{"$date":1700000000000},"missing":"default","rid":"GENERAL",` +
		`"q":{"rid":"r","end":{"$date":1700000000500},"limit":50,"blob":{"$binary":"AQID"},"nested":{"at":{"$date":0}}}}}`)
	c.expect(`{"msg":"updated","methods":["1"]}`)

	c.send(`{"msg":"method","id":"2","method":"typed","params":[42]}`)
	c.expect(`{"msg":"result","id":"2","error":{"isClientSafe":true,"error":400,"reason":"Match failed","message":"Match failed [400]","errorType":"Meteor.Error"}}`)
	c.expect(`{"msg":"updated","methods":["2"]}`)

	c.send(`{"msg":"method","id":"3","method":"generic","params":[{"when":{"$date":5},"escaped":{"$escape":{"$date":7}}}]}`)
	c.expect(`{"msg":"result","id":"3","result":{"escaped":{"$escape":{"$date":7}},"when":{"$date":5}}}`)
	c.expect(`{"msg":"updated","methods":["3"]}`)
}

// The worker runs one message at a time, in order, unless a method unblocks.
func TestOrderedDispatchAndUnblock(t *testing.T) {
	t.Parallel()
	cfg := testConfig(newFakeClock())
	cfg.MaxUnblocked = 1
	srv := newTestServer(t, cfg)
	release := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{}), "c": make(chan struct{})}
	started := make(chan string, 10)
	srv.Method("wait", func(ctx context.Context, inv *Invocation) (any, error) {
		var name string
		var unblock bool
		if err := inv.Params.Decode(&name, &unblock); err != nil {
			return nil, err
		}
		started <- name // before Unblock: once unblocked, the next method may start at once
		if unblock {
			inv.Unblock()
			inv.Unblock() // only the first counts
		}
		<-release[name]
		return name, nil
	})
	srv.Method("fast", func(ctx context.Context, inv *Invocation) (any, error) { started <- "fast"; return "fast", nil })
	c := serve(t, srv)
	c.connect()
	expectStarted := func(want string) {
		t.Helper()
		select {
		case got := <-started:
			if got != want {
				t.Fatalf("started %s, want %s", got, want)
			}
		case <-time.After(waitFor):
			t.Fatalf("%s never started", want)
		}
	}

	// Blocking: "fast" waits behind "a".
	c.send(`{"msg":"method","id":"1","method":"wait","params":["a",false]}`)
	c.send(`{"msg":"method","id":"2","method":"fast"}`)
	expectStarted("a")
	c.sync() // both messages read; "fast" is queued
	select {
	case s := <-started:
		t.Fatalf("%s started while a blocking method ran", s)
	case <-time.After(20 * time.Millisecond):
	}
	close(release["a"])
	c.expect(`{"msg":"result","id":"1","result":"a"}`)
	c.expect(`{"msg":"updated","methods":["1"]}`)
	expectStarted("fast")
	c.expect(`{"msg":"result","id":"2","result":"fast"}`)
	c.expect(`{"msg":"updated","methods":["2"]}`)

	// Unblocked: "fast" overtakes "b". With MaxUnblocked 1, "c"'s Unblock
	// does nothing while "b" runs, so the next "fast" waits behind "c".
	c.send(`{"msg":"method","id":"3","method":"wait","params":["b",true]}`)
	c.send(`{"msg":"method","id":"4","method":"fast"}`)
	expectStarted("b")
	expectStarted("fast")
	c.expect(`{"msg":"result","id":"4","result":"fast"}`)
	c.expect(`{"msg":"updated","methods":["4"]}`)
	c.send(`{"msg":"method","id":"5","method":"wait","params":["c",true]}`)
	c.send(`{"msg":"method","id":"6","method":"fast"}`)
	expectStarted("c")
	c.sync()
	select {
	case s := <-started:
		t.Fatalf("%s started although MaxUnblocked was reached", s)
	case <-time.After(20 * time.Millisecond):
	}
	close(release["b"])
	c.expect(`{"msg":"result","id":"3","result":"b"}`)
	c.expect(`{"msg":"updated","methods":["3"]}`)
	close(release["c"])
	c.expect(`{"msg":"result","id":"5","result":"c"}`)
	c.expect(`{"msg":"updated","methods":["5"]}`)
	expectStarted("fast")
	c.expect(`{"msg":"result","id":"6","result":"fast"}`)
	c.expect(`{"msg":"updated","methods":["6"]}`)
}

func TestSessionState(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, testConfig(newFakeClock()))
	type key struct{}
	srv.Method("login", func(ctx context.Context, inv *Invocation) (any, error) {
		var user string
		if err := inv.Params.Decode(&user); err != nil {
			return nil, err
		}
		inv.Session.SetUserID(user)
		inv.Session.SetValue(key{}, "agent:"+user)
		return map[string]any{"id": user}, nil
	})
	srv.Method("whoami", func(ctx context.Context, inv *Invocation) (any, error) {
		s := inv.Session
		return []any{s.UserID(), s.Value(key{}), s.ID(), s.RemoteAddr()}, nil
	})
	closed := make(chan CloseReason, 1)
	srv.Method("bye", func(ctx context.Context, inv *Invocation) (any, error) {
		inv.Session.OnClose(func(r CloseReason) { closed <- r })
		inv.Session.Close(CloseNormal)
		return nil, nil
	})
	c := serve(t, srv)
	id := c.connect()
	c.send(`{"msg":"method","id":"1","method":"login","params":["alice"]}`)
	c.next()
	c.next()
	c.send(`{"msg":"method","id":"2","method":"whoami"}`)
	c.expect(`{"msg":"result","id":"2","result":["alice","agent:alice","` + id + `","192.0.2.1"]}`)
	c.next()
	if srv.Sessions() != 1 {
		t.Fatalf("Sessions() = %d", srv.Sessions())
	}
	c.send(`{"msg":"method","id":"3","method":"bye"}`)
	c.closed(CloseNormal)
	if r := <-closed; r != CloseNormal {
		t.Fatalf("OnClose got %v", r)
	}
}

func TestShutdown(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, testConfig(newFakeClock()))
	c1, c2 := serve(t, srv), serve(t, srv)
	c1.connect()
	c2.connect()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c1.closed(CloseServerShutdown)
	c2.closed(CloseServerShutdown)
	if n := srv.Sessions(); n != 0 {
		t.Fatalf("Sessions() = %d after Shutdown", n)
	}
	c3 := serve(t, srv) // after Shutdown: closed at once
	c3.closed(CloseServerShutdown)
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{
		{PingInterval: -time.Second},
		{OutboxFrames: -1},
		{RateLimits: []RateRule{{Limit: 0, Interval: time.Second}}},
		{RateLimits: []RateRule{{Limit: 1, Interval: time.Second, Kind: "publish"}}},
	} {
		if _, err := NewServer(cfg); err == nil {
			t.Errorf("NewServer(%+v) accepted", cfg)
		}
	}
}

// A client that stops reading: its queue fills and the session closes with
// CloseSlowConsumer, abandoning the write it is stuck in.
func TestOutboxOverflowClosesSlowConsumer(t *testing.T) {
	t.Parallel()
	cfg := testConfig(newFakeClock())
	cfg.OutboxFrames = 8
	srv := newTestServer(t, cfg)
	p := newPipe()
	p.gate = make(chan struct{})
	p.waiting = make(chan struct{}, 1)
	errs := make(chan error, 1)
	srv.Method("flood", func(ctx context.Context, inv *Invocation) (any, error) {
		if err := inv.Session.Changed("stream-x", "id", map[string]any{"i": -1}); err != nil {
			return nil, err
		}
		<-p.waiting // the writer is stuck writing that one
		for i := range 100 {
			if err := inv.Session.Changed("stream-x", "id", map[string]any{"i": i}); err != nil {
				errs <- err
				return nil, err
			}
		}
		errs <- nil
		return nil, nil
	})
	c := serveOn(t, srv, p)
	c.send(`{"msg":"connect","version":"1","support":["1"]}`)
	<-p.waiting
	p.gate <- struct{}{} // let "connected" through, then the client stops reading
	c.next()
	c.send(`{"msg":"method","id":"1","method":"flood"}`)
	if err := <-errs; !errors.Is(err, ErrClosed) {
		t.Fatalf("flood: %v, want ErrClosed", err)
	}
	c.closed(CloseSlowConsumer)
	if n := len(c.out); n != 0 {
		t.Fatalf("%d queued frames written after the slow-consumer close", n)
	}
}

func TestInboxOverflowClosesTooManyPending(t *testing.T) {
	t.Parallel()
	cfg := testConfig(newFakeClock())
	cfg.InboxMessages = 3
	srv := newTestServer(t, cfg)
	release := make(chan struct{})
	defer close(release)
	srv.Method("block", func(ctx context.Context, inv *Invocation) (any, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil, nil
	})
	c := serve(t, srv)
	c.connect()
	for i := range 10 {
		c.in <- []byte(fmt.Sprintf(`{"msg":"method","id":"%d","method":"block"}`, i))
	}
	c.closed(CloseTooManyPending)
}

func TestCloseCodesAreDistinctLabels(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, r := range []CloseReason{CloseNormal, CloseClientGone, CloseVersionMismatch, CloseConnectTimeout,
		CloseHeartbeatTimeout, CloseSlowConsumer, CloseTooManyPending, CloseServerShutdown} {
		if seen[r.Text] || strings.ContainsAny(r.Text, " ") {
			t.Errorf("label %q reused or not a label", r.Text)
		}
		seen[r.Text] = true
	}
}

func TestRandomID(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		id := RandomID()
		if len(id) != 17 || strings.Trim(id, idAlphabet) != "" || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}
