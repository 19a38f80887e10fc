package rtm

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/api"
)

// Conn is the message stream a session runs on; rest.Stream provides it for
// websockets and SockJS.
type Conn interface {
	Read(ctx context.Context) ([]byte, error)
	Write(ctx context.Context, msg []byte) error
	Ping(ctx context.Context) error
	Close(code int, reason string) error
	LastActivity() time.Time
	RemoteAddr() string
}

// LoginFunc checks a login payload, identifies the session (Session.Identify)
// and returns the login response payload.
type LoginFunc func(ctx context.Context, s *Session, payload json.RawMessage) (any, error)

// Config configures sessions of one API (agent or customer) and version.
// Zero durations and limits take the documented defaults.
type Config struct {
	Service *livechat.Service
	Hub     *livechat.Hub
	Table   *api.Table
	Pushes  map[livechat.Kind]api.PushFunc
	Login   LoginFunc
	// API is "agent" or "customer": it names the disconnect push.
	API      string
	Version  string
	Clock    livechat.Clock
	Registry *Registry
	Logger   *slog.Logger
	// LoginTimeout: a socket must log in this soon (default 30 s).
	LoginTimeout time.Duration
	// IdleTimeout: a logged-in socket silent this long is dropped (default 30 s).
	IdleTimeout time.Duration
	// PingInterval: the server pings a socket idle this long (default 10 s).
	PingInterval time.Duration
	// TickInterval: how often deadlines are checked (default 1 s).
	TickInterval time.Duration
	// MaxPending caps unanswered requests per socket (default 10).
	MaxPending int
	// OutboxFrames and OutboxBytes bound the outbound queue (defaults in livechat.NewOutbox).
	OutboxFrames, OutboxBytes int
	// DisconnectOn, when set, sees every event that reaches a logged-in
	// session; a reason it returns closes the session with that reason (the
	// Customer Chat API: a customer banned while connected).
	DisconnectOn func(actor livechat.Actor, ev *livechat.DomainEvent) string
	// RequestCopy, when set, says whether the requester's own copy of a push
	// carries its request_id (the Customer Chat API: only pushes of the
	// requester's own change, which the customer SDK takes as answers).
	RequestCopy func(actor livechat.Actor, ev *livechat.DomainEvent) bool

	// defaultsOnce applies the defaults once: one Config serves every
	// session of its API and version, concurrently.
	defaultsOnce sync.Once
}

