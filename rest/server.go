package rest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/chatbridge/chatbridge/bridge"
	"github.com/chatbridge/chatbridge/ddp"
	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/rtm"
)

// Pinger is the store as readiness sees it.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Config configures the HTTP server. Zero values are documented defaults.
type Config struct {
	// Service is the conversation core; required.
	Service *livechat.Service
	// Store answers /readyz; required.
	Store Pinger
	// Hub is reported in /metrics when set.
	Hub *livechat.Hub
	// Metrics; nil makes new ones (pass NewMetrics' result to count domain events too).
	Metrics *Metrics
	// Jobs reports cron job counters in /metrics when set.
	Jobs JobStatser
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// BodyLimit caps request bodies (default "12M", above LiveChat's 10 MB upload limit).
	BodyLimit string
	// AllowedOrigins for browser widgets calling the customer token endpoints (default any).
	AllowedOrigins []string
	// RTM tunes the realtime sessions' timers (zero values: LiveChat's 30 s rules).
	RTM RTMTuning
	// PublicURL is the server's address as clients reach it (behind a
	// proxy, say): upload links and Rocket.Chat's Site_Url use it. Empty:
	// links follow each request's scheme and host.
	PublicURL string
}

// RTMTuning overrides the RTM session timers (tests shorten them).
type RTMTuning struct {
	LoginTimeout, IdleTimeout, PingInterval, TickInterval time.Duration
	// Clock for session deadlines; nil means the core's clock.
	Clock livechat.Clock
}

// Server is chatbridge's HTTP server.
type Server struct {
	cfg      Config
	e        *echo.Echo
	svc      *livechat.Service
	log      *slog.Logger
	metrics  *Metrics
	http     *http.Server
	sessions *rtm.Registry
	ddp      *ddp.Server    // rest/ddp.go
	bridge   *bridge.Bridge // the Rocket.Chat API, shared by DDP and REST
}

// NewServer builds the server and its routes.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Service == nil || cfg.Store == nil {
		return nil, errors.New("rest: Config.Service and Config.Store are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.BodyLimit == "" {
		cfg.BodyLimit = "12M"
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(cfg.Hub)
	}
	if cfg.Jobs != nil {
		cfg.Metrics.reg.MustRegister(jobsCollector{cfg.Jobs})
	}
	s := &Server{cfg: cfg, svc: cfg.Service, log: cfg.Logger, metrics: cfg.Metrics, sessions: rtm.NewRegistry()}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	e.Use(middleware.RequestID())
	e.Use(s.observe())
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic in handler", "path", c.Path(), "err", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(middleware.BodyLimit(cfg.BodyLimit))
	s.e = e
	s.http = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug)}
	b, err := bridge.New(bridge.Config{Service: cfg.Service, Hub: cfg.Hub, Logger: s.log, SiteURL: cfg.PublicURL})
	if err != nil {
		return nil, fmt.Errorf("rest: bridge: %w", err)
	}
	s.bridge = b
	s.routes()
	return s, nil
}

// Echo exposes the router so protocol packages can add their routes.
func (s *Server) Echo() *echo.Echo { return s.e }

// Metrics exposes the server's metrics.
func (s *Server) Metrics() *Metrics { return s.metrics }

// Handler is the server's http.Handler (for tests with httptest).
func (s *Server) Handler() http.Handler { return s.e }

func (s *Server) routes() {
	e := s.e
	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metrics.handler())
	s.tokenRoutes()
	s.livechatWebRoutes()
	s.livechatConfigRoutes()
	s.uploadRoutes()
	s.livechatRTMRoutes()
	s.ddpRoutes()              // rest/ddp.go
	s.livechatCustomerRoutes() // livechat_customer.go
	s.rocketChatRoutes()       // rocketchat.go
}

func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.log.Warn("store not ready", "err", err)
		return &livechat.Error{Type: livechat.TypeServiceUnavailable, Message: "store unavailable", Err: err}
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// observe writes a failed request's error response (through the one error
// handler), then logs and counts the request with its final status. It
// never logs headers or query strings, where tokens travel.
func (s *Server) observe() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err)
			}
			d := time.Since(start)
			if !isUpgrade(c) {
				s.metrics.observe(c, d)
			}
			req := c.Request()
			if req.URL.Path != "/healthz" && req.URL.Path != "/metrics" {
				s.log.Debug("http request", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
					"method", req.Method, "path", req.URL.Path, "status", c.Response().Status,
					"duration", d, "remote", c.RealIP())
			}
			return nil
		}
	}
}

// Serve serves on l until Shutdown (also when Shutdown came first). It
// returns nil after a clean shutdown.
func (s *Server) Serve(l net.Listener) error {
	err := s.http.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting requests and waits for those in flight (long-lived
// sockets are closed by their own sessions' shutdown).
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	// Upgraded sockets are not the HTTP server's any more: close them here,
	// telling each client to reconnect later.
	if serr := s.sessions.DisconnectAll(ctx, rtm.ShutdownReason); err == nil {
		err = serr
	}
	if derr := s.shutdownDDP(ctx); err == nil {
		err = derr
	}
	return err
}

// authenticate resolves the request's Authorization header to an actor.
func (s *Server) authenticate(c echo.Context) (livechat.Actor, error) {
	h := c.Request().Header.Get(echo.HeaderAuthorization)
	if strings.TrimSpace(h) == "" {
		return livechat.Actor{}, livechat.Errorf(livechat.TypeAuthentication, "Missing Authorization header")
	}
	return s.svc.Authenticate(c.Request().Context(), h)
}
