package main

import (
	"github.com/chatbridge/chatbridge/livechat/webhooks"
	"github.com/prometheus/client_golang/prometheus"

	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/broker"
	"github.com/chatbridge/chatbridge/livechat/jobs"
	"github.com/chatbridge/chatbridge/livechat/mongostore"
	"github.com/chatbridge/chatbridge/rest"
)

// bootstrapEmail is the first owner made on an empty store when no admin is given.
const bootstrapEmail = "admin@chatbridge.local"

// openCore opens the store and the conversation core with cfg.
func openCore(ctx context.Context, cfg *config, log *slog.Logger, pub livechat.Publisher) (*mongostore.Store, *livechat.Service, error) {
	store, err := mongostore.Open(ctx, mongostore.Config{URI: cfg.MongoURI, Database: cfg.MongoDB, DataDir: cfg.DataDir, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	files, err := livechat.NewDirFileStore(filepath.Join(cfg.DataDir, "files"))
	if err != nil {
		_ = store.Close(context.Background())
		return nil, nil, err
	}
	svc, err := livechat.NewService(ctx, livechat.Config{
		Store: store, Publisher: pub, Logger: log, Files: files,
		OrganizationID: cfg.OrganizationID, LicenseID: cfg.LicenseID,
	})
	if err != nil {
		_ = store.Close(context.Background())
		return nil, nil, err
	}
	return store, svc, nil
}

// serve runs the server until ctx ends, then shuts down in order: HTTP
// (and with it new sessions), live sessions, cron, store. ready, when set,
// receives the listening address.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- string) error {
	cfg, _, err := parseConfig("serve", args, stderr, nil)
	if err != nil {
		return err
	}
	log := cfg.logger(stderr)

	hub := livechat.NewHub(livechat.HubConfig{Logger: log})
	metrics := rest.NewMetrics(hub)
	schedule, _ := webhooks.ParseSchedule(cfg.WebhookRetrySchedule) // validated with the config
	wh, err := webhooks.New(webhooks.Config{Logger: log, Schedule: schedule})
	if err != nil {
		return err
	}
	remote := &lateBroker{}
	store, svc, err := openCore(ctx, cfg, log, livechat.Publishers{metrics.Publisher(), hub, wh, remote})
	if err != nil {
		return err
	}
	if cfg.NATSURL != "" {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		b, err := broker.Connect(cctx, broker.Config{URL: cfg.NATSURL, OrganizationID: svc.Organization().OrganizationID,
			Local: remoteSink{hub: hub, webhooks: wh}, Logger: log})
		cancel()
		if err != nil {
			_ = svc.Close(context.Background())
			_ = store.Close(context.Background())
			return err
		}
		remote.b.Store(b)
		defer remote.close(log) // early returns; the shutdown below closes it first
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := svc.Close(cctx); err != nil {
			log.Warn("core close", "err", err)
		}
		if err := store.Close(cctx); err != nil {
			log.Warn("store close", "err", err)
		}
	}()

	if err := wh.Start(ctx, svc); err != nil {
		return fmt.Errorf("webhooks: %w", err)
	}
	defer func() { // early returns; Stop is idempotent
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = wh.Stop(c)
	}()
	registerWebhookMetrics(metrics, wh)

	if cfg.AdminEmail != "" {
		a, err := svc.EnsureOwner(ctx, cfg.AdminEmail, cfg.AdminPassword, cfg.AdminToken)
		if err != nil {
			return fmt.Errorf("admin agent: %w", err)
		}
		log.Info("admin agent ready", "agent_id", a.ID, "account_id", a.AccountID)
	} else if a, token, err := svc.Bootstrap(ctx, bootstrapEmail); err != nil {
		return fmt.Errorf("first owner: %w", err)
	} else if a != nil {
		// Shown once, on the console only: it is the only way in to a new store.
		fmt.Fprintf(stdout, "\nFirst start: created owner agent %s\n  Bearer token (shown once): %s\n  Set a password with: chatbridge agent create --email %s --role owner --password ...\n\n", a.ID, token, a.ID)
	}

	sched := jobs.New(log)
	for _, j := range []jobs.Job{jobs.ExpiredTokens(svc), jobs.RouteQueued(svc), jobs.ExpiredClaims(svc), jobs.AgentOffline(svc),
		jobs.WebhookRetries(wh), jobs.WebhookPrune(wh), jobs.UnusedUploads(svc)} {
		if err := sched.Add(j); err != nil {
			return err
		}
	}
	// Sub-second periods: robfig's own @every rounds up to whole seconds.
	if err := sched.AddEvery(jobs.CloseIdleThreads(svc, cfg.ThreadIdleTimeout)); err != nil {
		return err
	}

	srv, err := rest.NewServer(rest.Config{Service: svc, Store: store, Hub: hub, Metrics: metrics, Jobs: sched, Logger: log,
		PublicURL: strings.TrimRight(cfg.PublicURL, "/")})
	if err != nil {
		return err
	}
	l, err := listen(cfg)
	if err != nil {
		return err
	}
	org := svc.Organization()
	scheme := "http://"
	if cfg.TLSCert != "" {
		scheme = "https://"
	}
	base := scheme + displayAddr(l.Addr())
	log.Info("chatbridge listening", "addr", l.Addr().String(), "organization_id", org.OrganizationID, "license_id", org.LicenseID,
		"store", storeKind(cfg))
	wsBase := "ws" + strings.TrimPrefix(base, "http")
	for _, ep := range []string{base + "/healthz", base + "/readyz", base + "/metrics", base + "/v2/token", base + "/v2/info",
		base + "/v2/customer/token", base + "/v3.5/agent/action/<method>", wsBase + "/v3.5/agent/rtm/ws", base + "/v3.4/agent/rtm/sjs",
		base + "/v3.5/customer/action/<method>?organization_id=" + org.OrganizationID,
		wsBase + "/v3.5/customer/rtm/ws?organization_id=" + org.OrganizationID,
		base + "/v3.5/configuration/action/<method>", wsBase + "/websocket", base + "/sockjs"} {
		log.Info("endpoint", "url", ep)
	}
	sched.Start()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	if ready != nil {
		ready <- l.Addr().String()
	}

	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil {
		log.Warn("http shutdown", "err", serr)
	}
	remote.close(log) // no more events from other instances into the hub
	hub.Close()
	sched.Stop(sctx)
	if werr := wh.Stop(sctx); werr != nil {
		log.Warn("webhooks stop", "err", werr)
	}
	return err
}

// listen opens --addr, with TLS when a certificate is given (HTTPS and WSS
// then share the listener: @livechat/lc-sdk-js speaks nothing else).
func listen(cfg *config) (net.Listener, error) {
	var tcfg *tls.Config
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		tcfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	}
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil || tcfg == nil {
		return l, err
	}
	return tls.NewListener(l, tcfg), nil
}

