package rest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

func TestWebSocketEchoRoundTrip(t *testing.T) {
	t.Parallel()
	done := make(chan error, 1)
	base := streamTestServer(t, TransportConfig{}, echoHandler(done))
	c := dialStream(t, base, "/ws?organization_id=ignored", false)
	for _, m := range []string{
		`{"msg":"connect","version":"1","support":["1","pre2","pre1"]}`,
		"",
		`{"text":"quote \" and é 😀 and \n newline"}`,
		strings.Repeat("x", 200_000),
	} {
		c.send(m)
		if got := c.recv(); got != m {
			t.Fatalf("echo of %.40q = %.40q", m, got)
		}
	}
	if err := c.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(CloseNormal, ""), time.Now().Add(streamWait)); err != nil {
		t.Fatal(err)
	}
	if err := streamRecv(t, done, "handler"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Read after client close = %v, want ErrClosed", err)
	}
}

// Binary frames are rejected: LiveChat RTM and DDP are text protocols and no
// known client sends binary, so a binary frame is a client bug.
func TestWebSocketBinaryFrameRejected(t *testing.T) {
	t.Parallel()
	done := make(chan error, 1)
	base := streamTestServer(t, TransportConfig{}, echoHandler(done))
	c := dialStream(t, base, "/ws", false)
	c.send("text first")
	if got := c.recv(); got != "text first" {
		t.Fatalf("echo %q", got)
	}
	if err := c.c.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	ce, _ := c.untilClose()
	if ce.Code != CloseUnsupportedData {
		t.Fatalf("close %d %q, want %d", ce.Code, ce.Text, CloseUnsupportedData)
	}
	if err := streamRecv(t, done, "handler"); !errors.Is(err, ErrBinaryMessage) {
		t.Fatalf("Read = %v, want ErrBinaryMessage", err)
	}
}

func TestWebSocketOversizeMessage(t *testing.T) {
	t.Parallel()
	const limit = 1024
	for _, tc := range []struct {
		name     string
		compress bool
		payload  string
	}{
		{"plain", false, strings.Repeat("x", limit+1)},
		// 64 KiB of one byte deflates to a few hundred bytes on the wire:
		// the limit must hold after decompression.
		{"deflated", true, strings.Repeat("x", 64<<10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			done := make(chan error, 1)
			base := streamTestServer(t, TransportConfig{MaxMessageBytes: limit}, echoHandler(done))
			c := dialStream(t, base, "/ws", false, func(d *websocket.Dialer, _ http.Header) { d.EnableCompression = tc.compress })
			if tc.compress && !strings.Contains(c.resp.Header.Get("Sec-Websocket-Extensions"), "permessage-deflate") {
				t.Fatalf("deflate not negotiated: %q", c.resp.Header.Get("Sec-Websocket-Extensions"))
			}
			atLimit := strings.Repeat("y", limit)
			c.send(atLimit)
			if got := c.recv(); got != atLimit {
				t.Fatalf("message at the limit not echoed (%d bytes back)", len(got))
			}
			c.send(tc.payload)
			ce, _ := c.untilClose()
			if ce.Code != CloseMessageTooBig {
				t.Fatalf("close %d %q, want %d", ce.Code, ce.Text, CloseMessageTooBig)
			}
			if err := streamRecv(t, done, "handler"); !errors.Is(err, ErrMessageTooLarge) {
				t.Fatalf("Read = %v, want ErrMessageTooLarge", err)
			}
		})
	}
}

func TestWebSocketAnyOriginAndDeflate(t *testing.T) {
	t.Parallel()
	base := streamTestServer(t, TransportConfig{}, echoHandler(nil))
	c := dialStream(t, base, "/ws", false, func(d *websocket.Dialer, h http.Header) {
		d.EnableCompression = true
		h.Set("Origin", "https://shop.example.com")
	})
	if ext := c.resp.Header.Get("Sec-Websocket-Extensions"); !strings.Contains(ext, "permessage-deflate") {
		t.Fatalf("extensions %q, want permessage-deflate", ext)
	}
	for _, m := range []string{"small", strings.Repeat(`{"msg":"added","collection":"users"}`, 100)} {
		c.send(m)
		if got := c.recv(); got != m {
			t.Fatalf("echo of %d bytes = %d bytes", len(m), len(got))
		}
	}
}

func TestWebSocketNotAnUpgrade(t *testing.T) {
	t.Parallel()
	base := streamTestServer(t, TransportConfig{}, echoHandler(nil))
	resp, err := http.Get(base + "/ws")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "websocket") {
		t.Fatalf("plain GET = %d %s, want 400 naming the websocket problem", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error content type %q, want the JSON error handler's", ct)
	}
}

func TestWebSocketCloseCodes(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 100) // 200 bytes: too long for a close frame
	for _, tc := range []struct {
		name       string
		code       int
		reason     string
		wantCode   int
		wantReason string
	}{
		{"application code", 4001, "bye", 4001, "bye"},
		{"sockjs-only code", 2010, "Another connection still open", CloseNormal, "Another connection still open"},
		{"reserved code", 1005, "x", CloseNormal, "x"},
		{"long reason", CloseGoingAway, long, CloseGoingAway, long[:122]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := streamTestServer(t, TransportConfig{}, func(_ context.Context, s Stream) { _ = s.Close(tc.code, tc.reason) })
			c := dialStream(t, base, "/ws", false)
			ce, _ := c.untilClose()
			if ce.Code != tc.wantCode || ce.Text != tc.wantReason || !utf8.ValidString(ce.Text) {
				t.Fatalf("close %d %q, want %d %q", ce.Code, ce.Text, tc.wantCode, tc.wantReason)
			}
		})
	}
}

func TestWebSocketClientPingIsActivity(t *testing.T) {
	t.Parallel()
	streams := make(chan Stream, 1)
	base := streamTestServer(t, TransportConfig{}, holdHandler(streams))
	c := dialStream(t, base, "/ws", false)
	s := streamRecv(t, streams, "stream")
	ponged := make(chan string, 1)
	c.c.SetPongHandler(func(data string) error { ponged <- data; return nil })
	go func() {
		for {
			if _, _, err := c.c.ReadMessage(); err != nil {
				return
			}
		}
	}()
	before := time.Now()
	if err := c.c.WriteControl(websocket.PingMessage, []byte("p1"), time.Now().Add(streamWait)); err != nil {
		t.Fatal(err)
	}
	if got := streamRecv(t, ponged, "pong"); got != "p1" {
		t.Fatalf("pong payload %q", got)
	}
	if s.LastActivity().Before(before) {
		t.Fatalf("client ping not counted as activity")
	}
}

func TestWebSocketTruncateUTF8(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abc", 2, "ab"},
		{"aé", 2, "a"},
		{"😀", 3, ""},
		{"😀x", 4, "😀"},
	} {
		if got := truncateUTF8(tc.in, tc.n); got != tc.want {
			t.Errorf("truncateUTF8(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
