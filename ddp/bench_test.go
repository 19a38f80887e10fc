package ddp

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

type ctxT = context.Context

// A sendMessage call as @rocket.chat/ddp-client sends it.
var methodFrame = []byte(`{"msg":"method","method":"sendMessage","params":[{"_id":"Z7QvYbB3uKkzLh5nE","rid":"GENERAL",` +
	`"msg":"hello there, how can I help you today?"}],"id":"rc-ddp-client-42"}`)

// loadHistory carries a $date, which takes the EJSON validation path.
var historyFrame = []byte(`{"msg":"method","method":"loadHistory","params":["GENERAL",{"$date":1700000000123},50,` +
	`{"$date":1699990000000}],"id":"17"}`)

func benchFrame(b *testing.B, raw []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		var f inFrame
		if !parseFrame(raw, &f) {
			b.Fatal("not parsed")
		}
		msg, _ := rawString(f.Msg)
		id, _ := rawString(f.ID)
		name, _ := rawString(f.Method)
		params, ok := rawParams(f.Params)
		if msg != "method" || id == "" || name == "" || !ok || len(params) == 0 || !validEJSON(f.Params) {
			b.Fatal("bad frame")
		}
	}
}

func BenchmarkFrameDecode(b *testing.B) {
	b.Run("sendMessage", func(b *testing.B) { benchFrame(b, methodFrame) })
	b.Run("loadHistory-dates", func(b *testing.B) { benchFrame(b, historyFrame) })
}

// rcMessage is a Rocket.Chat message as a stream event carries it.
type rcMessage struct {
	ID        string    `json:"_id"`
	Rid       string    `json:"rid"`
	Msg       string    `json:"msg"`
	Ts        time.Time `json:"ts"`
	U         rcUser    `json:"u"`
	UpdatedAt time.Time `json:"_updatedAt"`
	Mentions  []rcUser  `json:"mentions"`
	Channels  []string  `json:"channels"`
	Urls      []string  `json:"urls,omitempty"`
	Tmid      string    `json:"tmid,omitempty"`
}

type rcUser struct {
	ID       string `json:"_id"`
	Username string `json:"username"`
	Name     string `json:"name,omitempty"`
}

func sampleMessage() (rcMessage, map[string]any) {
	ts := time.UnixMilli(1700000000123)
	s := rcMessage{ID: "Z7QvYbB3uKkzLh5nE", Rid: "GENERAL", Msg: "hello there, how can I help you today?", Ts: ts,
		U: rcUser{ID: "aX9jK2mN4pQ7rS8tV", Username: "alice", Name: "Alice Agent"}, UpdatedAt: ts,
		Mentions: []rcUser{}, Channels: []string{}}
	m := map[string]any{"_id": s.ID, "rid": s.Rid, "msg": s.Msg, "ts": ts, "_updatedAt": ts,
		"u":        map[string]any{"_id": s.U.ID, "username": s.U.Username, "name": s.U.Name},
		"mentions": []any{}, "channels": []any{}}
	return s, m
}

func BenchmarkEJSONEncode(b *testing.B) {
	s, m := sampleMessage()
	for _, tt := range []struct {
		name string
		msg  any
	}{{"struct", s}, {"map", m}} {
		b.Run(tt.name+"/stream-changed", func(b *testing.B) {
			b.ReportAllocs()
			fields := map[string]any{"eventName": "GENERAL", "args": []any{tt.msg}}
			for b.Loop() {
				if _, err := EncodeChanged("stream-room-messages", "id", fields, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// Reference in the same run: encoding/json on the same struct (dates
	// as RFC 3339 strings, so not EJSON).
	b.Run("struct/encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("struct/append", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 1024)
		for b.Loop() {
			var err error
			if buf, err = AppendEJSON(buf[:0], s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEJSONDecode(b *testing.B) {
	_, m := sampleMessage()
	raw, _ := EncodeEJSON(m)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	b.Run("generic", func(b *testing.B) {
		for b.Loop() {
			if _, err := DecodeEJSON(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("typed", func(b *testing.B) {
		for b.Loop() {
			var msg rcMessage
			if err := UnmarshalEJSON(raw, &msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMethodCall is one method round trip through a session: reader,
// worker, outbox, writer (over the in-memory pipe).
func BenchmarkMethodCall(b *testing.B) {
	srv, err := NewServer(testConfig(newFakeClock()))
	if err != nil {
		b.Fatal(err)
	}
	srv.Method("sendMessage", func(ctx context.Context, inv *Invocation) (any, error) {
		var p struct {
			ID  string `json:"_id"`
			Msg string `json:"msg"`
		}
		if err := inv.Params.Decode(&p); err != nil {
			return nil, err
		}
		return map[string]any{"_id": p.ID, "ts": time.UnixMilli(1700000000123)}, nil
	})
	p := newPipe()
	done := make(chan struct{})
	go func() { srv.Serve(context.Background(), p); close(done) }()
	defer func() { p.Close(1000, ""); <-done }()
	p.in <- []byte(`{"msg":"connect","version":"1","support":["1"]}`)
	<-p.out
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		p.in <- []byte(fmt.Sprintf(`{"msg":"method","method":"sendMessage","params":[{"_id":"m%d","msg":"hi"}],"id":"%d"}`, i, i))
		<-p.out // result
		<-p.out // updated
	}
}
