package jobs_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/chatbridge/chatbridge/livechat/jobs"
)

// fakeQueue counts the calls of the webhook jobs.
type fakeQueue struct {
	retries, prunes atomic.Int32
	err             error
}

func (q *fakeQueue) RetryDue(context.Context) (int, error) { q.retries.Add(1); return 0, q.err }
func (q *fakeQueue) Prune(context.Context) (int64, error)  { q.prunes.Add(1); return 0, q.err }

func TestWebhookJobs(t *testing.T) {
	t.Parallel()
	q := &fakeQueue{}
	s := jobs.New(nil)
	retries, prune := jobs.WebhookRetries(q), jobs.WebhookPrune(q)
	for _, j := range []jobs.Job{retries, prune} {
		if err := s.Add(j); err != nil {
			t.Fatalf("%s: %v", j.Name, err)
		}
	}
	s.RunNow(retries)
	s.RunNow(prune)
	q.err = errors.New("store down")
	s.RunNow(retries)
	if q.retries.Load() != 2 || q.prunes.Load() != 1 {
		t.Fatalf("retries %d, prunes %d", q.retries.Load(), q.prunes.Load())
	}
	for _, st := range s.Stats() {
		if st.Name == "webhook_retries" && (st.Runs != 2 || st.Failures != 1) {
			t.Fatalf("webhook_retries stats %+v", st)
		}
	}
}