func (c *Config) defaults() {
	if c.Clock == nil {
		c.Clock = livechat.SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.LoginTimeout == 0 {
		c.LoginTimeout = 30 * time.Second
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 30 * time.Second
	}
	if c.PingInterval == 0 {
		c.PingInterval = 10 * time.Second
	}
	if c.TickInterval == 0 {
		c.TickInterval = time.Second
	}
	if c.MaxPending == 0 {
		c.MaxPending = 10
	}
}

// Disconnect reasons the session itself gives.
const (
	ReasonConnectionTimeout = "connection_timeout"
	ReasonTokenExpired      = "access_token_expired"
	ReasonTokenRevoked      = "access_token_revoked"
	ReasonInternalError     = "internal_error"
	ReasonServerShutdown    = "service_temporarily_unavailable"
)

// ShutdownReason is the disconnect reason at server shutdown that tells each
// kind of client to reconnect later.
func ShutdownReason(api string) string {
	if api == "agent" {
		return ReasonInternalError
	}
	return ReasonServerShutdown
}

var sessionIDs atomic.Uint64

// Session is one RTM connection.
type Session struct {
	id      uint64
	cfg     *Config
	conn    Conn
	log     *slog.Logger
	outbox  *livechat.Outbox
	reqs    chan request
	pending atomic.Int32
	cancel  context.CancelFunc

	started    time.Time
	lastActive atomic.Int64 // clock UnixNano of the last inbound frame or pong

	mu        sync.Mutex
	actor     livechat.Actor // guarded by mu; set once at login
	own       livechat.Topic // guarded by mu: the agent's own topic, built once at login
	loggedIn  bool           // guarded by mu
	filter    map[string]bool
	audience  string
	level     string              // customer monitoring level of an agent session
	cred      livechat.Credential // guarded by mu: the login's token (expiry, id for revocation)
	inRequest bool                // guarded by mu: pushes wait until the response is queued
	deferred  [][]byte            // guarded by mu
	onClose   []func()
	closeOnce sync.Once
	reason    string // set by Disconnect, read by the writer after the outbox closes
}

// Serve runs a session on conn until it ends. It returns when the socket is
// closed and the session's goroutines have stopped.
func Serve(ctx context.Context, conn Conn, cfg *Config) {
	cfg.defaultsOnce.Do(cfg.defaults)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &Session{
		id: sessionIDs.Add(1), cfg: cfg, conn: conn, cancel: cancel,
		outbox: livechat.NewOutbox(cfg.OutboxFrames, cfg.OutboxBytes),
		reqs:   make(chan request, cfg.MaxPending),
	}
	s.log = cfg.Logger.With("session", s.id, "api", cfg.API, "version", cfg.Version, "remote", conn.RemoteAddr())
	s.started = cfg.Clock.Now()
	s.lastActive.Store(s.started.UnixNano())
	if cfg.Registry != nil {
		cfg.Registry.add(s)
		defer cfg.Registry.remove(s)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.writer(ctx) }()
	go func() { defer wg.Done(); s.worker(ctx) }()
	s.reader(ctx)
	close(s.reqs)
	s.outbox.Close()
	wg.Wait()
	if cfg.Hub != nil {
		cfg.Hub.Unsubscribe(s)
	}
	s.mu.Lock()
	hooks := s.onClose
	s.mu.Unlock()
	for _, f := range hooks {
		f()
	}
	s.mu.Lock()
	reason := s.reason
	s.mu.Unlock()
	_ = conn.Close(1000, reason)
}

// ID is the session's id (its livechat.Origin.SessionID).
func (s *Session) ID() uint64 { return s.id }

// Actor is who logged in (zero before login).
func (s *Session) Actor() livechat.Actor {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.actor
}

// Version is the API version of the connection.
func (s *Session) Version() string { return s.cfg.Version }

// Service is the core the session serves.
func (s *Session) Service() *livechat.Service { return s.cfg.Service }

// SetCredential records the token the session logged in with: the session
// ends with access_token_expired when it expires, and with
// access_token_revoked when it is revoked.
func (s *Session) SetCredential(c livechat.Credential) {
	s.mu.Lock()
	s.cred = c
	s.mu.Unlock()
}

// Identify completes a login: the session acts as actor, receives the
// pushes of topics, filtered by the login's pushes subscription (nil = all).
func (s *Session) Identify(actor livechat.Actor, topics []livechat.Topic, pushes map[string][]string) {
	s.mu.Lock()
	s.actor, s.loggedIn = actor, true
	if actor.IsAgent() {
		s.own = livechat.AgentTopic(actor.ID)
	}
	if names, ok := pushes[s.cfg.Version]; ok && !slices.Contains(names, "all") {
		s.filter = map[string]bool{}
		for _, n := range names {
			s.filter[n] = true
		}
		sorted := slices.Clone(names)
		slices.Sort(sorted)
		s.audience = s.cfg.API + "/" + s.cfg.Version + "/" + strings.Join(sorted, ",")
	} else {
		s.audience = s.cfg.API + "/" + s.cfg.Version
	}
	s.mu.Unlock()
	s.log = s.log.With("user", actor.ID)
	if s.cfg.Hub != nil {
		s.cfg.Hub.Subscribe(s, topics...)
	}
}

// SetMonitoringLevel sets an agent session's customer monitoring level:
// "my" receives customer pushes only for customers it chats with or follows.
func (s *Session) SetMonitoringLevel(level string) {
	s.mu.Lock()
	s.level = level
	s.mu.Unlock()
}

// customerKinds are the pushes about customers that monitoring levels filter.
var customerKinds = map[livechat.Kind]bool{
	livechat.KindIncomingCustomer: true,
	livechat.KindCustomerUpdated:  true,
}

// OnClose registers f to run when the session ends.
func (s *Session) OnClose(f func()) {
	s.mu.Lock()
	s.onClose = append(s.onClose, f)
	s.mu.Unlock()
}

// Push queues a push frame from the session's own logic (e.g. the pushes
// that follow login), honouring the response-first ordering.
func (s *Session) Push(name string, payload any, requestID string) {
	frame := api.PushFrame{Action: name, Type: "push", Payload: payload, RequestID: requestID}
	if s.cfg.Version >= "3.3" {
		frame.Version = s.cfg.Version
	}
	b, err := json.Marshal(frame)
	if err != nil {
		s.log.Error("push not encoded", "push", name, "err", err)
		return
	}
	if !s.Send(b) {
		s.Disconnect(livechat.CloseSlowConsumer)
	}
}

func (s *Session) touch() {
	s.lastActive.Store(s.cfg.Clock.Now().UnixNano())
}

func (s *Session) reader(ctx context.Context) {
	for {
		msg, err := s.conn.Read(ctx)
		if err != nil {
			return
		}
		s.touch()
		var req request
		if err := json.Unmarshal(msg, &req); err != nil || req.Action == "" {
			s.respond(req, nil, livechat.Errorf(livechat.TypeValidation, "Wrong format of request: a JSON object with an action is required"))
			continue
		}
		if req.Action == "ping" { // answered at once: a ping is never a pending request
			s.respond(req, struct{}{}, nil)
			continue
		}
		if int(s.pending.Add(1)) > s.cfg.MaxPending {
			s.pending.Add(-1)
			s.respond(req, nil, livechat.Errorf(livechat.TypePendingRequestLimit, "Requests limit reached"))
			continue
		}
		select {
		case s.reqs <- req:
		case <-ctx.Done():
			return
		}
	}
}

func (s *Session) worker(ctx context.Context) {
	for req := range s.reqs {
		s.handle(ctx, req)
		s.pending.Add(-1)
	}
}

// handle runs one request. Pushes that the request causes (to this session
// or any other) are held back on this session until its response is queued.
func (s *Session) handle(ctx context.Context, req request) {
	rid := req.requestID()
	ctx = livechat.WithOrigin(ctx, livechat.Origin{SessionID: s.id, RequestID: rid})
	s.mu.Lock()
	s.inRequest = true
	s.mu.Unlock()
	out, err := s.dispatch(ctx, req)
	if err != nil && livechat.AsError(err).Type == livechat.TypeInternal {
		s.log.Error("request failed", "action", req.Action, "err", err)
	}
	s.mu.Lock()
	s.inRequest = false
	deferred := s.deferred
	s.deferred = nil
	s.mu.Unlock()
	s.respond(req, out, err)
	for _, f := range deferred {
		if !s.outbox.Push(f) {
			s.Disconnect(livechat.CloseSlowConsumer)
			return
		}
	}
	if req.Action == "logout" && err == nil {
		s.Disconnect(s.cfg.API + "_logged_out_remotely")
	}
}

func (s *Session) dispatch(ctx context.Context, req request) (any, error) {
	version := s.cfg.Version
	if req.Version != "" && req.Version != version {
		if !api.SupportedVersion(req.Version) || req.Version < version {
			return nil, livechat.Errorf(livechat.TypeUnsupportedVersion, "Unsupported version %q for this connection", req.Version)
		}
		version = req.Version
	}
	s.mu.Lock()
	loggedIn, actor := s.loggedIn, s.actor
	s.mu.Unlock()
	if req.Action == "login" {
		if loggedIn {
			return nil, livechat.Errorf(livechat.TypeValidation, "Already logged in")
		}
		return s.cfg.Login(ctx, s, req.Payload)
	}
	if !loggedIn {
		return nil, livechat.Errorf(livechat.TypeAuthentication, "Log in first")
	}
	if req.Action == "logout" && s.cfg.API == "agent" { // the Customer Chat API has no logout
		return struct{}{}, nil
	}
	m, err := s.cfg.Table.Lookup(req.Action, version, false)
	if err != nil {
		return nil, err
	}
	author := req.AuthorID
	if author == "" && len(req.Payload) > 0 {
		var p struct {
			AuthorID string `json:"author_id"`
		}
		_ = json.Unmarshal(req.Payload, &p)
		author = p.AuthorID
	}
	if author != "" && author != actor.ID {
		if actor, err = s.cfg.Service.ActAs(ctx, actor, author); err != nil {
			return nil, err
		}
	}
	return m.Handler(ctx, &api.Call{Svc: s.cfg.Service, Actor: actor, Version: version, Payload: req.Payload})
}

// respond queues the response to req; responses are never held back.
func (s *Session) respond(req request, out any, err error) {
	r := response{RequestID: req.requestID(), Action: req.Action, Type: "response", Success: err == nil, Payload: out}
	if err != nil {
		r.Payload = errorFrame(err)
	} else if out == nil {
		r.Payload = struct{}{}
	}
	b, merr := json.Marshal(r)
	if merr != nil {
		s.log.Error("response not encoded", "action", req.Action, "err", merr)
		b, _ = json.Marshal(response{RequestID: r.RequestID, Action: r.Action, Type: "response", Payload: errorFrame(merr)})
	}
	if !s.outbox.Push(b) {
		s.Disconnect(livechat.CloseSlowConsumer)
	}
}

// Disconnect tells the client why (agent_disconnected / customer_disconnected)
// and closes the socket once what is queued has been written.
func (s *Session) Disconnect(reason string) {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.reason = reason
		s.mu.Unlock()
		if reason != livechat.CloseSlowConsumer { // a full queue cannot take the notice
			frame := api.PushFrame{Action: s.cfg.API + "_disconnected", Type: "push", Payload: map[string]string{"reason": reason}}
			if s.cfg.Version >= "3.3" {
				frame.Version = s.cfg.Version
			}
			b, _ := json.Marshal(frame)
			s.outbox.Push(b)
		}
		s.outbox.Close()
		if s.cfg.Hub != nil {
			s.cfg.Hub.Unsubscribe(s)
		}
	})
}

