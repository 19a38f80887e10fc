package ddp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Config configures a Server. The zero value means the documented defaults.
type Config struct {
	// Clock measures every deadline and rate-limit window (default: the
	// system clock).
	Clock Clock
	// Logger; nil means slog.Default(). Sessions log with their id; params
	// and results are never logged.
	Logger *slog.Logger
	// ConnectTimeout: a socket must send `connect` this soon (default 30 s).
	ConnectTimeout time.Duration
	// PingInterval: the server pings a client it has heard nothing from for
	// this long (default 15 s, Meteor's).
	PingInterval time.Duration
	// PingTimeout: after a server ping, the session closes when nothing at
	// all arrives for this long (default 15 s, Meteor's). A silent client
	// is thus dropped 30 s after its last message.
	PingTimeout time.Duration
	// TickInterval is how often the writer checks deadlines (default 1 s).
	TickInterval time.Duration
	// OutboxFrames and OutboxBytes bound the outbound queue (defaults 1024
	// frames, 4 MiB); a session over either is closed with CloseSlowConsumer.
	OutboxFrames, OutboxBytes int
	// InboxMessages and InboxBytes bound the method, sub and unsub messages
	// waiting for dispatch (defaults 128, 4 MiB); a client over either is
	// closed with CloseTooManyPending.
	InboxMessages, InboxBytes int
	// MaxUnblocked caps the method handlers of one session running
	// concurrently after Invocation.Unblock (default 16). Past it Unblock
	// does nothing and the method keeps its place in the order.
	MaxUnblocked int
	// RateLimits replaces DefaultRateLimits when not nil.
	RateLimits []RateRule
	// NoRateLimits turns rate limiting off.
	NoRateLimits bool
	// ServerIDGreeting sends Meteor's legacy {"server_id":"0"} when the
	// socket opens (harmless to current clients, expected by very old ones).
	ServerIDGreeting bool
}

// Defaults.
const (
	DefaultConnectTimeout = 30 * time.Second
	DefaultPingInterval   = 15 * time.Second
	DefaultPingTimeout    = 15 * time.Second
	DefaultTickInterval   = time.Second
	DefaultOutboxFrames   = 1024
	DefaultOutboxBytes    = 4 << 20
	DefaultInboxMessages  = 128
	DefaultInboxBytes     = 4 << 20
	DefaultMaxUnblocked   = 16
)

