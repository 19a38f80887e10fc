package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
)

func TestSockJSInfo(t *testing.T) {
	t.Parallel()
	base := streamTestServer(t, TransportConfig{}, echoHandler(nil))
	get := func(t *testing.T, method, origin string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, base+"/sockjs/info?cb=x1y2z3", nil)
		if err != nil {
			t.Fatal(err)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		req.Header.Set("Access-Control-Request-Headers", "x-requested-with")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = resp.Body.Close() })
		return resp
	}

	t.Run("GET with Origin", func(t *testing.T) {
		resp := get(t, http.MethodGet, "https://web.example.com")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json; charset=UTF-8" {
			t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var body map[string]json.RawMessage
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		if len(body) != 4 || string(body["websocket"]) != "true" || string(body["origins"]) != `["*:*"]` ||
			string(body["cookie_needed"]) != "false" {
			t.Fatalf("info body %s", body)
		}
		var entropy uint32
		if err := json.Unmarshal(body["entropy"], &entropy); err != nil {
			t.Fatalf("entropy %s is not a uint32: %v", body["entropy"], err)
		}
		h := resp.Header
		if h.Get("Access-Control-Allow-Origin") != "https://web.example.com" || h.Get("Access-Control-Allow-Credentials") != "true" ||
			h.Get("Vary") != "Origin" || !strings.Contains(h.Get("Cache-Control"), "no-store") {
			t.Fatalf("headers %v", h)
		}
	})
	t.Run("GET without Origin", func(t *testing.T) {
		resp := get(t, http.MethodGet, "")
		if h := resp.Header; h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatalf("headers %v", h)
		}
	})
	t.Run("OPTIONS", func(t *testing.T) {
		resp := get(t, http.MethodOptions, "https://web.example.com")
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Methods") != "OPTIONS, GET" ||
			h.Get("Access-Control-Allow-Origin") != "https://web.example.com" ||
			h.Get("Access-Control-Allow-Headers") != "x-requested-with" || h.Get("Access-Control-Max-Age") != "31536000" ||
			h.Get("Cache-Control") != "public, max-age=31536000" || h.Get("Expires") == "" {
			t.Fatalf("preflight %d %v", resp.StatusCode, h)
		}
	})
}

// TestSockJSOnGroupAtChatSDKPaths mounts on an echo.Group and replays the
// requests @livechat/chat-sdk was seen to make.
func TestSockJSOnGroupAtChatSDKPaths(t *testing.T) {
	t.Parallel()
	base := streamTestServerWith(t, func(e *echo.Echo) {
		MountSockJS(e.Group("/v3.4/agent/rtm"), "/sjs/", TransportConfig{}, echoHandler(nil))
	})
	resp, err := http.Get(base + "/v3.4/agent/rtm/sjs/info?bh=dfkco7pcob")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("info status %d", resp.StatusCode)
	}
	c := dialStream(t, base, "/v3.4/agent/rtm/sjs/104/upvqznwx/websocket?bh=dfkco7pcob", true)
	login := `{"request_id":"idmg2igpp4o","action":"login","payload":{"token":"Bearer dal:agent-token"}}`
	c.sendFrame(`["{\"request_id\":\"idmg2igpp4o\",\"action\":\"login\",\"payload\":{\"token\":\"Bearer dal:agent-token\"}}"]`)
	if got := c.recv(); got != login {
		t.Fatalf("echo %q", got)
	}
}

func TestSockJSOpenFrameFirst(t *testing.T) {
	t.Parallel()
	base := streamTestServer(t, TransportConfig{}, func(ctx context.Context, s Stream) {
		_ = s.Write(ctx, []byte(`{"msg":"connected","session":"abc"}`))
		<-ctx.Done()
	})
	c := dialStream(t, base, "/sockjs/000/x/websocket", true) // checks `o`
	if f := c.text(); f != `a["{\"msg\":\"connected\",\"session\":\"abc\"}"]` {
		t.Fatalf("frame %q", f)
	}
}

func TestSockJSEchoEscaping(t *testing.T) {
	t.Parallel()
	base := streamTestServer(t, TransportConfig{}, echoHandler(nil))
	c := dialStream(t, base, "/sockjs/123/abcdefgh/websocket", true)
	for _, m := range []string{
		`{"msg":"method","method":"sendMessage","params":[{"msg":"say \"hi\" \\o/"}]}`,
		"line1\nline2\r\n\ttab",
		"unicode é ü 中文 😀",
		"separators \u2028\u2029 joiner \u200d bom \ufeff specials \ufff0",
		"controls \x00\x01\x1f\x7f",
		"<script>&amp;</script>",
		"",
	} {
		c.send(m)
		f := c.text()
		var got []string
		if !strings.HasPrefix(f, "a") || json.Unmarshal([]byte(f[1:]), &got) != nil || len(got) != 1 || got[0] != m {
			t.Fatalf("echo of %q came back as frame %q", m, f)
		}
		if !utf8.ValidString(f) || strings.ContainsAny(f, "\n\r\u2028\u2029") {
			t.Fatalf("frame %q carries raw characters that must be escaped", f)
		}
		if strings.Contains(m, "<script>") && !strings.Contains(f, "<script>&amp;") {
			t.Fatalf("frame %q is HTML-escaped", f)
		}
	}
}

