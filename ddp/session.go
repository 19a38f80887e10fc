package ddp

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned when sending on a session that has closed (or just
// closed because its outbound queue was full).
var ErrClosed = errors.New("ddp: session closed")

// Session is one DDP connection. Handlers get it from Invocation.Session,
// Subscription.Session or SessionFromContext; its methods are safe for
// concurrent use.
//
// Goroutines: Serve's own reads (and answers connect, ping and protocol
// errors at once); one worker runs method, sub and unsub messages in
// arrival order (Invocation.Unblock hands the queue to a new worker); one
// writer is the only one to write to the Conn and checks the deadlines on
// each tick. Everything the session sends goes through one bounded outbox.
type Session struct {
	srv    *Server
	cfg    *Config
	conn   Conn
	id     string
	log    *slog.Logger
	ctx    context.Context // canceled when the writer stops, or Serve's ctx ends
	cancel context.CancelFunc
	// wctx bounds the writer's Writes and Pings; Close cancels it at once
	// for reasons that drop queued frames, so a write stuck on a client that
	// does not read is abandoned (as far as the Conn honours ctx).
	wctx    context.Context
	wcancel context.CancelFunc
	hctx    context.Context // ctx carrying the session, for handlers
	out     *outbox
	limiter *limiter // per-connection rules
	started time.Time
	done    chan struct{} // closed when Serve returns

	// Reader → worker: bounded by count (channel capacity) and bytes.
	inbox      chan *call
	inboxBytes atomic.Int64
	workers    sync.WaitGroup
	unblocked  atomic.Int32 // handlers running after Unblock

	// Set by the reader at connect, before connected is stored.
	version   string
	connected atomic.Bool

	// Liveness, written by the reader (and the writer for transport
	// activity): seen counts inbound messages, lastSeen is the clock's
	// UnixNano of the latest.
	seen     atomic.Uint64
	lastSeen atomic.Int64

	reason atomic.Pointer[CloseReason] // set once by Close

	mu      sync.Mutex
	userID  string                   // guarded by mu
	values  map[any]any              // guarded by mu
	subs    map[string]*Subscription // guarded by mu
	docs    map[docKey]int           // guarded by mu: subscriptions holding each document
	onClose []func(CloseReason)      // guarded by mu
	ended   bool                     // guarded by mu: onClose hooks have been taken
}

// call is a method, sub or unsub message waiting for the worker.
type call struct {
	kind       string // "method", "sub", "unsub"
	id, name   string
	params     Params
	randomSeed string
	size       int
}

type sessionKey struct{}

// SessionFromContext returns the session a handler's ctx belongs to, or nil.
func SessionFromContext(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey{}).(*Session)
	return s
}

func newSession(ctx context.Context, srv *Server, conn Conn) *Session {
	ctx, cancel := context.WithCancel(ctx)
	s := &Session{
		srv: srv, cfg: &srv.cfg, conn: conn, id: RandomID(),
		ctx: ctx, cancel: cancel,
		out:     newOutbox(srv.cfg.OutboxFrames, srv.cfg.OutboxBytes),
		limiter: newLimiter(srv.connRules),
		inbox:   make(chan *call, srv.cfg.InboxMessages),
		done:    make(chan struct{}),
	}
	s.hctx = context.WithValue(ctx, sessionKey{}, s)
	s.wctx, s.wcancel = context.WithCancel(ctx)
	s.log = srv.cfg.Logger.With("ddp_session", s.id, "remote", conn.RemoteAddr())
	s.started = srv.cfg.Clock.Now()
	s.lastSeen.Store(s.started.UnixNano())
	return s
}

// run is Serve's body: reader here, writer and worker on their own
// goroutines, then the ordered teardown.
func (s *Session) run() CloseReason {
	defer close(s.done)
	writerDone := make(chan struct{})
	go func() { defer close(writerDone); s.writer() }()
	s.workers.Add(1)
	go s.work()
	if s.cfg.ServerIDGreeting {
		s.Send([]byte(`{"server_id":"0"}`))
	}
	s.reader()
	s.Close(CloseClientGone) // no-op when something else closed it first
	<-writerDone             // queued frames written (or dropped), conn closed
	s.cancel()
	close(s.inbox)
	s.workers.Wait()
	s.mu.Lock()
	subs := make([]*Subscription, 0, len(s.subs))
	for _, sub := range s.subs {
		subs = append(subs, sub)
	}
	hooks := s.onClose
	s.onClose, s.ended = nil, true
	s.mu.Unlock()
	for _, sub := range subs {
		sub.stop(nil, false)
	}
	r := *s.reason.Load()
	for _, f := range hooks {
		f(r)
	}
	s.log.Debug("ddp session closed", "reason", r.Text, "user", s.UserID())
	return r
}

