package webhooks

import (
	"context"
	"errors"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

// job is one delivery handed to the workers. fresh marks a delivery Publish
// just wrote: this instance owns its first attempt (see write), so the
// attempt is made without a claim.
type job struct {
	del   *livechat.WebhookDelivery
	fresh bool
}

// firstAttemptGrace is how long a fresh delivery belongs to the instance
// that wrote it: as long as a claim lives.
func (d *Dispatcher) firstAttemptGrace() time.Duration { return d.cfg.Timeout + claimSlack }

// maxHold is how long a delivery may wait for a receiver that is down
// without an attempt of its own: the whole retry schedule, and the first
// attempt's grace.
func (d *Dispatcher) maxHold() time.Duration {
	total := d.firstAttemptGrace()
	for _, w := range d.cfg.Schedule {
		total += w
	}
	return total
}

// RetryDue hands the pending deliveries whose time has come to the workers,
// oldest first, at most Config.BatchSize per call, and says how many. It
// waits while the workers' queue is full. Deliveries to a receiver that is
// down wait for its next probe. The webhook_retries cron job calls it; it
// is also how deliveries left pending by a restart go out.
func (d *Dispatcher) RetryDue(ctx context.Context) (int, error) {
	if d.svc.Load() == nil {
		return 0, errors.New("webhooks: not started")
	}
	now := d.now()
	where := []livechat.Cond{livechat.Eq("status", StatusPending), {Field: "next_attempt_at", Op: livechat.OpLte, Value: now}}
	if down := d.downURLs(now); len(down) > 0 {
		where = append(where, livechat.Cond{Field: "url", Op: livechat.OpNin, Value: down})
	}
	due, err := d.core.Store().Deliveries().Find(ctx, livechat.Query{Where: where, Sort: "next_attempt_at", Limit: d.cfg.BatchSize})
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range due {
		if d.enqueue(ctx, job{del: &due[i]}, true) {
			n++
		}
	}
	return n, ctx.Err()
}

// Prune removes delivered deliveries older than DeliveredRetention (when
// they are kept at all) and failed ones older than FailedRetention, and
// says how many.
func (d *Dispatcher) Prune(ctx context.Context) (int64, error) {
	if d.svc.Load() == nil {
		return 0, errors.New("webhooks: not started")
	}
	now := d.now()
	deliveries := d.core.Store().Deliveries()
	n, err := deliveries.DeleteWhere(ctx, livechat.Where(livechat.Eq("status", StatusDelivered),
		livechat.Cond{Field: "delivered_at", Op: livechat.OpLte, Value: now.Add(-d.cfg.DeliveredRetention)}))
	if err != nil {
		return n, err
	}
	m, err := deliveries.DeleteWhere(ctx, livechat.Where(livechat.Eq("status", StatusFailed),
		livechat.Cond{Field: "created_at", Op: livechat.OpLte, Value: now.Add(-d.cfg.FailedRetention)}))
	return n + m, err
}

// enqueue hands a delivery to the workers unless it is already queued or
// being sent here; wait says whether to wait for room (until ctx or Stop).
func (d *Dispatcher) enqueue(ctx context.Context, j job, wait bool) bool {
	id := j.del.ID
	d.mu.Lock()
	if d.stopped || d.inflight[id] {
		d.mu.Unlock()
		return false
	}
	d.inflight[id] = true
	d.mu.Unlock()
	if wait {
		select {
		case d.queue <- j:
			return true
		case <-ctx.Done():
		case <-d.quit:
		}
	} else {
		select {
		case d.queue <- j:
			return true
		default:
		}
	}
	d.done(id)
	return false
}

// done forgets a delivery handed to the workers.
func (d *Dispatcher) done(id string) {
	d.mu.Lock()
	delete(d.inflight, id)
	d.mu.Unlock()
}

// The receiver breaker: after a failed attempt a URL counts as down until
// the first retry wait has passed. Meanwhile new deliveries to it are stored
// due at that time instead of being tried at once, RetryDue leaves it out,
// and queued retries skip it, so a dead receiver costs one store write per
// delivery (the insert) rather than one per doomed attempt. When the time
// comes, the due deliveries are tried again: the first success closes the
// breaker, a failure opens it for another period.

// defaultProbeWait is how long a receiver counts as down with an empty
// retry schedule.
const defaultProbeWait = 10 * time.Second

// downUntil says until when url counts as down (zero when it does not).
func (d *Dispatcher) downUntil(url string, now time.Time) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t, ok := d.down[url]; ok && t.After(now) {
		return t
	}
	return time.Time{}
}

// downURLs lists the URLs down at now, forgetting those no longer down.
func (d *Dispatcher) downURLs(now time.Time) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for u, t := range d.down {
		if t.After(now) {
			out = append(out, u)
		} else {
			delete(d.down, u)
		}
	}
	return out
}

// markDown records a failed attempt to url at now; markUp a success.
func (d *Dispatcher) markDown(url string, now time.Time) {
	wait := defaultProbeWait
	if len(d.cfg.Schedule) > 0 {
		wait = d.cfg.Schedule[0]
	}
	until := now.Add(wait)
	d.mu.Lock()
	if until.After(d.down[url]) {
		d.down[url] = until
	}
	d.mu.Unlock()
}

func (d *Dispatcher) markUp(url string) {
	d.mu.Lock()
	delete(d.down, url)
	d.mu.Unlock()
}
