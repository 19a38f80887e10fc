package ddp

import (
	"context"
	"time"
)

// Conn is the message stream one DDP session runs on: whole text messages in
// and out, nothing about DDP. rest.Stream (raw websocket or SockJS) satisfies
// it; tests use an in-memory pipe.
//
// The session calls Read from one goroutine (its reader) and Write from one
// goroutine (its writer); Ping, Close, LastActivity and RemoteAddr may be
// called from any goroutine.
type Conn interface {
	// Read returns the next client message; an error ends the session. The
	// session keeps slices of the message (method params), so the transport
	// must not reuse its buffer.
	Read(ctx context.Context) ([]byte, error)
	// Write sends one message; an error ends the session.
	Write(ctx context.Context, msg []byte) error
	// Ping sends a transport-level liveness probe (websocket ping, SockJS
	// `h`); the session uses it only for "pre1" clients, which have no DDP
	// ping.
	Ping(ctx context.Context) error
	// Close ends the stream with a websocket close code and reason. It must
	// be idempotent and make a pending Read return.
	Close(code int, reason string) error
	// LastActivity is when the transport last heard from the client (any
	// frame, including control pongs), on its own clock: the session only
	// notices that it changed.
	LastActivity() time.Time
	// RemoteAddr is the client's IP address (rate limits key on it).
	RemoteAddr() string
}

// Clock tells the time. Every deadline of a session (connect, heartbeat) and
// every rate-limit window is measured on it, so tests can move time by hand.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// CloseReason is why a session ended: the websocket close code and reason
// sent to the client, and a stable label for logs and metrics.
type CloseReason struct {
	Code int
	Text string
}

// Close reasons the session gives. Compare with ==.
var (
	// CloseNormal is an orderly close asked for by the application.
	CloseNormal = CloseReason{Code: 1000, Text: "normal"}
	// CloseClientGone: the client closed the socket or the transport failed.
	CloseClientGone = CloseReason{Code: 1000, Text: "client_gone"}
	// CloseVersionMismatch follows a `failed` answer to `connect`.
	CloseVersionMismatch = CloseReason{Code: 1002, Text: "version_mismatch"}
	// CloseConnectTimeout: no `connect` within Config.ConnectTimeout.
	CloseConnectTimeout = CloseReason{Code: 4000, Text: "connect_timeout"}
	// CloseHeartbeatTimeout: a server ping went unanswered for Config.PingTimeout.
	CloseHeartbeatTimeout = CloseReason{Code: 4000, Text: "heartbeat_timeout"}
	// CloseSlowConsumer: the outbound queue was full; queued frames are dropped.
	CloseSlowConsumer = CloseReason{Code: 1013, Text: "slow_consumer"}
	// CloseTooManyPending: the client queued more method, sub and unsub
	// messages than Config.InboxMessages or Config.InboxBytes allow.
	CloseTooManyPending = CloseReason{Code: 1008, Text: "too_many_pending"}
	// CloseServerShutdown: Server.Shutdown closed the session.
	CloseServerShutdown = CloseReason{Code: 1001, Text: "server_shutdown"}
)

// discardQueued reports whether frames still queued when the session closes
// for r are dropped rather than written: the client cannot or will not read
// them.
func (r CloseReason) discardQueued() bool {
	return r == CloseClientGone || r == CloseSlowConsumer || r == CloseHeartbeatTimeout
}
