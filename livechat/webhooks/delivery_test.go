package webhooks_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/webhooks"
)

func TestRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	d := f.start(t, webhooks.Config{})
	f.rcv.setAnswer(func(_ string, n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	id := f.register(t, map[string]any{"action": "incoming_event", "url": f.rcv.url("/flaky")}, d)
	chatID := f.chat(t)
	start := f.clock.Now()
	f.send(t, f.customer, chatID, "retry me")

	attempted := func(n int) func() bool {
		return func() bool {
			ds := f.deliveries(t, id)
			return len(ds) == 1 && ds[0].Attempts == n
		}
	}
	waitFor(t, "the first attempt", attempted(1))
	ds := f.deliveries(t, id)
	if ds[0].Status != webhooks.StatusPending || !ds[0].NextAttemptAt.Equal(start.Add(10*time.Second)) || ds[0].LastError == "" {
		t.Fatalf("after a 500: %+v", ds[0])
	}
	// Not due yet: nothing is sent.
	f.clock.Advance(9 * time.Second)
	if n, err := d.RetryDue(ctx); err != nil || n != 0 {
		t.Fatalf("RetryDue before the retry time: %d, %v", n, err)
	}
	f.clock.Advance(time.Second)
	if n, err := d.RetryDue(ctx); err != nil || n != 1 {
		t.Fatalf("RetryDue: %d, %v", n, err)
	}
	waitFor(t, "the second attempt", attempted(2))
	if ds := f.deliveries(t, id); !ds[0].NextAttemptAt.Equal(start.Add(30 * time.Second)) {
		t.Fatalf("second retry at %v, want +30s", ds[0].NextAttemptAt)
	}
	f.clock.Advance(20 * time.Second)
	// The second attempt's outcome may still be settling (its claim, the
	// receiver's pause) when the clock moves: keep asking until it is sent.
	waitFor(t, "the third attempt", func() bool {
		if _, err := d.RetryDue(ctx); err != nil {
			t.Error(err)
		}
		return d.Stats().Delivered == 1
	})
	// Delivered deliveries leave the queue (DeliveredRetention 0).
	if ds := f.deliveries(t, id); len(ds) != 0 || f.rcv.count("/flaky") != 3 {
		t.Fatalf("after 500, 500, 200: %+v, %d POSTs", ds, f.rcv.count("/flaky"))
	}
	posts := f.rcv.postsTo("/flaky")
	for _, p := range posts[1:] {
		if p.env.WebhookID != posts[0].env.WebhookID || string(p.env.Payload) != string(posts[0].env.Payload) {
			t.Fatal("a retry sent a different body")
		}
	}
	if st := d.Stats(); st.Attempts != 3 || st.Retried != 2 || st.Delivered != 1 || st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestScheduleExhausted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	d := f.start(t, webhooks.Config{Schedule: []time.Duration{time.Second}, FailedRetention: time.Hour})
	f.rcv.setAnswer(func(string, int) int { return http.StatusServiceUnavailable })
	id := f.register(t, map[string]any{"action": "incoming_event", "url": f.rcv.url("/down")}, d)
	f.send(t, f.customer, f.chat(t), "lost")
	waitFor(t, "the first attempt", func() bool { return d.Stats().Retried == 1 })
	f.clock.Advance(time.Second)
	if _, err := d.RetryDue(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the delivery to fail", func() bool {
		ds := f.deliveries(t, id)
		return len(ds) == 1 && ds[0].Status == webhooks.StatusFailed && ds[0].Attempts == 2
	})
	f.clock.Advance(time.Hour)
	if n, _ := d.RetryDue(ctx); n != 0 || f.rcv.count("/down") != 2 {
		t.Fatalf("a failed delivery was retried: %d queued, %d POSTs", n, f.rcv.count("/down"))
	}
	if n, err := d.Prune(ctx); err != nil || n != 1 || len(f.deliveries(t, id)) != 0 {
		t.Fatalf("Prune: %d, %v", n, err)
	}
	if st := d.Stats(); st.Failed != 1 || st.Attempts != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestDeadReceiverDoesNotSlowPublish(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"closed", "hanging"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}))
			t.Cleanup(srv.Close)
			if name == "closed" {
				srv.Close()
			}
			f := newFixture(t)
			const timeout = time.Minute
			d := f.start(t, webhooks.Config{Timeout: timeout})
			t.Cleanup(func() { close(release) }) // runs before the dispatcher's Stop
			f.register(t, map[string]any{"action": "incoming_event", "url": srv.URL + "/dead"}, d)
			chatID := f.chat(t)
			e := &livechat.Event{ID: "E1", Type: livechat.EventMessage, Text: "x", Visibility: livechat.VisibilityAll, AuthorID: f.customer.ID}
			const n = 1000
			began := time.Now()
			for range n {
				d.Publish(&livechat.DomainEvent{Kind: livechat.KindIncomingEvent, ChatID: chatID, ThreadID: "T1", RequesterID: f.customer.ID,
					At: f.clock.Now(), Data: livechat.IncomingEventData{Event: e}})
			}
			took := time.Since(began)
			t.Logf("%d publishes to a %s receiver took %v (%v each)", n, name, took, took/n)
			// Far less than one POST timeout: publishing never waits for a receiver.
			if took >= timeout/2 {
				t.Fatalf("publishing %d events took %v", n, took)
			}
			if st := d.Stats(); st.Queued != n || st.PublishErrors != 0 {
				t.Fatalf("stats %+v", st)
			}
			count, err := f.store.Deliveries().Count(context.Background(), livechat.Where(livechat.Eq("status", webhooks.StatusPending)))
			if err != nil || count == 0 {
				t.Fatalf("pending deliveries: %d, %v", count, err)
			}
		})
	}
}