// ID is the session id sent in `connected`.
func (s *Session) ID() string { return s.id }

// Version is the negotiated DDP version ("1", "pre2" or "pre1").
func (s *Session) Version() string {
	if !s.connected.Load() {
		return ""
	}
	return s.version
}

// RemoteAddr is the client's address as the transport reported it.
func (s *Session) RemoteAddr() string { return s.conn.RemoteAddr() }

// UserID is the logged-in user ("" before login).
func (s *Session) UserID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userID
}

// SetUserID records who is logged in on this connection (a login method
// sets it, logout clears it); per-user rate limits count by it.
// Publications are not re-run: the caller re-checks what a user may see.
func (s *Session) SetUserID(id string) {
	s.mu.Lock()
	s.userID = id
	s.mu.Unlock()
}

// Value returns what SetValue stored under key, or nil.
func (s *Session) Value(key any) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.values[key]
}

// SetValue stores per-connection state for handlers under key (use an
// unexported key type, as with context values).
func (s *Session) SetValue(key, val any) {
	s.mu.Lock()
	if s.values == nil {
		s.values = map[any]any{}
	}
	s.values[key] = val
	s.mu.Unlock()
}

// Context is canceled when the session ends; it carries the session.
func (s *Session) Context() context.Context { return s.hctx }

// OnClose registers f to run once the session has ended, after its
// subscriptions' OnStop hooks; f runs at once if it already has.
func (s *Session) OnClose(f func(CloseReason)) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		f(*s.reason.Load())
		return
	}
	s.onClose = append(s.onClose, f)
	s.mu.Unlock()
}

// Close ends the session for r: frames already queued are written first
// (except for reasons whose clients cannot take them: CloseClientGone,
// CloseSlowConsumer, CloseHeartbeatTimeout), then the Conn is closed with
// r's code and text. Later sends are refused. Only the first call counts;
// Close does not wait.
func (s *Session) Close(r CloseReason) {
	if s.reason.CompareAndSwap(nil, &r) {
		if r.discardQueued() {
			s.wcancel()
		}
		s.out.close()
		if r != CloseClientGone {
			s.log.Debug("ddp session closing", "reason", r.Text)
		}
	}
}

// Send queues an encoded message (from EncodeAdded, EncodeChanged,
// EncodeRemoved) without blocking: the way to fan one encoding out to many
// sessions. It returns false when the session is closed; a full outbound
// queue closes it with CloseSlowConsumer. The frame must not be modified
// afterwards.
func (s *Session) Send(frame []byte) bool {
	if s.out.push(frame) {
		return true
	}
	if s.reason.Load() == nil {
		s.Close(CloseSlowConsumer)
	}
	return false
}

func (s *Session) send(frame []byte) error {
	if !s.Send(frame) {
		return ErrClosed
	}
	return nil
}

// Added sends an `added` for a document outside any subscription (Meteor's
// universal publications: the user's own document after login). It bypasses
// the per-subscription bookkeeping of Subscription.Added.
func (s *Session) Added(collection, id string, fields any) error {
	f, err := EncodeAdded(collection, id, fields)
	if err != nil {
		return err
	}
	return s.send(f)
}

// Changed sends a `changed` outside any subscription.
func (s *Session) Changed(collection, id string, fields any, cleared ...string) error {
	f, err := EncodeChanged(collection, id, fields, cleared)
	if err != nil {
		return err
	}
	return s.send(f)
}

// Removed sends a `removed` outside any subscription.
func (s *Session) Removed(collection, id string) error {
	return s.send(EncodeRemoved(collection, id))
}

// protocolError answers a malformed message; the socket stays open.
func (s *Session) protocolError(reason string, offending []byte) {
	s.log.Debug("ddp protocol error", "reason", reason)
	s.Send(frameError(reason, offending))
}
