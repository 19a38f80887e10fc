package jobs

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Job is one piece of timed work.
type Job struct {
	// Name identifies the job in logs and metrics.
	Name string
	// Spec is a cron spec with seconds, or "@every 10s".
	Spec string
	// Run does the work; an error is logged and counted.
	Run func(ctx context.Context) error
}

// Stats are a job's run counters.
type Stats struct {
	Name     string
	Runs     uint64
	Failures uint64
	Total    time.Duration
	Last     time.Duration
}

// Scheduler owns the cron runner and the jobs' stats.
type Scheduler struct {
	log    *slog.Logger
	cron   *cron.Cron
	ctx    context.Context
	cancel context.CancelFunc

	mu    sync.Mutex
	stats map[string]*Stats
}

// New returns a scheduler; add jobs, then Start.
func New(log *slog.Logger) *Scheduler {
	if log == nil {
		log = slog.Default()
	}
	cl := cronLogger{log}
	ctx, cancel := context.WithCancel(context.Background())
	return &Scheduler{
		log:    log,
		cron:   cron.New(cron.WithSeconds(), cron.WithChain(cron.Recover(cl), cron.SkipIfStillRunning(cl))),
		ctx:    ctx,
		cancel: cancel,
		stats:  map[string]*Stats{},
	}
}

// Add registers a job.
func (s *Scheduler) Add(j Job) error {
	s.mu.Lock()
	s.stats[j.Name] = &Stats{Name: j.Name}
	s.mu.Unlock()
	_, err := s.cron.AddFunc(j.Spec, func() { s.RunNow(j) })
	return err
}

// RunNow runs a job once on the caller's goroutine and records it.
func (s *Scheduler) RunNow(j Job) {
	start := time.Now()
	err := j.Run(s.ctx)
	d := time.Since(start)
	s.mu.Lock()
	st := s.stats[j.Name]
	if st == nil {
		st = &Stats{Name: j.Name}
		s.stats[j.Name] = st
	}
	st.Runs++
	st.Total += d
	st.Last = d
	if err != nil {
		st.Failures++
	}
	s.mu.Unlock()
	if err != nil && s.ctx.Err() == nil {
		s.log.Warn("job failed", "job", j.Name, "err", err)
	}
}

// Start starts triggering jobs.
func (s *Scheduler) Start() { s.cron.Start() }

// Stop stops triggering, cancels running jobs' context and waits for them
// until ctx ends. It is safe to call more than once.
func (s *Scheduler) Stop(ctx context.Context) {
	done := s.cron.Stop()
	s.cancel()
	select {
	case <-done.Done():
	case <-ctx.Done():
	}
}

// Stats returns every job's counters, by name.
func (s *Scheduler) Stats() []Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Stats, 0, len(s.stats))
	for _, st := range s.stats {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// cronLogger adapts slog to cron's logger.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}
