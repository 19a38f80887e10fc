package rest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
)

// streamWait bounds every wait in these tests.
const streamWait = 5 * time.Second

// streamKinds are the two framed endpoints every generic test runs against.
var streamKinds = []struct {
	name string
	path string
	sjs  bool
}{
	{KindWebSocket, "/ws", false},
	{KindSockJS, "/sockjs/123/abcdefgh/websocket", true},
}

// streamTestServer serves h through WebSocketHandler at /ws and MountSockJS
// under /sockjs on a real listener and returns its http:// base URL. Its
// cleanup (which runs after the clients' cleanups) checks that every
// upgrade request has returned, so no handler or reader goroutine outlives
// its client.
func streamTestServer(t *testing.T, cfg TransportConfig, h StreamHandler) string {
	t.Helper()
	return streamTestServerWith(t, func(e *echo.Echo) {
		e.GET("/ws", WebSocketHandler(cfg, h))
		MountSockJS(e, "/sockjs", cfg, h)
	})
}

// streamTestServerWith serves the routes mount adds, with the same cleanup.
func streamTestServerWith(t *testing.T, mount func(e *echo.Echo)) string {
	t.Helper()
	var active atomic.Int32
	e := echo.New()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			active.Add(1)
			defer active.Add(-1)
			return next(c)
		}
	})
	mount(e)
	srv := httptest.NewServer(e)
	t.Cleanup(func() {
		streamEventually(t, "stream handlers to return", func() bool { return active.Load() == 0 })
		srv.Close()
	})
	return srv.URL
}

func wsURL(base, path string) string { return "ws" + strings.TrimPrefix(base, "http") + path }