// Validate reports the first invalid setting: a negative duration or bound,
// or a rate rule without a positive Limit and Interval.
func (c *Config) Validate() error {
	for name, d := range map[string]time.Duration{
		"ConnectTimeout": c.ConnectTimeout, "PingInterval": c.PingInterval,
		"PingTimeout": c.PingTimeout, "TickInterval": c.TickInterval,
	} {
		if d < 0 {
			return fmt.Errorf("ddp: Config.%s is negative", name)
		}
	}
	for name, n := range map[string]int{
		"OutboxFrames": c.OutboxFrames, "OutboxBytes": c.OutboxBytes, "InboxMessages": c.InboxMessages,
		"InboxBytes": c.InboxBytes, "MaxUnblocked": c.MaxUnblocked,
	} {
		if n < 0 {
			return fmt.Errorf("ddp: Config.%s is negative", name)
		}
	}
	for i := range c.RateLimits {
		if err := c.RateLimits[i].validate(); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) withDefaults() {
	if c.Clock == nil {
		c.Clock = systemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.ConnectTimeout, DefaultConnectTimeout)
	def(&c.PingInterval, DefaultPingInterval)
	def(&c.PingTimeout, DefaultPingTimeout)
	def(&c.TickInterval, DefaultTickInterval)
	defn := func(n *int, v int) {
		if *n == 0 {
			*n = v
		}
	}
	defn(&c.OutboxFrames, DefaultOutboxFrames)
	defn(&c.OutboxBytes, DefaultOutboxBytes)
	defn(&c.InboxMessages, DefaultInboxMessages)
	defn(&c.InboxBytes, DefaultInboxBytes)
	defn(&c.MaxUnblocked, DefaultMaxUnblocked)
	if c.RateLimits == nil {
		c.RateLimits = DefaultRateLimits()
	}
	if c.NoRateLimits {
		c.RateLimits = nil
	}
}

// MethodHandler runs one method call. Its result is sent as EJSON in
// `result` (nil leaves `result` out, as Meteor does for undefined); an
// error is sent as described at Error. ctx is canceled when the session
// ends and carries the session (SessionFromContext).
type MethodHandler func(ctx context.Context, inv *Invocation) (any, error)

// PublishHandler starts a subscription: it sends the initial documents and
// calls sub.Ready, then returns nil and keeps publishing from elsewhere
// (sub.Context ends when the subscription stops), or calls sub.Stop. An
// error stops the subscription with `nosub` carrying it. It runs in the
// session's message order, so it must not block for long.
type PublishHandler func(ctx context.Context, sub *Subscription) error

// Server holds the method and publication registries and runs DDP
// sessions on the connections it is given. Its methods are safe for
// concurrent use.
type Server struct {
	cfg       Config
	connRules []RateRule
	shared    *limiter // per-user and per-IP rules, across sessions

	mu      sync.RWMutex
	methods map[string]MethodHandler  // guarded by mu
	pubs    map[string]PublishHandler // guarded by mu

	sessMu   sync.Mutex
	sessions map[*Session]struct{} // guarded by sessMu
	shutdown bool                  // guarded by sessMu
}

// NewServer returns a Server with empty registries, or the Config's
// validation error.
func NewServer(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.withDefaults()
	connRules, shared := splitRules(cfg.RateLimits)
	return &Server{
		cfg:       cfg,
		connRules: connRules,
		shared:    newLimiter(shared),
		methods:   map[string]MethodHandler{},
		pubs:      map[string]PublishHandler{},
		sessions:  map[*Session]struct{}{},
	}, nil
}

// Method registers h as the method name, replacing any previous one.
func (srv *Server) Method(name string, h MethodHandler) {
	if h == nil {
		panic("ddp: nil MethodHandler for " + name)
	}
	srv.mu.Lock()
	srv.methods[name] = h
	srv.mu.Unlock()
}

// Publish registers h as the publication name, replacing any previous one.
func (srv *Server) Publish(name string, h PublishHandler) {
	if h == nil {
		panic("ddp: nil PublishHandler for " + name)
	}
	srv.mu.Lock()
	srv.pubs[name] = h
	srv.mu.Unlock()
}

func (srv *Server) method(name string) MethodHandler {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	return srv.methods[name]
}

func (srv *Server) publication(name string) PublishHandler {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	return srv.pubs[name]
}

// Serve runs one DDP session on conn until it ends (client gone, a
// deadline missed, Session.Close, Shutdown, or ctx canceled) and returns
// why. When it returns, conn is closed, the session's goroutines and
// handlers have returned and every OnStop and OnClose hook has run.
func (srv *Server) Serve(ctx context.Context, conn Conn) CloseReason {
	s := newSession(ctx, srv, conn)
	srv.sessMu.Lock()
	down := srv.shutdown
	srv.sessions[s] = struct{}{}
	srv.sessMu.Unlock()
	if down {
		s.Close(CloseServerShutdown)
	}
	r := s.run()
	srv.sessMu.Lock()
	delete(srv.sessions, s)
	srv.sessMu.Unlock()
	return r
}

// Sessions is the number of sessions being served.
func (srv *Server) Sessions() int {
	srv.sessMu.Lock()
	defer srv.sessMu.Unlock()
	return len(srv.sessions)
}

// Shutdown closes every session with CloseServerShutdown (and any started
// later) and waits until they have ended or ctx is done.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.sessMu.Lock()
	srv.shutdown = true
	all := make([]*Session, 0, len(srv.sessions))
	for s := range srv.sessions {
		all = append(all, s)
	}
	srv.sessMu.Unlock()
	for _, s := range all {
		s.Close(CloseServerShutdown)
	}
	for _, s := range all {
		select {
		case <-s.done:
		case <-ctx.Done():
			return errors.Join(errors.New("ddp: sessions still open at shutdown"), ctx.Err())
		}
	}
	return nil
}