func TestRestartLosesNoDelivery(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	up := make(chan struct{})
	f.rcv.setAnswer(func(string, int) int {
		select {
		case <-up:
			return http.StatusOK
		default:
			return http.StatusBadGateway
		}
	})
	first := f.start(t, webhooks.Config{})
	id := f.register(t, map[string]any{"action": "incoming_event", "url": f.rcv.url("/r")}, first)
	chatID := f.chat(t)
	var sent []string
	sent = append(sent, f.send(t, f.customer, chatID, "one").ID)
	waitFor(t, "the failed first attempt", func() bool { return first.Stats().Retried == 1 })
	// The receiver is known down: the next delivery waits for its probe.
	sent = append(sent, f.send(t, f.customer, chatID, "two").ID)
	if err := first.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// Written while no dispatcher runs its workers: it waits in the store.
	sent = append(sent, f.send(t, f.customer, chatID, "three").ID)
	if n := f.rcv.count("/r"); n != 1 {
		t.Fatalf("%d POSTs before the restart, want 1", n)
	}
	if ds := f.deliveries(t, id); len(ds) != 3 {
		t.Fatalf("%d deliveries stored, want 3", len(ds))
	}

	second := f.start(t, webhooks.Config{})
	close(up)
	f.clock.Advance(10 * time.Second)
	if n, err := second.RetryDue(ctx); err != nil || n != 3 {
		t.Fatalf("RetryDue after the restart: %d, %v", n, err)
	}
	waitFor(t, "every delivery", func() bool { return second.Stats().Delivered == 3 })
	got := map[string]int{}
	for _, p := range f.rcv.postsTo("/r") {
		if p.env.WebhookID != id {
			t.Fatalf("POST of webhook %s", p.env.WebhookID)
		}
		ev := p.raw["payload"].(map[string]any)["event"].(map[string]any)
		got[ev["id"].(string)]++
	}
	for i, eid := range sent {
		want := 1 // the new instance's successful attempt
		if i == 0 {
			want = 2 // and the failed one before the restart
		}
		if got[eid] != want {
			t.Errorf("event %d arrived %d times, want %d", i, got[eid], want)
		}
	}
	if ds := f.deliveries(t, id); len(ds) != 0 {
		t.Errorf("%d deliveries left", len(ds))
	}
}

