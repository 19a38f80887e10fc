package jobs_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/jobs"
	"github.com/chatbridge/chatbridge/livechat/mongostore/storetest"
)

func TestSchedulerCountsRunsAndFailures(t *testing.T) {
	t.Parallel()
	s := jobs.New(nil)
	var n atomic.Int32
	ok := jobs.Job{Name: "ok", Spec: "@every 1s", Run: func(context.Context) error { n.Add(1); return nil }}
	bad := jobs.Job{Name: "bad", Spec: "@every 1h", Run: func(context.Context) error { return errors.New("boom") }}
	panicky := jobs.Job{Name: "panicky", Spec: "@every 1s", Run: func(context.Context) error { panic("oops") }}
	for _, j := range []jobs.Job{ok, bad, panicky} {
		if err := s.Add(j); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Add(jobs.Job{Name: "x", Spec: "not a spec", Run: ok.Run}); err == nil {
		t.Fatal("a bad spec was accepted")
	}
	s.RunNow(bad)
	s.Start()
	deadline := time.Now().Add(5 * time.Second)
	for n.Load() < 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // polling cron's real trigger, bounded by the deadline
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Stop(ctx)
	s.Stop(ctx) // idempotent
	stats := map[string]jobs.Stats{}
	for _, st := range s.Stats() {
		stats[st.Name] = st
	}
	if stats["ok"].Runs < 1 || stats["ok"].Failures != 0 {
		t.Fatalf("ok job stats %+v", stats["ok"])
	}
	if stats["bad"].Runs != 1 || stats["bad"].Failures != 1 {
		t.Fatalf("bad job stats %+v", stats["bad"])
	}
}

func TestExpiredTokensJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := livechat.NewFakeClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	svc, err := livechat.NewService(ctx, livechat.Config{Store: storetest.Open(t), Clock: clock, PasswordCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	a, err := svc.CreateAgent(ctx, livechat.System(), livechat.AgentInput{Email: "a@example.com", Password: "secret123"})
	if err != nil {
		t.Fatal(err)
	}
	toks, err := svc.IssueAgentTokens(ctx, a, "")
	if err != nil {
		t.Fatal(err)
	}
	s := jobs.New(nil)
	job := jobs.ExpiredTokens(svc)
	s.RunNow(job)
	if _, err := svc.Authenticate(ctx, "Bearer "+toks.AccessToken); err != nil {
		t.Fatalf("live token removed: %v", err)
	}
	clock.Advance(9 * time.Hour)
	s.RunNow(job)
	if _, err := svc.Store().Tokens().Get(ctx, livechat.HashToken(toks.AccessToken)); !errors.Is(err, livechat.ErrNotFound) {
		t.Fatalf("expired token still stored: %v", err)
	}
	if _, err := svc.Store().Tokens().Get(ctx, livechat.HashToken(toks.RefreshToken)); err != nil {
		t.Fatalf("refresh token (30 days) removed: %v", err)
	}
}
