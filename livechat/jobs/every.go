package jobs

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// AddEvery registers a job whose Spec is "@every <duration>" and triggers it
// at exactly that period. robfig's parser turns "@every" into whole seconds
// (one second at least) and aligns runs to the second, too coarse for a
// period such as the 500 ms idle sweep of a 2 s thread idle timeout.
func (s *Scheduler) AddEvery(j Job) error {
	d, err := everyPeriod(j.Spec)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.stats[j.Name] = &Stats{Name: j.Name}
	s.mu.Unlock()
	s.cron.Schedule(period(d), cron.FuncJob(func() { s.RunNow(j) }))
	return nil
}

func everyPeriod(spec string) (time.Duration, error) {
	rest, ok := strings.CutPrefix(spec, "@every ")
	if !ok {
		return 0, fmt.Errorf("jobs: %q is not an @every spec", spec)
	}
	d, err := time.ParseDuration(strings.TrimSpace(rest))
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("jobs: %q: the period must be a positive duration", spec)
	}
	return d, nil
}

// period is a cron.Schedule that fires a fixed time after the last run.
type period time.Duration

// Next returns t plus the period.
func (p period) Next(t time.Time) time.Time { return t.Add(time.Duration(p)) }
