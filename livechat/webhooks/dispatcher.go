package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

// Delivery statuses of a livechat.WebhookDelivery.
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusFailed    = "failed"
)

// DefaultSchedule waits 10, 20 and 30 seconds before the three retries of a
// failed delivery: LiveChat retries up to three times within about a minute.
var DefaultSchedule = []time.Duration{10 * time.Second, 20 * time.Second, 30 * time.Second}

// Config configures a Dispatcher. The zero value of every field is its
// documented default.
type Config struct {
	// Schedule is the wait before each retry of a failed delivery; its length
	// is the number of retries. Nil means DefaultSchedule.
	Schedule []time.Duration
	// Timeout bounds one POST, answer included (default 10 s, as LiveChat).
	Timeout time.Duration
	// Workers is the number of goroutines sending POSTs (default 4).
	Workers int
	// QueueSize bounds the hand-over of deliveries to the workers (default
	// 1024); a delivery that does not fit waits in the store for RetryDue.
	QueueSize int
	// PublishTimeout bounds the store work of one Publish (default 5 s).
	PublishTimeout time.Duration
	// RefreshInterval is how often the registration cache looks for changes
	// made on any instance (default 2 s). It reloads everything at least
	// every 30 s anyway.
	RefreshInterval time.Duration
	// StoreConcurrency bounds how many store calls the dispatcher makes at
	// once, Publish's inserts and the workers' bookkeeping together (default
	// 1). The embedded store sleeps on a busy lock when two writers meet, so
	// one at a time is fastest there; with MongoDB it may be raised.
	StoreConcurrency int
	// BatchSize bounds the deliveries one RetryDue call takes (default 500).
	BatchSize int
	// DeliveredRetention is how long delivered deliveries are kept, marked
	// delivered, before Prune removes them. The default, 0, deletes them as
	// soon as they are delivered: on the embedded store updates and deletes
	// grow slower as the collection grows, so the queue is kept short.
	DeliveredRetention time.Duration
	// FailedRetention is how long Prune keeps failed deliveries, for
	// inspection (default 1 h; LiveChat keeps none).
	FailedRetention time.Duration
	// Client sends the POSTs; nil means a client that follows no redirects.
	// Timeout applies to every request either way.
	Client *http.Client
	// Clock stamps deliveries and schedules retries; nil means the core's.
	Clock livechat.Clock
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// fullReload is the longest the cache goes without reloading everything,
// whatever the revision says (bots change without a webhook revision).
const fullReload = 30 * time.Second

func (c *Config) setDefaults() error {
	if c.Schedule == nil {
		c.Schedule = DefaultSchedule
	}
	for _, d := range c.Schedule {
		if d <= 0 {
			return fmt.Errorf("webhooks: every retry wait must be positive, got %v", d)
		}
	}
	c.Schedule = append([]time.Duration(nil), c.Schedule...)
	for _, f := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&c.Timeout, 10 * time.Second}, {&c.PublishTimeout, 5 * time.Second}, {&c.RefreshInterval, 2 * time.Second},
		{&c.DeliveredRetention, 0}, {&c.FailedRetention, time.Hour}} {
		if *f.v < 0 {
			return fmt.Errorf("webhooks: negative duration %v in Config", *f.v)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	for _, f := range []struct {
		v   *int
		def int
	}{{&c.Workers, 4}, {&c.QueueSize, 1024}, {&c.BatchSize, 500}, {&c.StoreConcurrency, 1}} {
		if *f.v < 0 {
			return fmt.Errorf("webhooks: negative size %d in Config", *f.v)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Client == nil {
		c.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return nil
}

// ParseSchedule reads a retry schedule written as comma-separated
// durations ("10s,20s,30s"), as a flag gives it. An empty string is nil (the
// default schedule); "none" is no retries.
func ParseSchedule(s string) ([]time.Duration, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return nil, nil
	case "none":
		return []time.Duration{}, nil
	}
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("webhooks: retry schedule %q: each wait must be a positive duration", s)
		}
		out = append(out, d)
	}
	return out, nil
}

// Stats are the dispatcher's counters since New, for metrics.
type Stats struct {
	// Queued counts deliveries Publish wrote.
	Queued uint64
	// Attempts counts POSTs sent.
	Attempts uint64
	// Delivered counts deliveries a receiver accepted (2xx).
	Delivered uint64
	// Retried counts failed attempts that were scheduled again.
	Retried uint64
	// Failed counts deliveries that failed their last attempt.
	Failed uint64
	// PublishErrors counts events whose deliveries could not all be written.
	PublishErrors uint64
}

// Dispatcher turns domain events into webhook deliveries and delivers them.
// It is a livechat.Publisher; Publish is safe for concurrent use.
type Dispatcher struct {
	cfg Config
	log *slog.Logger

	// Set once by Start, before svc is published: read-only afterwards.
	core  *livechat.Service
	clock livechat.Clock
	// svc is nil until Start: Publish drops events before.
	svc atomic.Pointer[livechat.Service]
	// reg is the current registration snapshot, replaced whole by reload.
	reg atomic.Pointer[registry]

	queue  chan job
	kick   chan struct{} // cap 1: ask the refresher for a full reload now
	quit   chan struct{} // closed by Stop
	runCtx context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	storeSlots chan struct{} // StoreConcurrency tokens for the store work (withStore)

	refreshMu sync.Mutex // serializes reloads; guards rev and loaded
	rev       string
	loaded    time.Time

	mu        sync.Mutex
	started   bool                  // guarded by mu
	stopped   bool                  // guarded by mu
	inflight  map[string]bool       // guarded by mu: delivery ids queued or being sent here
	botStatus map[string]statusNote // guarded by mu: bot statuses heard since the last load
	down      map[string]time.Time  // guarded by mu: receiver URL → down until (queue.go)

	queued, attempts, delivered, retried, failed, publishErrors atomic.Uint64
}

// statusNote is a bot routing status heard from a routing_status_set event,
// with the (monotonic) time it was heard.
type statusNote struct {
	status string
	at     time.Time
}

// New validates cfg and returns a stopped Dispatcher. Hand it to the core as
// (one of) its Publisher(s), then Start it with the core.
func New(cfg Config) (*Dispatcher, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Dispatcher{
		cfg: cfg, log: cfg.Logger.With("component", "webhooks"),
		queue: make(chan job, cfg.QueueSize), kick: make(chan struct{}, 1), quit: make(chan struct{}),
		runCtx: ctx, cancel: cancel, storeSlots: make(chan struct{}, cfg.StoreConcurrency), inflight: map[string]bool{}, botStatus: map[string]statusNote{}, down: map[string]time.Time{},
	}
	d.reg.Store(&registry{})
	return d, nil
}

// Start loads the registrations and starts the workers and the cache
// refresher. Pending deliveries left by an earlier run go out on the next
// RetryDue. Start may be called once.
func (d *Dispatcher) Start(ctx context.Context, svc *livechat.Service) error {
	if svc == nil {
		return errors.New("webhooks: Start needs the core")
	}
	d.mu.Lock()
	if d.started {
		d.mu.Unlock()
		return errors.New("webhooks: already started")
	}
	d.started = true
	d.mu.Unlock()
	d.core, d.clock = svc, d.cfg.Clock
	if d.clock == nil {
		d.clock = svc.Clock()
	}
	if err := d.refresh(ctx, true); err != nil {
		return err
	}
	d.svc.Store(svc)
	for range d.cfg.Workers {
		d.wg.Add(1)
		go d.worker()
	}
	d.wg.Add(1)
	go d.refresher()
	return nil
}

// Stop stops the workers and the refresher. POSTs under way may finish
// until ctx ends; then they are cancelled, and their attempts, not counted,
// are made again after a restart. Deliveries Publish writes after Stop stay
// pending in the store. Stop is idempotent.
func (d *Dispatcher) Stop(ctx context.Context) error {
	d.mu.Lock()
	if !d.started || d.stopped {
		d.stopped = true
		d.mu.Unlock()
		d.cancel()
		return nil
	}
	d.stopped = true
	d.mu.Unlock()
	close(d.quit)
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	defer d.cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		d.cancel()
		<-done
		return ctx.Err()
	}
}

// Stats returns the counters.
func (d *Dispatcher) Stats() Stats {
	return Stats{
		Queued: d.queued.Load(), Attempts: d.attempts.Load(), Delivered: d.delivered.Load(),
		Retried: d.retried.Load(), Failed: d.failed.Load(), PublishErrors: d.publishErrors.Load(),
	}
}

// now is the dispatcher's time, cut to the millisecond the store keeps.
func (d *Dispatcher) now() time.Time { return d.clock.Now().UTC().Truncate(time.Millisecond) }

// stopping says whether Stop was called.
func (d *Dispatcher) stopping() bool {
	select {
	case <-d.quit:
		return true
	default:
		return false
	}
}