// streamEventually polls cond until it holds, failing after streamWait.
func streamEventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(streamWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// streamRecv receives from ch, failing after streamWait.
func streamRecv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(streamWait):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// testClient is a gorilla websocket client that speaks raw or SockJS framing.
type testClient struct {
	t       *testing.T
	c       *websocket.Conn
	resp    *http.Response
	sjs     bool
	pending []string // SockJS messages received but not yet returned by recv
}

// dialStream connects to base+path; for SockJS it checks that `o` comes first.
func dialStream(t *testing.T, base, path string, sjs bool, opts ...func(*websocket.Dialer, http.Header)) *testClient {
	t.Helper()
	d := &websocket.Dialer{HandshakeTimeout: streamWait}
	hdr := http.Header{}
	for _, o := range opts {
		o(d, hdr)
	}
	c, resp, err := d.Dial(wsURL(base, path), hdr)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	tc := &testClient{t: t, c: c, resp: resp, sjs: sjs}
	if sjs {
		if f := tc.text(); f != "o" {
			t.Fatalf("first SockJS frame = %q, want o", f)
		}
	}
	return tc
}

// frame reads the next data frame within streamWait.
func (c *testClient) frame() (int, []byte, error) {
	_ = c.c.SetReadDeadline(time.Now().Add(streamWait))
	return c.c.ReadMessage()
}

// text reads the next frame, which must be text.
func (c *testClient) text() string {
	c.t.Helper()
	typ, b, err := c.frame()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	if typ != websocket.TextMessage {
		c.t.Fatalf("frame type %d, want text", typ)
	}
	return string(b)
}

// send sends messages: one text frame each on a raw socket, one SockJS
// array frame on SockJS.
func (c *testClient) send(msgs ...string) {
	c.t.Helper()
	if !c.sjs {
		for _, m := range msgs {
			c.sendFrame(m)
		}
		return
	}
	b, err := json.Marshal(msgs)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendFrame(string(b))
}

func (c *testClient) sendFrame(f string) {
	c.t.Helper()
	_ = c.c.SetWriteDeadline(time.Now().Add(streamWait))
	if err := c.c.WriteMessage(websocket.TextMessage, []byte(f)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// recv returns the next message, unwrapping SockJS `a[...]` frames and
// skipping `h`.
func (c *testClient) recv() string {
	c.t.Helper()
	if !c.sjs {
		return c.text()
	}
	for len(c.pending) == 0 {
		f := c.text()
		if f == "h" {
			continue // heartbeats carry nothing
		}
		if !strings.HasPrefix(f, "a") {
			c.t.Fatalf("SockJS frame %q, want a[...]", f)
		}
		if err := json.Unmarshal([]byte(f[1:]), &c.pending); err != nil {
			c.t.Fatalf("SockJS frame %q: %v", f, err)
		}
	}
	m := c.pending[0]
	c.pending = c.pending[1:]
	return m
}

// untilClose reads until the server's close frame and returns its close
// error and the text frames read on the way.
func (c *testClient) untilClose() (*websocket.CloseError, []string) {
	c.t.Helper()
	var texts []string
	for {
		typ, b, err := c.frame()
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) {
				c.t.Fatalf("read ended with %v, want a close frame", err)
			}
			return ce, texts
		}
		if typ == websocket.TextMessage {
			texts = append(texts, string(b))
		}
	}
}

// wantClose reads until the close frame and checks its code and, on
// SockJS, that a `c[...]` frame preceded it.
func (c *testClient) wantClose(code int, sockJSFrame string) {
	c.t.Helper()
	ce, texts := c.untilClose()
	if ce.Code != code {
		c.t.Fatalf("close code %d (%q), want %d", ce.Code, ce.Text, code)
	}
	if c.sjs {
		if len(texts) == 0 || texts[len(texts)-1] != sockJSFrame {
			c.t.Fatalf("frames before close %q, want last %q", texts, sockJSFrame)
		}
	}
}

// echoHandler echoes every message and reports its final Read error (a
// failed Write ends the stream, so the next Read reports why).
func echoHandler(done chan<- error) StreamHandler {
	return func(ctx context.Context, s Stream) {
		for {
			m, err := s.Read(ctx)
			if err != nil {
				if done != nil {
					done <- err
				}
				return
			}
			_ = s.Write(ctx, m)
		}
	}
}

// holdHandler hands its stream to the test and waits for the socket to end.
func holdHandler(streams chan<- Stream) StreamHandler {
	return func(ctx context.Context, s Stream) {
		streams <- s
		<-ctx.Done()
	}
}

func TestStreamConfigDefaults(t *testing.T) {
	t.Parallel()
	c := TransportConfig{}.withDefaults()
	if c.MaxMessageBytes != 1<<20 || c.WriteTimeout != 10*time.Second || c.HandshakeTimeout != 10*time.Second ||
		c.ReadQueue != 16 || c.Logger == nil {
		t.Fatalf("defaults = %+v", c)
	}
	if g := c.closeGrace(); g != 2*time.Second {
		t.Fatalf("close grace %v", g)
	}
	c = TransportConfig{MaxMessageBytes: 10, WriteTimeout: time.Second}.withDefaults()
	if c.MaxMessageBytes != 10 || c.closeGrace() != time.Second {
		t.Fatalf("explicit values not kept: %+v", c)
	}
}

func TestStreamKindAndRemoteAddr(t *testing.T) {
	t.Parallel()
	for _, k := range streamKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			streams := make(chan Stream, 1)
			base := streamTestServer(t, TransportConfig{}, holdHandler(streams))
			dialStream(t, base, k.path, k.sjs)
			s := streamRecv(t, streams, "stream")
			if s.Kind() != k.name {
				t.Fatalf("Kind() = %q, want %q", s.Kind(), k.name)
			}
			if s.RemoteAddr() != "127.0.0.1" {
				t.Fatalf("RemoteAddr() = %q", s.RemoteAddr())
			}
			if time.Since(s.LastActivity()) > streamWait {
				t.Fatalf("LastActivity() = %v, want about now", s.LastActivity())
			}
		})
	}
}