func TestSockJSMultiMessageFrame(t *testing.T) {
	t.Parallel()
	got := make(chan string, 16)
	base := streamTestServer(t, TransportConfig{}, func(ctx context.Context, s Stream) {
		for {
			m, err := s.Read(ctx)
			if err != nil {
				return
			}
			got <- string(m)
		}
	})
	c := dialStream(t, base, "/sockjs/123/abcdefgh/websocket", true)
	c.sendFrame(`["m1","m2","m3"]`)
	c.sendFrame(``)   // ignored
	c.sendFrame(`[]`) // ignored
	c.sendFrame(`"m4"`)
	c.sendFrame(` [ {"msg":"ping"} , "m5" ] `)
	c.sendFrame(`{"msg":"pong"}`)
	for _, want := range []string{"m1", "m2", "m3", "m4", `{"msg":"ping"}`, "m5", `{"msg":"pong"}`} {
		if m := streamRecv(t, got, want); m != want {
			t.Fatalf("got %q, want %q", m, want)
		}
	}
}

func TestSockJSHeartbeat(t *testing.T) {
	t.Parallel()
	streams := make(chan Stream, 1)
	base := streamTestServer(t, TransportConfig{}, holdHandler(streams))
	c := dialStream(t, base, "/sockjs/123/abcdefgh/websocket", true)
	s := streamRecv(t, streams, "stream")
	for range 2 {
		if err := s.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		if f := c.text(); f != "h" {
			t.Fatalf("frame %q, want h", f)
		}
	}
}

func TestSockJSClose(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code     int
		reason   string
		frame    string
		wantCode int
	}{
		{3000, "Go away!", `c[3000,"Go away!"]`, 3000},
		{2010, "Another connection still open", `c[2010,"Another connection still open"]`, CloseNormal},
		{4000, `say "bye"`, `c[4000,"say \"bye\""]`, 4000},
	} {
		t.Run(tc.frame, func(t *testing.T) {
			t.Parallel()
			base := streamTestServer(t, TransportConfig{}, func(ctx context.Context, s Stream) {
				_ = s.Write(ctx, []byte("last"))
				_ = s.Close(tc.code, tc.reason)
			})
			c := dialStream(t, base, "/sockjs/123/abcdefgh/websocket", true)
			if m := c.recv(); m != "last" {
				t.Fatalf("message %q", m)
			}
			if f := c.text(); f != tc.frame {
				t.Fatalf("frame %q, want %q", f, tc.frame)
			}
			ce, texts := c.untilClose()
			if ce.Code != tc.wantCode || len(texts) != 0 {
				t.Fatalf("close %d after frames %q, want %d right after the c frame", ce.Code, texts, tc.wantCode)
			}
		})
	}
}

// Broken framing closes the session with c[3000,"Broken framing."], as
// sockjs-node does; frames before it are delivered.
func TestSockJSBrokenFraming(t *testing.T) {
	t.Parallel()
	for _, frame := range []string{`not json`, `["a"`, `[1]`, `[null]`, `["a",["b"]]`, `123`, `null`, `"unterminated`, `{"a":}`} {
		t.Run(frame, func(t *testing.T) {
			t.Parallel()
			done := make(chan error, 1)
			base := streamTestServer(t, TransportConfig{}, echoHandler(done))
			c := dialStream(t, base, "/sockjs/123/abcdefgh/websocket", true)
			c.sendFrame(`["ok"]`)
			if m := c.recv(); m != "ok" {
				t.Fatalf("echo %q", m)
			}
			c.sendFrame(frame)
			c.wantClose(CloseSockJSGoAway, `c[3000,"Broken framing."]`)
			if err := streamRecv(t, done, "handler"); !errors.Is(err, ErrBadFrame) {
				t.Fatalf("Read = %v, want ErrBadFrame", err)
			}
		})
	}
}