func TestTwoInstancesNeverSendOneAttemptTwice(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a := f.start(t, webhooks.Config{})
	b := f.start(t, webhooks.Config{})
	f.pub.p.Store(a)
	up := make(chan struct{})
	f.rcv.setAnswer(func(string, int) int {
		select {
		case <-up:
			return http.StatusOK
		default:
			return http.StatusInternalServerError
		}
	})
	id := f.register(t, map[string]any{"action": "incoming_event", "url": f.rcv.url("/twice")}, a, b)
	chatID := f.chat(t)
	const n = 20
	for i := range n {
		f.send(t, f.customer, chatID, "m"+string(rune('a'+i)))
	}
	// The first delivery fails; the receiver is then known down, so the
	// others wait for its probe in the store.
	waitFor(t, "the first attempt", func() bool { return a.Stats().Retried == 1 })
	close(up)
	f.clock.Advance(10 * time.Second)
	errs := make(chan error, 2)
	for _, d := range []*webhooks.Dispatcher{a, b} {
		go func() { _, err := d.RetryDue(ctx); errs <- err }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every delivery", func() bool { return a.Stats().Delivered+b.Stats().Delivered == n })
	if got := f.rcv.count("/twice"); got != n+1 {
		t.Fatalf("%d POSTs, want %d (one success each, one failure)", got, n+1)
	}
	seen := map[string]int{}
	for _, p := range f.rcv.postsTo("/twice") {
		seen[string(p.env.Payload)]++
	}
	if len(seen) != n {
		t.Fatalf("%d distinct bodies, want %d", len(seen), n)
	}
	if ds := f.deliveries(t, id); len(ds) != 0 {
		t.Fatalf("%d deliveries left", len(ds))
	}
}

func TestDownReceiverHoldsDeliveries(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	d := f.start(t, webhooks.Config{Schedule: []time.Duration{time.Second}})
	f.rcv.setAnswer(func(string, int) int { return http.StatusServiceUnavailable })
	id := f.register(t, map[string]any{"action": "incoming_event", "url": f.rcv.url("/down")}, d)
	chatID := f.chat(t)
	f.send(t, f.customer, chatID, "first")
	waitFor(t, "the first attempt", func() bool { return d.Stats().Retried == 1 })
	const held = 5
	for range held {
		f.send(t, f.customer, chatID, "held")
	}
	if n := f.rcv.count("/down"); n != 1 {
		t.Fatalf("%d POSTs to a receiver known down, want 1", n)
	}
	for _, del := range f.deliveries(t, id) {
		if del.Attempts == 0 && !del.NextAttemptAt.Equal(f.clock.Now().Add(time.Second)) {
			t.Fatalf("held delivery due at %v, want the probe time", del.NextAttemptAt)
		}
	}
	// While the receiver stays down, every delivery ends failed, with at
	// most the attempts its schedule allows.
	waitFor(t, "every delivery to fail", func() bool {
		f.clock.Advance(30 * time.Second)
		if _, err := d.RetryDue(ctx); err != nil {
			t.Fatal(err)
		}
		failed := 0
		for _, del := range f.deliveries(t, id) {
			if del.Status == webhooks.StatusFailed {
				failed++
			}
		}
		return failed == held+1
	})
	if n := f.rcv.count("/down"); n > 2*(held+1) {
		t.Fatalf("%d POSTs for %d deliveries with one retry each", n, held+1)
	}
	if st := d.Stats(); st.Failed != held+1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestPruneKeepsRecentDeliveries(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	d := f.start(t, webhooks.Config{DeliveredRetention: time.Hour})
	id := f.register(t, map[string]any{"action": "incoming_event", "url": f.rcv.url("/ok")}, d)
	f.send(t, f.customer, f.chat(t), "keep me a while")
	waitFor(t, "the delivery", func() bool { return d.Stats().Delivered == 1 })
	if n, err := d.Prune(ctx); err != nil || n != 0 || len(f.deliveries(t, id)) != 1 {
		t.Fatalf("Prune of a fresh delivery: %d, %v", n, err)
	}
	f.clock.Advance(time.Hour)
	if n, err := d.Prune(ctx); err != nil || n != 1 || len(f.deliveries(t, id)) != 0 {
		t.Fatalf("Prune after the retention: %d, %v", n, err)
	}
}
