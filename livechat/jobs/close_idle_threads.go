package jobs

import (
	"context"
	"sync"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

// Bounds of the idle sweep's period.
const (
	minIdleSweep = 500 * time.Millisecond
	maxIdleSweep = 30 * time.Second
)

// IdleSweepPeriod is how often the idle sweep runs for a thread idle timeout:
// a quarter of it, between 500 ms and 30 s. A thread is closed at most one
// period (plus the close itself) late: a 2 s timeout within about 2.5 s.
func IdleSweepPeriod(idle time.Duration) time.Duration {
	return min(max(idle/4, minIdleSweep), maxIdleSweep)
}

// CloseIdleThreads closes threads idle for idle or longer, every
// IdleSweepPeriod(idle); register it with Scheduler.AddEvery. A run reads the
// active chats only once the earliest moment a thread can be idle (as the
// last sweep computed it) has come, so frequent runs stay cheap.
func CloseIdleThreads(svc *livechat.Service, idle time.Duration) Job {
	var (
		mu  sync.Mutex
		due time.Time // guarded by mu
	)
	return Job{Name: "close_idle_threads", Spec: "@every " + IdleSweepPeriod(idle).String(), Run: func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if svc.Clock().Now().Before(due) {
			return nil
		}
		_, next, err := svc.SweepIdleThreads(ctx, idle)
		due = next
		return err
	}}
}