func storeKind(cfg *config) string {
	if cfg.MongoURI == "" {
		return "embedded FerretDB in " + cfg.DataDir
	}
	return "mongodb"
}

// displayAddr turns a wildcard listen address into one a browser can open.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// registerWebhookMetrics exposes the webhook dispatcher's counters.
func registerWebhookMetrics(m *rest.Metrics, wh *webhooks.Dispatcher) {
	for _, c := range []struct {
		name string
		get  func(webhooks.Stats) uint64
	}{
		{"queued", func(s webhooks.Stats) uint64 { return s.Queued }},
		{"attempts", func(s webhooks.Stats) uint64 { return s.Attempts }},
		{"delivered", func(s webhooks.Stats) uint64 { return s.Delivered }},
		{"retried", func(s webhooks.Stats) uint64 { return s.Retried }},
		{"failed", func(s webhooks.Stats) uint64 { return s.Failed }},
		{"publish_errors", func(s webhooks.Stats) uint64 { return s.PublishErrors }},
	} {
		m.Registry().MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "chatbridge_webhook_" + c.name + "_total", Help: "Webhook deliveries: " + c.name + ".",
		}, func() float64 { return float64(c.get(wh.Stats())) }))
	}
}

// lateBroker forwards the core's events to the broker once it is connected
// (the broker needs the organization id, which the core reads first).
type lateBroker struct{ b atomic.Pointer[broker.Broker] }

// close disconnects the broker once; later calls do nothing.
func (l *lateBroker) close(log *slog.Logger) {
	if b := l.b.Swap(nil); b != nil {
		if err := b.Close(); err != nil {
			log.Warn("broker close", "err", err)
		}
	}
}

func (l *lateBroker) Publish(ev *livechat.DomainEvent) {
	if b := l.b.Load(); b != nil {
		b.Publish(ev)
	}
}

// remoteSink receives the other instances' events: every one goes to the
// local sessions; webhook registration changes also reload the dispatcher.
// Their webhooks were delivered where they happened.
type remoteSink struct {
	hub      *livechat.Hub
	webhooks livechat.Publisher
}

func (r remoteSink) Publish(ev *livechat.DomainEvent) {
	r.hub.Publish(ev)
	if ev.Kind == livechat.KindWebhooksChanged {
		r.webhooks.Publish(ev)
	}
}