func (s *Session) writer(ctx context.Context) {
	tick := time.NewTicker(s.cfg.TickInterval)
	defer tick.Stop()
	var batch [][]byte
	lastConn := s.conn.LastActivity()
	var lastPing time.Time
	for {
		select {
		case _, open := <-s.outbox.C():
			batch = s.outbox.Pop(batch[:0])
			for _, f := range batch {
				if err := s.conn.Write(ctx, f); err != nil {
					s.cancel()
					return
				}
			}
			clear(batch)
			if !open {
				s.mu.Lock()
				reason := s.reason
				s.mu.Unlock()
				code := 1000
				if reason == livechat.CloseSlowConsumer {
					code = 1008
				}
				_ = s.conn.Close(code, reason)
				s.cancel()
				return
			}
		case <-tick.C:
			now := s.cfg.Clock.Now()
			if a := s.conn.LastActivity(); !a.Equal(lastConn) { // a pong or control frame arrived
				lastConn = a
				s.touch()
			}
			idle := now.Sub(time.Unix(0, s.lastActive.Load()))
			s.mu.Lock()
			loggedIn, expires := s.loggedIn, s.cred.ExpiresAt
			s.mu.Unlock()
			switch {
			case !loggedIn && now.Sub(s.started) >= s.cfg.LoginTimeout:
				s.Disconnect(ReasonConnectionTimeout)
			case loggedIn && !expires.IsZero() && !now.Before(expires):
				s.Disconnect(ReasonTokenExpired)
			case loggedIn && idle >= s.cfg.IdleTimeout:
				s.Disconnect(ReasonConnectionTimeout)
			case idle >= s.cfg.PingInterval && now.Sub(lastPing) >= s.cfg.PingInterval:
				lastPing = now
				if err := s.conn.Ping(ctx); err != nil {
					s.cancel()
					return
				}
			}
		case <-ctx.Done():
			return
		}
	}
}

