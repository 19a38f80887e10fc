// Package ddp is a Meteor DDP server: frames, EJSON, sessions, heartbeats,
// rate limits, and the method and publication registries. It has no chat
// knowledge and imports only the standard library; bridge registers the
// Rocket.Chat methods and publications on a Server, and rest hands it each
// websocket or SockJS stream (any rest.Stream is a Conn).
//
//	srv, err := ddp.NewServer(ddp.Config{Clock: clock, Logger: log})
//	srv.Method("login", func(ctx context.Context, inv *ddp.Invocation) (any, error) { … })
//	srv.Publish("stream-room-messages", func(ctx context.Context, sub *ddp.Subscription) error { … })
//	reason := srv.Serve(ctx, stream) // one call per socket; returns when it ends
//
// # Protocol
//
// Versions "1", "pre2" and "pre1", negotiated as Meteor does: the first of
// the client's `support` list the server knows, else "1"; a client whose
// `version` is not that choice gets `failed` and the socket closes.
// Malformed input gets the protocol-level `error` message (Bad request,
// Parse error, Must connect first, Already connected, Malformed method
// invocation, Malformed subscription) and the socket stays open. Every
// method id gets exactly one `result` followed by one `updated`; every sub
// id gets `ready` or `nosub` (a duplicate active id is ignored); every
// `unsub` gets `nosub`. Unknown names answer 404 ("Method 'x' not found",
// "Subscription 'x' not found"); a handler error that is not an *Error is
// logged and sent as 500 "Internal server error".
//
// # Ordering and bounds
//
// Each session runs its method, sub and unsub messages one at a time in
// arrival order, on one worker goroutine (Meteor semantics); a method that
// calls Invocation.Unblock lets the next one start. ping and pong are
// answered at once by the reader. Data messages a handler sends are queued
// before its `result`. There is no goroutine per message: per session, the
// goroutine calling Serve reads, one worker dispatches and one writer
// writes (plus one per handler still running after Unblock, at most
// Config.MaxUnblocked). The inbound queue and the outbound queue are
// bounded; a client over the inbound bound is closed with
// CloseTooManyPending, one that cannot keep up with its outbound queue with
// CloseSlowConsumer.
//
// # Liveness
//
// The server drives it, because clients such as simpleddp never ping on
// their own: a connected client silent for PingInterval (15 s) gets
// {"msg":"ping","id":"n"}; anything it sends (the pong or any other
// message, or transport-level activity) answers it; if nothing arrives
// within PingTimeout (15 s) the session closes with CloseHeartbeatTimeout.
// A socket that sends no `connect` within ConnectTimeout (30 s) closes with
// CloseConnectTimeout. "pre1" has no DDP ping, so those sessions are probed
// with Conn.Ping. Deadlines are measured on the injected Clock and checked
// by the writer on each TickInterval.
//
// # Concurrency contract
//
//   - Server, Session, Subscription and Invocation methods are safe for
//     concurrent use.
//   - Session.mu guards the user id, values, subscriptions and the merge
//     box; frames for documents are queued while holding it, so the wire
//     order matches the merge box. Nothing blocking is done under it.
//   - Only the writer writes to the Conn; only the reader reads it.
//   - A frame given to Session.Send is shared, never modified.
package ddp