func TestSockJSOversizeMessage(t *testing.T) {
	t.Parallel()
	const limit = 1024
	for name, frame := range map[string]string{
		"message over limit": `["` + strings.Repeat("x", limit+1) + `"]`,
		"frame over limit":   `["` + strings.Repeat("x", 4*limit) + `"]`,
		"second message":     `["ok2","` + strings.Repeat("x", limit+1) + `"]`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			done := make(chan error, 1)
			base := streamTestServer(t, TransportConfig{MaxMessageBytes: limit}, echoHandler(done))
			c := dialStream(t, base, "/sockjs/123/abcdefgh/websocket", true)
			// Escaping may double a message on the wire: a message at the
			// limit made only of quotes still fits.
			quotes := strings.Repeat(`"`, limit)
			c.send(quotes)
			if m := c.recv(); m != quotes {
				t.Fatalf("message at the limit not echoed (%d bytes back)", len(m))
			}
			c.sendFrame(frame)
			ce, texts := c.untilClose()
			if ce.Code != CloseMessageTooBig || len(texts) == 0 || texts[len(texts)-1] != `c[1009,"message too big"]` {
				t.Fatalf("close %d after %q, want 1009 after c[1009,...]", ce.Code, texts)
			}
			if err := streamRecv(t, done, "handler"); !errors.Is(err, ErrMessageTooLarge) {
				t.Fatalf("Read = %v, want ErrMessageTooLarge", err)
			}
		})
	}
}

func TestSockJSRawWebsocketEndpoint(t *testing.T) {
	t.Parallel()
	streams := make(chan Stream, 1)
	base := streamTestServer(t, TransportConfig{}, func(ctx context.Context, s Stream) {
		streams <- s
		echoHandler(nil)(ctx, s)
	})
	c := dialStream(t, base, "/sockjs/websocket", false)
	c.send(`{"msg":"connect","version":"1","support":["1"]}`)
	if f := c.text(); f != `{"msg":"connect","version":"1","support":["1"]}` {
		t.Fatalf("raw endpoint answered %q", f)
	}
	if k := streamRecv(t, streams, "stream").Kind(); k != KindWebSocket {
		t.Fatalf("Kind %q", k)
	}
}

func TestSockJSUnsupportedTransports(t *testing.T) {
	t.Parallel()
	base := streamTestServer(t, TransportConfig{}, echoHandler(nil))
	for _, r := range []struct{ method, path string }{
		{http.MethodPost, "/sockjs/123/abcdefgh/xhr"},
		{http.MethodPost, "/sockjs/123/abcdefgh/xhr_send"},
		{http.MethodPost, "/sockjs/123/abcdefgh/xhr_streaming"},
		{http.MethodGet, "/sockjs/123/abcdefgh/eventsource"},
		{http.MethodGet, "/sockjs/1.2/abcdefgh/websocket"},
		{http.MethodGet, "/sockjs/123/a.b/websocket"},
	} {
		req, _ := http.NewRequest(r.method, base+r.path, strings.NewReader(`["x"]`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s = %d %q, want 404 JSON", r.method, r.path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	// And a dial to a dotted session id fails at the handshake.
	if _, resp, err := websocket.DefaultDialer.Dial(wsURL(base, "/sockjs/123/a.b/websocket"), nil); err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("dial with a dotted session: err %v", err)
	}
}

func TestSockJSDecodeFrame(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		frame string
		want  []string
		bad   bool
	}{
		{frame: ``, want: nil},
		{frame: " \r\n\t", want: nil},
		{frame: `[]`, want: []string{}},
		{frame: `["a"]`, want: []string{"a"}},
		{frame: `["a","b","c"]`, want: []string{"a", "b", "c"}},
		{frame: `"solo"`, want: []string{"solo"}},
		{frame: `["{\"msg\":\"ping\"}"]`, want: []string{`{"msg":"ping"}`}},
		{frame: `["\u00e9\ud83d\ude00\n"]`, want: []string{"é😀\n"}},
		{frame: `["\ud800"]`, want: []string{"\ufffd"}},
		{frame: `[{"msg":"ping"}]`, want: []string{`{"msg":"ping"}`}},
		{frame: ` {"msg": "pong"} `, want: []string{`{"msg": "pong"}`}},
		{frame: `[""]`, want: []string{""}},
		{frame: `["a",]`, bad: true},
		{frame: `["a"] x`, bad: true},
		{frame: `[true]`, bad: true},
		{frame: `[["a"]]`, bad: true},
		{frame: `a["x"]`, bad: true},
		{frame: `"\x"`, bad: true},
		{frame: `{`, bad: true},
		{frame: `[`, bad: true},
	} {
		got, err := decodeSockJSFrame([]byte(tc.frame))
		if tc.bad {
			if !errors.Is(err, ErrBadFrame) {
				t.Errorf("decode(%q) = %q, %v; want ErrBadFrame", tc.frame, got, err)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("decode(%q) = %q, %v; want %q", tc.frame, got, err, tc.want)
			continue
		}
		for i := range got {
			if string(got[i]) != tc.want[i] {
				t.Errorf("decode(%q)[%d] = %q, want %q", tc.frame, i, got[i], tc.want[i])
			}
		}
	}
}

func TestSockJSEncode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ msg, frame string }{
		{`{"msg":"connected","session":"abc"}`, `a["{\"msg\":\"connected\",\"session\":\"abc\"}"]`},
		{"", `a[""]`},
		{"a\\b\"c", `a["a\\b\"c"]`},
		{"\n\r\t\x00\x1f", `a["\n\r\t\u0000\u001f"]`},
		{"é😀<&>", `a["é😀<&>"]`},
		{"\u2028\u200c\u2060\ufff0\ufeff", `a["\u2028\u200c\u2060\ufff0` + "\ufeff" + `"]`},
		{"bad \xff utf8", `a["bad \ufffd utf8"]`},
	} {
		if got := string(appendSockJSMessage(nil, []byte(tc.msg))); got != tc.frame {
			t.Errorf("encode(%q) = %s, want %s", tc.msg, got, tc.frame)
		}
	}
	if got := string(sockJSCloseFrame(3000, "Go away!")); got != `c[3000,"Go away!"]` {
		t.Errorf("close frame %s", got)
	}
}