func TestStreamPingCountsPongAsActivity(t *testing.T) {
	t.Parallel()
	for _, k := range streamKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			streams := make(chan Stream, 1)
			base := streamTestServer(t, TransportConfig{}, holdHandler(streams))
			c := dialStream(t, base, k.path, k.sjs)
			pinged := make(chan struct{}, 1)
			c.c.SetPingHandler(func(data string) error {
				pinged <- struct{}{}
				return c.c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(streamWait))
			})
			texts := make(chan string, 4)
			go func() { // the client must read for its ping handler to run
				for {
					typ, b, err := c.c.ReadMessage()
					if err != nil {
						close(texts)
						return
					}
					if typ == websocket.TextMessage {
						texts <- string(b)
					}
				}
			}()
			s := streamRecv(t, streams, "stream")
			before := time.Now()
			if !s.LastActivity().Before(before) {
				t.Fatalf("activity %v not before %v", s.LastActivity(), before)
			}
			if err := s.Ping(context.Background()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			if k.sjs {
				if f := streamRecv(t, texts, "heartbeat"); f != "h" {
					t.Fatalf("heartbeat frame %q, want h", f)
				}
			}
			streamRecv(t, pinged, "ping at the client")
			streamEventually(t, "the pong to count as activity", func() bool { return !s.LastActivity().Before(before) })
		})
	}
}

func TestStreamHandlerContextCanceledOnDisconnect(t *testing.T) {
	t.Parallel()
	for _, k := range streamKinds {
		for _, how := range []string{"close frame", "tcp close"} {
			t.Run(k.name+"/"+how, func(t *testing.T) {
				t.Parallel()
				type result struct {
					ctxErr, readErr error
				}
				started := make(chan struct{})
				done := make(chan result, 1)
				base := streamTestServer(t, TransportConfig{}, func(ctx context.Context, s Stream) {
					close(started)
					<-ctx.Done() // not reading: the transport's reader notices on its own
					_, err := s.Read(context.Background())
					done <- result{ctx.Err(), err}
				})
				c := dialStream(t, base, k.path, k.sjs)
				streamRecv(t, started, "handler start")
				if how == "close frame" {
					msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "bye")
					if err := c.c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(streamWait)); err != nil {
						t.Fatal(err)
					}
				} else {
					_ = c.c.NetConn().Close()
				}
				r := streamRecv(t, done, "handler context cancellation")
				if !errors.Is(r.ctxErr, context.Canceled) {
					t.Fatalf("ctx.Err() = %v", r.ctxErr)
				}
				if !errors.Is(r.readErr, ErrClosed) {
					t.Fatalf("Read after disconnect = %v, want ErrClosed", r.readErr)
				}
				if how == "close frame" && !strings.Contains(r.readErr.Error(), "1001 bye") {
					t.Fatalf("Read error %q does not name the client's close", r.readErr)
				}
			})
		}
	}
}

func TestStreamHandlerReturnClosesNormally(t *testing.T) {
	t.Parallel()
	for _, k := range streamKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			base := streamTestServer(t, TransportConfig{}, func(context.Context, Stream) {})
			c := dialStream(t, base, k.path, k.sjs)
			c.wantClose(CloseNormal, `c[1000,""]`)
		})
	}
}

func TestStreamCloseIsIdempotent(t *testing.T) {
	t.Parallel()
	for _, k := range streamKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			type result struct{ second, write, ping, read error }
			done := make(chan result, 1)
			base := streamTestServer(t, TransportConfig{}, func(ctx context.Context, s Stream) {
				if err := s.Close(4001, "bye"); err != nil {
					t.Errorf("Close: %v", err)
				}
				var r result
				r.second = s.Close(4002, "again")
				r.write = s.Write(context.Background(), []byte("late"))
				r.ping = s.Ping(context.Background())
				_, r.read = s.Read(context.Background())
				if ctx.Err() == nil {
					t.Error("handler context still live after Close")
				}
				done <- r
			})
			c := dialStream(t, base, k.path, k.sjs)
			c.wantClose(4001, `c[4001,"bye"]`)
			r := streamRecv(t, done, "handler")
			if r.second != nil {
				t.Fatalf("second Close = %v", r.second)
			}
			for name, err := range map[string]error{"Write": r.write, "Ping": r.ping, "Read": r.read} {
				if !errors.Is(err, ErrClosed) {
					t.Fatalf("%s after Close = %v, want ErrClosed", name, err)
				}
			}
		})
	}
}

