package rest

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
)

// Stream is the small message stream every realtime session (LiveChat RTM,
// DDP) consumes. It moves whole text messages and knows nothing about the
// protocol inside them; raw websockets and SockJS-framed websockets look the
// same through it.
//
// Concurrency contract (gorilla allows one reader and one writer per socket):
//   - Read is called by one goroutine at a time (the session's reader).
//   - Write is called by the session's single writer goroutine. It is also
//     safe for concurrent use, but concurrent writers would make message
//     order arbitrary.
//   - Ping, Close, LastActivity, RemoteAddr and Kind may be called from any
//     goroutine, concurrently with Read and Write.
//
// The transport owns one reader goroutine per socket: it reads frames,
// records liveness, answers control frames and hands complete messages to
// Read through a bounded queue; when the socket ends it cancels the
// StreamHandler's context.
type Stream interface {
	// Read returns the next complete text message from the client. For
	// SockJS, each string of a client frame `["m1","m2"]` is one message, in
	// order. Canceling ctx abandons this Read only; the stream stays usable.
	// Once the socket is finished Read returns an error (ErrClosed,
	// ErrMessageTooLarge, ErrBinaryMessage or ErrBadFrame, possibly wrapped)
	// and keeps returning it; messages queued before that are delivered
	// first. Passing the handler's ctx is fine: when it ends because the
	// socket did, Read reports the socket's error, not context.Canceled.
	Read(ctx context.Context) ([]byte, error)
	// Write sends one text message (SockJS wraps it as `a["<json-escaped>"]`).
	// ctx is checked before the write starts; a write in progress is bounded
	// by TransportConfig.WriteTimeout and ctx's deadline. A failed write
	// ends the socket (the handler's context is canceled).
	Write(ctx context.Context, msg []byte) error
	// Ping sends a transport-level liveness probe: a websocket ping control
	// frame; on SockJS an `h` heartbeat frame followed by a websocket ping.
	// The client's pong shows up in LastActivity. On SockJS the `h` frame
	// waits for a Write in progress (bounded by ctx and WriteTimeout). A
	// failed ping ends the socket, like a failed Write.
	Ping(ctx context.Context) error
	// Close ends the stream: on SockJS a `c[code,"reason"]` frame first, then
	// a websocket close frame with code and reason, a short wait for the
	// client's close reply (at most 2 s or WriteTimeout, whichever is
	// shorter), then the connection is closed. It is idempotent: only the
	// first call's code and reason are sent, and every call returns once
	// the socket's reader has stopped.
	Close(code int, reason string) error
	// LastActivity is when the client was last heard from: any inbound frame,
	// data or control, including the pong that answers Ping. Sessions
	// compare it with the time of their last Ping to decide liveness.
	LastActivity() time.Time
	// RemoteAddr is the client's IP as echo's Context.RealIP reported it at
	// upgrade (so proxies are honored per the server's IPExtractor).
	RemoteAddr() string
	// Kind is KindWebSocket or KindSockJS.
	Kind() string
}

// StreamHandler runs one realtime session on an upgraded stream. ctx is
// canceled when the socket ends (client gone, protocol error, Close). When
// the handler returns, the transport closes the stream with CloseNormal if
// the handler has not closed it already.
type StreamHandler func(ctx context.Context, s Stream)

// Stream kinds, as Stream.Kind reports them.
const (
	KindWebSocket = "websocket"
	KindSockJS    = "sockjs"
)

// Websocket close codes the transport itself uses or sessions commonly need
// (RFC 6455 §7.4.1). Application codes 3000-4999 may be passed to Close too.
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001
	CloseProtocolError   = 1002
	CloseUnsupportedData = 1003
	ClosePolicyViolation = 1008
	CloseMessageTooBig   = 1009
	CloseInternalError   = 1011
	CloseTryAgainLater   = 1013
	// CloseSockJSGoAway is SockJS's conventional server close (`c[3000,"Go away!"]`)
	// and the code sockjs-node uses for broken client framing.
	CloseSockJSGoAway = 3000
)

// Terminal errors of a Stream. Errors returned by Read and Write wrap one of
// them (use errors.Is); a network cause, when there is one, is wrapped too.
var (
	// ErrClosed: the socket is finished (closed by either side or lost).
	ErrClosed = errors.New("rest: stream closed")
	// ErrMessageTooLarge: the client sent a message above MaxMessageBytes;
	// the socket was closed with CloseMessageTooBig.
	ErrMessageTooLarge = errors.New("rest: message too large")
	// ErrBinaryMessage: the client sent a binary frame; the realtime
	// protocols are text only, so the socket was closed with
	// CloseUnsupportedData.
	ErrBinaryMessage = errors.New("rest: binary message not supported")
	// ErrBadFrame: a SockJS client frame was not a JSON array of strings (or
	// a bare string or object); the socket was closed with
	// `c[3000,"Broken framing."]`, as sockjs-node does.
	ErrBadFrame = errors.New("rest: broken SockJS framing")
)

// TransportConfig configures websocket and SockJS streams. The zero value
// means the documented defaults.
type TransportConfig struct {
	// MaxMessageBytes caps one inbound message after decompression and, for
	// SockJS, after JSON decoding (default 1 MiB). A SockJS frame may be
	// up to twice this size plus 1 KiB on the wire (JSON escaping).
	MaxMessageBytes int
	// WriteTimeout bounds each frame write, ping and close (default 10 s).
	WriteTimeout time.Duration
	// HandshakeTimeout bounds writing the upgrade response (default 10 s).
	HandshakeTimeout time.Duration
	// ReadQueue is how many inbound messages may wait for Read (default 16).
	// When it is full the socket's reader stops reading, which pushes back
	// on the client through TCP (and delays noticing its pongs).
	ReadQueue int
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

const (
	defaultMaxMessageBytes  = 1 << 20
	defaultWriteTimeout     = 10 * time.Second
	defaultHandshakeTimeout = 10 * time.Second
	defaultReadQueue        = 16
	// maxCloseGrace bounds how long Close waits for the client's close reply.
	maxCloseGrace = 2 * time.Second
)

// withDefaults fills in the zero fields.
func (c TransportConfig) withDefaults() TransportConfig {
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = defaultMaxMessageBytes
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = defaultWriteTimeout
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = defaultHandshakeTimeout
	}
	if c.ReadQueue <= 0 {
		c.ReadQueue = defaultReadQueue
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// closeGrace is how long Close waits for frames and the client's close reply.
func (c TransportConfig) closeGrace() time.Duration {
	return min(c.WriteTimeout, maxCloseGrace)
}

// Router is where transports mount their routes: *echo.Echo and *echo.Group
// both satisfy it.
type Router interface {
	GET(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
	OPTIONS(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
}

var (
	_ Router = (*echo.Echo)(nil)
	_ Router = (*echo.Group)(nil)
)