// FuzzSockJSDecode: arbitrary, split and truncated client frames never
// panic; anything accepted is valid JSON and survives a re-encode (both as
// a client frame and as a server `a[...]` frame).
func FuzzSockJSDecode(f *testing.F) {
	for _, s := range []string{
		``, `[]`, `["a","b"]`, `"x"`, `{"msg":"ping"}`, `[{"msg":"ping"},"m"]`, `["a"`, `[`, `"\ud800"`,
		`  [ "a" , "b" ]  `, `a["x"]`, `["{\"msg\":\"connect\",\"version\":\"1\"}"]`, `["\u2028\u00e9"]`,
		`[1]`, `null`, "[\"\xff\"]", `["\\\"\/\b\f\n\r\t"]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		for i := 0; i < len(frame); i += max(1, len(frame)/8) {
			_, _ = decodeSockJSFrame(frame[:i]) // truncated
			_, _ = decodeSockJSFrame(frame[i:]) // split: the tail alone
		}
		msgs, err := decodeSockJSFrame(frame)
		if err != nil {
			if !errors.Is(err, ErrBadFrame) || msgs != nil {
				t.Fatalf("decode error %v with %q", err, msgs)
			}
			return
		}
		if b := trimJSONSpace(frame); len(b) > 0 && !json.Valid(b) {
			t.Fatalf("accepted invalid JSON %q", frame)
		}
		client := []byte{'['}
		for i, m := range msgs {
			if i > 0 {
				client = append(client, ',')
			}
			client = appendSockJSString(client, m)
		}
		client = append(client, ']')
		again, err := decodeSockJSFrame(client)
		if err != nil || len(again) != len(msgs) {
			t.Fatalf("re-encoded %q: %q, %v", client, again, err)
		}
		for i, m := range msgs {
			if utf8.Valid(m) && !bytes.Equal(again[i], m) {
				t.Fatalf("message %d: %q came back as %q", i, m, again[i])
			}
			server := appendSockJSMessage(nil, m)
			var got []string
			if server[0] != 'a' || json.Unmarshal(server[1:], &got) != nil || len(got) != 1 || !utf8.ValidString(string(server)) {
				t.Fatalf("server frame %q is not a[<json string>]", server)
			}
			if utf8.Valid(m) && got[0] != string(m) {
				t.Fatalf("server frame of %q decodes to %q", m, got[0])
			}
		}
	})
}

var sockJSBenchFrame = []byte(`["{\"msg\":\"method\",\"method\":\"sendMessage\",\"id\":\"7\",\"params\":[{\"_id\":\"Xk2\",\"rid\":\"GENERAL\",\"msg\":\"hello there, how are you?\"}]}","{\"msg\":\"ping\"}","{\"msg\":\"sub\",\"id\":\"8\",\"name\":\"stream-room-messages\",\"params\":[\"GENERAL\",false]}"]`)

func BenchmarkSockJSDecode(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(sockJSBenchFrame)))
	for b.Loop() {
		if _, err := decodeSockJSFrame(sockJSBenchFrame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSockJSEncode(b *testing.B) {
	msg := []byte(`{"msg":"changed","collection":"stream-room-messages","id":"id","fields":{"eventName":"GENERAL","args":[{"_id":"Xk2","rid":"GENERAL","msg":"hello there, how are you? é😀","ts":{"$date":1718000000000},"u":{"_id":"u1","username":"alice"}}]}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	buf := make([]byte, 0, 512)
	for b.Loop() {
		buf = appendSockJSMessage(buf[:0], msg)
	}
}
