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

func TestIdleSweepPeriod(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ idle, want time.Duration }{
		{time.Second, 500 * time.Millisecond},
		{2 * time.Second, 500 * time.Millisecond},
		{10 * time.Second, 2500 * time.Millisecond},
		{time.Minute, 15 * time.Second},
		{30 * time.Minute, 30 * time.Second},
	} {
		if got := jobs.IdleSweepPeriod(tc.idle); got != tc.want {
			t.Errorf("IdleSweepPeriod(%v) = %v, want %v", tc.idle, got, tc.want)
		}
	}
	if spec := jobs.CloseIdleThreads(nil, 2*time.Second).Spec; spec != "@every 500ms" {
		t.Errorf("spec for 2s = %q", spec)
	}
}

// TestAddEveryRunsBelowOneSecond: robfig's "@every 50ms" would run once a
// second; AddEvery keeps the period.
func TestAddEveryRunsBelowOneSecond(t *testing.T) {
	t.Parallel()
	s := jobs.New(nil)
	var n atomic.Int32
	j := jobs.Job{Name: "fast", Spec: "@every 50ms", Run: func(context.Context) error { n.Add(1); return nil }}
	if err := s.AddEvery(j); err != nil {
		t.Fatal(err)
	}
	for _, spec := range []string{"@every 0s", "@every soon", "*/5 * * * * *", "@every -1s"} {
		if err := s.AddEvery(jobs.Job{Name: "bad", Spec: spec, Run: j.Run}); err == nil {
			t.Errorf("AddEvery accepted %q", spec)
		}
	}
	start := time.Now()
	s.Start()
	deadline := start.Add(2 * time.Second)
	for n.Load() < 5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling cron's real trigger, bounded by the deadline
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Stop(ctx)
	if got := n.Load(); got < 5 {
		t.Fatalf("%d runs in %v, want at least 5 (every 50 ms)", got, time.Since(start))
	}
	for _, st := range s.Stats() {
		if st.Name == "fast" && st.Runs >= 5 {
			return
		}
	}
	t.Fatalf("stats %+v lack the fast job's runs", s.Stats())
}

func TestCloseIdleThreadsAndExpiredClaimsJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := livechat.NewFakeClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	svc, err := livechat.NewService(ctx, livechat.Config{Store: storetest.Open(t), Clock: clock, PasswordCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	a, err := svc.CreateAgent(ctx, livechat.System(), livechat.AgentInput{Email: "a@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := svc.StartChat(ctx, livechat.AgentActor(a), livechat.StartChatInput{Active: true})
	if err != nil {
		t.Fatal(err)
	}
	s := jobs.New(nil)
	idle, claims := jobs.CloseIdleThreads(svc, 2*time.Second), jobs.ExpiredClaims(svc)
	active := func() bool {
		c, err := svc.Store().Chats().Get(ctx, v.Chat.ID)
		if err != nil {
			t.Fatal(err)
		}
		return c.Active()
	}

	clock.Advance(2*time.Second - time.Millisecond)
	s.RunNow(idle)
	if !active() {
		t.Fatal("closed before 2 s of silence")
	}
	clock.Advance(time.Millisecond)
	s.RunNow(idle)
	if active() {
		t.Fatal("not closed after 2 s of silence")
	}
	claimID := "idle-close:" + v.Thread.ID
	if _, err := svc.Store().Claims().Get(ctx, claimID); err != nil {
		t.Fatalf("the close's claim: %v", err)
	}
	s.RunNow(claims)
	if _, err := svc.Store().Claims().Get(ctx, claimID); err != nil {
		t.Fatalf("a live claim was removed: %v", err)
	}
	clock.Advance(time.Hour)
	s.RunNow(claims)
	if _, err := svc.Store().Claims().Get(ctx, claimID); !errors.Is(err, livechat.ErrNotFound) {
		t.Fatalf("an expired claim is still stored: %v", err)
	}
	for _, st := range s.Stats() {
		if st.Failures != 0 {
			t.Errorf("job %s failed %d times", st.Name, st.Failures)
		}
	}
}

// findCounter counts the queries of the chats collection.
type findCounter struct {
	livechat.Store
	finds atomic.Int32
}

func (s *findCounter) Chats() livechat.Collection[livechat.Chat, string] {
	return countedChats{s.Store.Chats(), s}
}

type countedChats struct {
	livechat.Collection[livechat.Chat, string]
	s *findCounter
}

func (c countedChats) Find(ctx context.Context, q livechat.Query) ([]livechat.Chat, error) {
	c.s.finds.Add(1)
	return c.Collection.Find(ctx, q)
}

// TestCloseIdleThreadsJobReadsOnlyWhenDue: between the moments a thread can
// become idle, the job's runs do not read the store.
func TestCloseIdleThreadsJobReadsOnlyWhenDue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := &findCounter{Store: storetest.Open(t)}
	clock := livechat.NewFakeClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	svc, err := livechat.NewService(ctx, livechat.Config{Store: store, Clock: clock, PasswordCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	a, err := svc.CreateAgent(ctx, livechat.System(), livechat.AgentInput{Email: "a@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	start := func() string {
		t.Helper()
		v, err := svc.StartChat(ctx, livechat.AgentActor(a), livechat.StartChatInput{Active: true})
		if err != nil {
			t.Fatal(err)
		}
		return v.Chat.ID
	}
	active := func(id string) bool {
		t.Helper()
		c, err := svc.Store().Chats().Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return c.Active()
	}
	s := jobs.New(nil)
	job := jobs.CloseIdleThreads(svc, 2*time.Second)
	// step runs the job d later; wantRead says whether it reads the chats
	// (a close may read them again, for routing).
	step := func(d time.Duration, wantRead bool) {
		t.Helper()
		clock.Advance(d)
		before := store.finds.Load()
		s.RunNow(job)
		if got := store.finds.Load() - before; (got > 0) != wantRead {
			t.Fatalf("at +%v: %d chat queries, want a read %v", clock.Now().Sub(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)), got, wantRead)
		}
	}

	first := start()
	step(0, true) // first run: reads, learns the first chat is due at +2s
	step(time.Second, false)
	second := start() // e.g. on another instance: due at +3s, after the known +2s
	step(500*time.Millisecond, false)
	step(500*time.Millisecond, true) // +2s: the first chat is closed
	if active(first) || !active(second) {
		t.Fatalf("at +2s: first active %v, second active %v", active(first), active(second))
	}
	step(500*time.Millisecond, false)
	step(500*time.Millisecond, true) // +3s: the second
	if active(second) {
		t.Fatal("the second chat is still active at +3s")
	}
	step(time.Second, false) // nothing active: next due 2 s after the last read
	step(time.Second, true)
}
