package webhooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

// claimSlack is added to Timeout for the life of an attempt's claim: a
// claim outlives its attempt only when its instance died mid-attempt, and
// then the attempt is made again once the claim expires.
const claimSlack = time.Minute

// maxAnswer bounds how much of a receiver's answer is read (and dropped).
const maxAnswer = 64 << 10

// errReceiverDown is the last error of a delivery that waited longer than
// the retry schedule for a receiver that stayed down.
var errReceiverDown = errors.New("the receiver stayed down for the whole retry schedule")

// worker sends queued deliveries until Stop.
func (d *Dispatcher) worker() {
	defer d.wg.Done()
	for {
		select {
		case <-d.quit:
			return
		case j := <-d.queue:
			if d.stopping() {
				d.done(j.del.ID)
				return
			}
			d.process(j)
		}
	}
}

// process makes the next attempt of a delivery, POSTs it and records the
// outcome. A retry is first claimed across instances and the delivery
// re-read (claimNext). A retry to a receiver that went down since it was
// queued waits for the next probe, unless it has waited too long already.
// The store work goes through withStore, the POST does not.
func (d *Dispatcher) process(j job) {
	defer d.done(j.del.ID)
	ctx := d.runCtx
	now := d.now()
	// A fresh delivery that waited in the queue until its grace almost ran
	// out may be taken by another instance soon: claim it like a retry.
	fresh := j.fresh && now.Add(d.cfg.Timeout).Before(j.del.NextAttemptAt)
	held := !fresh && !d.downUntil(j.del.URL, now).IsZero()
	if held && now.Sub(j.del.CreatedAt) < d.maxHold() {
		return // stays due; RetryDue leaves it out until the receiver's next probe
	}
	cur, claim := j.del, ""
	if !fresh {
		var ok bool
		if cur, claim, ok = d.claimNext(ctx, j.del); !ok {
			return
		}
	}
	var err error
	if held {
		err = errReceiverDown
	} else {
		d.attempts.Add(1)
		err = d.post(ctx, cur)
		if ctx.Err() != nil { // stopping: the attempt does not count and is made again after a restart
			d.release(claim)
			return
		}
		now = d.now()
		if err == nil {
			d.markUp(cur.URL)
		} else {
			d.markDown(cur.URL, now)
		}
	}
	d.record(ctx, cur, claim, err, held, now)
}

// record stores the outcome of an attempt: a delivered delivery is deleted
// (or kept as delivered for DeliveredRetention), a failed one scheduled
// again or, past the schedule or held too long, marked failed.
func (d *Dispatcher) record(ctx context.Context, cur *livechat.WebhookDelivery, claim string, err error, held bool, now time.Time) {
	next := *cur
	attempt := cur.Attempts + 1
	if !held {
		next.Attempts = attempt
	}
	counter, remove := &d.retried, false
	switch {
	case err == nil:
		next.Status, next.DeliveredAt, next.LastError = StatusDelivered, now, ""
		counter, remove = &d.delivered, d.cfg.DeliveredRetention == 0
	case held || attempt > len(d.cfg.Schedule):
		next.Status, next.LastError = StatusFailed, err.Error()
		counter = &d.failed
		d.log.Info("webhook delivery failed", "delivery_id", cur.ID, "webhook_id", cur.WebhookID, "action", cur.Action, "attempts", next.Attempts, "err", err)
	default:
		next.NextAttemptAt, next.LastError = now.Add(d.cfg.Schedule[attempt-1]), err.Error()
	}
	bg := context.WithoutCancel(ctx)
	var serr error
	_ = d.withStore(bg, func() {
		if remove {
			serr = d.core.Store().Deliveries().Delete(bg, next.ID)
		} else {
			serr = d.core.Store().Deliveries().Replace(bg, next.ID, &next)
		}
	})
	if serr != nil && !errors.Is(serr, livechat.ErrNotFound) {
		// The claim stays until it expires, so the attempt is not made again at once.
		d.log.Warn("webhook delivery outcome not stored", "delivery_id", next.ID, "err", serr)
		return
	}
	counter.Add(1)
	d.release(claim)
}

// release gives a claim back ("" is no claim).
func (d *Dispatcher) release(claim string) {
	if claim == "" {
		return
	}
	bg := context.WithoutCancel(d.runCtx)
	_ = d.withStore(bg, func() { _ = d.core.ReleaseClaim(bg, claim) })
}

// claimNext claims the next attempt of a delivery that is still pending and
// due, and returns the delivery as stored. A snapshot that fell behind (an
// attempt made since it was read) is followed once to the stored state.
func (d *Dispatcher) claimNext(ctx context.Context, snap *livechat.WebhookDelivery) (cur *livechat.WebhookDelivery, claim string, ok bool) {
	_ = d.withStore(ctx, func() {
		attempts := snap.Attempts
		for range 2 {
			claim = "delivery:" + snap.ID + ":" + strconv.Itoa(attempts+1)
			took, err := d.core.ClaimWork(ctx, claim, d.cfg.Timeout+claimSlack)
			if err != nil || !took {
				if err != nil && ctx.Err() == nil {
					d.log.Warn("webhook delivery claim failed", "delivery_id", snap.ID, "err", err)
				}
				return // another instance holds this attempt
			}
			cur, err = d.core.Store().Deliveries().Get(ctx, snap.ID)
			if err == nil && cur.Status == StatusPending && cur.Attempts == attempts {
				ok = true
				return
			}
			_ = d.core.ReleaseClaim(context.WithoutCancel(ctx), claim)
			if err != nil || cur.Status != StatusPending || cur.NextAttemptAt.After(d.now()) {
				return // gone, finished, or not due any more
			}
			attempts = cur.Attempts
		}
	})
	return cur, claim, ok
}

// withStore runs store work in one of the StoreConcurrency slots. The
// embedded store makes colliding writers sleep on a busy lock (milliseconds
// each time), so the workers' bookkeeping would slow Publish far more than
// taking turns does. It fails only when ctx ends before a slot is free.
func (d *Dispatcher) withStore(ctx context.Context, f func()) error {
	select {
	case d.storeSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-d.storeSlots }()
	f()
	return nil
}

// post sends a delivery's envelope; a 2xx answer within Timeout is success.
func (d *Dispatcher) post(ctx context.Context, del *livechat.WebhookDelivery) error {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, del.URL, strings.NewReader(del.Body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "chatbridge-webhooks")
	resp, err := d.cfg.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // drop the URL, which may hold credentials, from the stored error
		}
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}