// Subscriber side (livechat.Subscriber).

// SessionID implements livechat.Subscriber.
func (s *Session) SessionID() uint64 { return s.id }

// Audience implements livechat.Subscriber: API, version and push filter.
func (s *Session) Audience() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.audience
}

// Accepts implements livechat.Subscriber: chat pushes reach chat users and
// followers, and the group-wide ones (GroupReach) agents with access too.
func (s *Session) Accepts(ev *livechat.DomainEvent) bool {
	s.mu.Lock()
	loggedIn, actor, level, own, token := s.loggedIn, s.actor, s.level, s.own, s.cred.TokenID
	s.mu.Unlock()
	if !loggedIn {
		return false
	}
	if ev.Kind == livechat.KindTokenRevoked {
		if d, ok := ev.Data.(livechat.TokenRevokedData); ok && token != "" && slices.Contains(d.TokenIDs, token) {
			s.Disconnect(ReasonTokenRevoked)
		}
		return false
	}
	if s.cfg.DisconnectOn != nil {
		if reason := s.cfg.DisconnectOn(actor, ev); reason != "" {
			s.Disconnect(reason)
			return false
		}
	}
	if s.cfg.Pushes[ev.Kind] == nil {
		return false
	}
	if actor.IsCustomer() {
		return !ev.AgentsOnly
	}
	if customerKinds[ev.Kind] && level == "my" {
		return slices.Contains(ev.Topics, own)
	}
	if ev.ChatID != "" && !api.GroupReach[ev.Kind] {
		return slices.Contains(ev.Topics, own)
	}
	return true
}