func TestStreamReadContextCancelKeepsStream(t *testing.T) {
	t.Parallel()
	for _, k := range streamKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			base := streamTestServer(t, TransportConfig{}, func(ctx context.Context, s Stream) {
				canceled, cancel := context.WithCancel(ctx)
				cancel()
				if _, err := s.Read(canceled); !errors.Is(err, context.Canceled) {
					t.Errorf("Read(canceled) = %v", err)
				}
				short, cancel := context.WithTimeout(ctx, time.Millisecond)
				defer cancel()
				if _, err := s.Read(short); !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Read(expired) = %v", err)
				}
				if err := s.Write(canceled, []byte("never")); !errors.Is(err, context.Canceled) {
					t.Errorf("Write(canceled) = %v", err)
				}
				if err := s.Write(ctx, []byte("ready")); err != nil {
					t.Errorf("Write: %v", err)
				}
				echoHandler(nil)(ctx, s)
			})
			c := dialStream(t, base, k.path, k.sjs)
			if m := c.recv(); m != "ready" {
				t.Fatalf("got %q, want ready", m)
			}
			c.send("still here")
			if m := c.recv(); m != "still here" {
				t.Fatalf("echo %q", m)
			}
		})
	}
}

// TestStreamConcurrentWritePingClose runs a writer, a pinger and two
// closers on one stream at once; run it with -race.
func TestStreamConcurrentWritePingClose(t *testing.T) {
	t.Parallel()
	for _, k := range streamKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			closeNow := make(chan struct{})
			done := make(chan error, 1)
			base := streamTestServer(t, TransportConfig{}, func(ctx context.Context, s Stream) {
				var wg sync.WaitGroup
				wg.Add(4)
				go func() {
					defer wg.Done()
					for s.Write(ctx, []byte(`{"msg":"added"}`)) == nil {
					}
				}()
				go func() {
					defer wg.Done()
					for s.Ping(ctx) == nil {
					}
				}()
				for _, code := range []int{4000, 4001} {
					go func() {
						defer wg.Done()
						<-closeNow
						_ = s.Close(code, "done")
					}()
				}
				wg.Wait()
				_, err := s.Read(ctx)
				done <- err
			})
			c := dialStream(t, base, k.path, k.sjs)
			for range 50 {
				if m := c.recv(); m != `{"msg":"added"}` {
					t.Fatalf("message %q", m)
				}
			}
			close(closeNow)
			ce, texts := c.untilClose()
			if ce.Code != 4000 && ce.Code != 4001 {
				t.Fatalf("close code %d", ce.Code)
			}
			if k.sjs {
				want := `c[` + strconv.Itoa(ce.Code) + `,"done"]`
				if len(texts) == 0 || texts[len(texts)-1] != want {
					n := len(texts)
					t.Fatalf("last frames %q, want %q last", texts[max(0, n-3):], want)
				}
				for _, f := range texts[:len(texts)-1] {
					if f != "h" && f != `a["{\"msg\":\"added\"}"]` {
						t.Fatalf("unexpected frame %q", f)
					}
				}
			}
			if err := streamRecv(t, done, "handler"); !errors.Is(err, ErrClosed) {
				t.Fatalf("Read after Close = %v", err)
			}
		})
	}
}

func TestStreamReadQueueBackpressure(t *testing.T) {
	t.Parallel()
	for _, k := range streamKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			streams := make(chan Stream, 1)
			release := make(chan struct{})
			got := make(chan []string, 1)
			base := streamTestServer(t, TransportConfig{ReadQueue: 2}, func(ctx context.Context, s Stream) {
				streams <- s
				<-release
				var msgs []string
				for range 10 {
					m, err := s.Read(ctx)
					if err != nil {
						t.Errorf("Read: %v", err)
						break
					}
					msgs = append(msgs, string(m))
				}
				got <- msgs
			})
			c := dialStream(t, base, k.path, k.sjs)
			streamRecv(t, streams, "stream")
			var want []string
			for i := range 10 {
				m := string(rune('a' + i))
				want = append(want, m)
				c.send(m) // small frames: TCP buffers absorb them while the queue is full
			}
			close(release)
			msgs := streamRecv(t, got, "messages")
			if strings.Join(msgs, ",") != strings.Join(want, ",") {
				t.Fatalf("messages %q, want %q", msgs, want)
			}
		})
	}
}
