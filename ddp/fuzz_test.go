package ddp

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

var ejsonSeeds = []string{
	`{"$date":1700000000123}`,
	`{"$date":"2023-11-14T22:13:20.123Z"}`,
	`{"$binary":"AQID"}`,
	`{"$InfNaN":-1}`,
	`{"$regexp":"^a","$flags":"gimuyx"}`,
	`{"$type":"oid","$value":"0123456789abcdef01234567"}`,
	`{"$escape":{"$date":{"$date":0}}}`,
	`{"msg":"changed","collection":"stream-room-messages","id":"id","fields":{"eventName":"GENERAL","args":[{"ts":{"$date":1}}]}}`,
	`[{"a":[{"$binary":""}]},1.5e300,"\u0024date",null,true]`,
	`{"\u0024date":5}`,
	`{"$date":1,"x":2}`,
	`{"$escape":1}`,
	`{"$type":"nope","$value":{}}`,
	`{"$date":`,
	`"\ud800"`,
}

// FuzzEJSON: the decoder never panics, and what it accepts re-encodes into
// EJSON that decodes to the same value (compared by re-encoding, since NaN
// is not equal to itself).
func FuzzEJSON(f *testing.F) {
	for _, s := range ejsonSeeds {
		f.Add([]byte(s))
		f.Add([]byte(s[:len(s)/2])) // truncated
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var typed struct {
			A any
			T time.Time
			P *time.Time
			B []byte
			R Regexp
			M map[string]any
		}
		_ = UnmarshalEJSON(data, &typed)
		v, err := DecodeEJSON(data)
		if err != nil {
			return
		}
		b1, err := EncodeEJSON(v)
		if err != nil {
			t.Fatalf("decoded %q, cannot re-encode %#v: %v", data, v, err)
		}
		if !json.Valid(b1) {
			t.Fatalf("encoded invalid JSON %q", b1)
		}
		v2, err := DecodeEJSON(b1)
		if err != nil {
			t.Fatalf("re-decoding %q: %v", b1, err)
		}
		b2, err := EncodeEJSON(v2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("round trip differs:\n%q\n%q (%v)", b1, b2, err)
		}
	})
}

// FuzzFrame feeds arbitrary client messages to a connected session: it
// answers each with at most a protocol error or a method outcome, never
// drops the socket, and still answers a ping afterwards.
func FuzzFrame(f *testing.F) {
	for _, s := range []string{
		`{"msg":"method","id":"1","method":"echo","params":[{"$date":1}]}`,
		`{"msg":"sub","id":"1","name":"p","params":[]}`,
		`{"msg":"unsub","id":"1"}`,
		`{"msg":"ping","id":{"x":[1]}}`,
		`{"msg":"connect","version":"1","support":["1"]}`,
		`{"msg":"method","id":"1","method":"echo","params":[{"$type":"x","$value":1}]}`,
		`{"msg":"method","id":"1","method":"echo","params":[1,2`,
		`{"msg":"`, `[]`, `"x"`, ``, `{"msg":"sub"}`,
	} {
		f.Add([]byte(s))
	}
	srv, err := NewServer(testConfig(newFakeClock()))
	if err != nil {
		f.Fatal(err)
	}
	srv.Method("echo", func(_ ctxT, inv *Invocation) (any, error) { return inv.Params.Value(0) })
	srv.Publish("p", func(_ ctxT, sub *Subscription) error { sub.Ready(); return nil })
	f.Fuzz(func(t *testing.T, data []byte) {
		c := serve(t, srv)
		c.connect()
		c.in <- data
		c.sync()
		if !c.isOpen() {
			t.Fatalf("socket dropped after %q", data)
		}
	})
}