// Encode implements livechat.Subscriber.
func (s *Session) Encode(ev *livechat.DomainEvent, requestID string) ([]byte, error) {
	if requestID != "" && s.cfg.RequestCopy != nil && !s.cfg.RequestCopy(s.Actor(), ev) {
		requestID = ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	name, frame, err := api.EncodePush(ctx, s.cfg.Service, s.cfg.Pushes, ev, s.cfg.Version, requestID)
	if err != nil || frame == nil {
		return nil, err
	}
	s.mu.Lock()
	filter := s.filter
	s.mu.Unlock()
	if filter != nil && !filter[name] {
		return nil, nil
	}
	return frame, nil
}

// Send implements livechat.Subscriber: while a request of this session is
// running, pushes wait so its response goes first.
func (s *Session) Send(frame []byte) bool {
	s.mu.Lock()
	if s.inRequest {
		if len(s.deferred) >= 256 {
			s.mu.Unlock()
			return false
		}
		s.deferred = append(s.deferred, frame)
		s.mu.Unlock()
		return true
	}
	s.mu.Unlock()
	return s.outbox.Push(frame)
}

// Registry tracks live sessions so shutdown can close them.
type Registry struct {
	mu sync.Mutex
	m  map[uint64]*Session
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{m: map[uint64]*Session{}} }

func (r *Registry) add(s *Session) {
	r.mu.Lock()
	r.m[s.id] = s
	r.mu.Unlock()
}

func (r *Registry) remove(s *Session) {
	r.mu.Lock()
	delete(r.m, s.id)
	r.mu.Unlock()
}

// Len is the number of live sessions.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.m)
}

// DisconnectAll tells every session why (reason by API) and closes it, then
// waits (until ctx ends) for them to be gone.
func (r *Registry) DisconnectAll(ctx context.Context, reason func(api string) string) error {
	r.mu.Lock()
	all := make([]*Session, 0, len(r.m))
	for _, s := range r.m {
		all = append(all, s)
	}
	r.mu.Unlock()
	for _, s := range all {
		s.Disconnect(reason(s.cfg.API))
	}
	for r.Len() > 0 {
		select {
		case <-ctx.Done():
			return errors.New("rtm: sessions still open at shutdown")
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}
