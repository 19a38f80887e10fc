package livechat

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeSub is a Subscriber that records what the Hub does to it.
type fakeSub struct {
	id       uint64
	aud      string
	accept   func(*DomainEvent) bool // nil accepts everything
	encodes  *atomic.Int64           // shared by an audience; may be nil
	encode   func(ev *DomainEvent, requestID string) ([]byte, error)
	full     atomic.Bool // Send refuses frames
	onDiscon func()      // called from Disconnect

	mu          sync.Mutex
	frames      [][]byte
	disconnects []string
}

func (f *fakeSub) SessionID() uint64 { return f.id }
func (f *fakeSub) Audience() string  { return f.aud }

func (f *fakeSub) Accepts(ev *DomainEvent) bool { return f.accept == nil || f.accept(ev) }

func (f *fakeSub) Encode(ev *DomainEvent, requestID string) ([]byte, error) {
	if f.encodes != nil {
		f.encodes.Add(1)
	}
	if f.encode != nil {
		return f.encode(ev, requestID)
	}
	return fmt.Appendf(nil, "%s|%s|%s", f.aud, ev.Kind, requestID), nil
}

func (f *fakeSub) Send(frame []byte) bool {
	if f.full.Load() {
		return false
	}
	f.mu.Lock()
	f.frames = append(f.frames, frame)
	f.mu.Unlock()
	return true
}

func (f *fakeSub) Disconnect(reason string) {
	f.mu.Lock()
	f.disconnects = append(f.disconnects, reason)
	f.mu.Unlock()
	if f.onDiscon != nil {
		f.onDiscon()
	}
}

func (f *fakeSub) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.frames))
	for i, fr := range f.frames {
		out[i] = string(fr)
	}
	return out
}

func (f *fakeSub) reasons() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.disconnects...)
}

// newSubs makes n fake sessions of one audience sharing an Encode counter,
// with ids from first.
func newSubs(first uint64, n int, aud string) ([]*fakeSub, *atomic.Int64) {
	var enc atomic.Int64
	subs := make([]*fakeSub, n)
	for i := range subs {
		subs[i] = &fakeSub{id: first + uint64(i), aud: aud, encodes: &enc}
	}
	return subs, &enc
}

func event(kind Kind, topics ...Topic) *DomainEvent {
	return &DomainEvent{Kind: kind, ChatID: "C1", Topics: topics}
}

func wantFrames(t *testing.T, f *fakeSub, want ...string) {
	t.Helper()
	got := f.got()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("session %d got frames %q, want %q", f.id, got, want)
	}
}

// checkIndex verifies that the topic index and the session sets agree.
func checkIndex(t *testing.T, h *Hub) {
	t.Helper()
	fromSessions := map[Topic]map[uint64]bool{}
	n := 0
	for i := range h.sessions {
		ss := &h.sessions[i]
		ss.mu.Lock()
		for id, st := range ss.subs {
			n++
			for tp := range st.topics {
				if fromSessions[tp] == nil {
					fromSessions[tp] = map[uint64]bool{}
				}
				fromSessions[tp][id] = true
			}
		}
		ss.mu.Unlock()
	}
	if n != h.Sessions() {
		t.Fatalf("Sessions() = %d, registered %d", h.Sessions(), n)
	}
	fromTopics := map[Topic]map[uint64]bool{}
	for i := range h.topics {
		ts := &h.topics[i]
		ts.mu.RLock()
		for tp, set := range ts.topics {
			if len(set.subs) == 0 || len(set.subs) != len(set.pos) {
				t.Errorf("topic %q: %d subs, %d positions", tp, len(set.subs), len(set.pos))
			}
			for j, e := range set.subs {
				if set.pos[e.id] != j {
					t.Errorf("topic %q: session %d at %d, indexed at %d", tp, e.id, j, set.pos[e.id])
				}
				if fromTopics[tp] == nil {
					fromTopics[tp] = map[uint64]bool{}
				}
				fromTopics[tp][e.id] = true
			}
		}
		ts.mu.RUnlock()
	}
	if fmt.Sprint(fromSessions) != fmt.Sprint(fromTopics) {
		t.Fatalf("index disagrees:\nsessions: %v\ntopics:   %v", fromSessions, fromTopics)
	}
}

func TestHubConfigDefaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want int }{
		{0, DefaultHubShards}, {-3, DefaultHubShards}, {1, 1}, {5, 8}, {64, 64}, {1 << 30, maxHubShards},
	} {
		t.Run(fmt.Sprint(tc.in), func(t *testing.T) {
			t.Parallel()
			h := NewHub(HubConfig{Shards: tc.in})
			if len(h.topics) != tc.want || len(h.sessions) != tc.want {
				t.Fatalf("Shards %d: got %d/%d shards, want %d", tc.in, len(h.topics), len(h.sessions), tc.want)
			}
			// Every shard is reachable without panicking.
			s := &fakeSub{id: 1<<64 - 1, aud: "a"}
			h.Subscribe(s, "x", "y")
			h.Publish(event(KindIncomingEvent, "x"))
			wantFrames(t, s, "a|incoming_event|")
		})
	}
}

func TestHubPublish(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(t *testing.T, h *Hub)
	}{
		{"dedupe across topics", func(t *testing.T, h *Hub) {
			both := &fakeSub{id: 1, aud: "a"}
			onlyB := &fakeSub{id: 2, aud: "a"}
			h.Subscribe(both, "A", "B")
			h.Subscribe(onlyB, "B")
			h.Publish(event(KindIncomingEvent, "A", "B", "A"))
			wantFrames(t, both, "a|incoming_event|")
			wantFrames(t, onlyB, "a|incoming_event|")
			if st := h.Stats(); st.Delivered != 2 || st.Encodes != 1 || st.Published != 1 {
				t.Fatalf("stats %+v", st)
			}
		}},
		{"encode once per audience, same bytes", func(t *testing.T, h *Hub) {
			xs, xEnc := newSubs(1, 50, "x")
			ys, yEnc := newSubs(100, 30, "y")
			for _, s := range append(xs, ys...) {
				h.Subscribe(s, OrgTopic)
			}
			h.Publish(event(KindIncomingChat, OrgTopic))
			if xEnc.Load() != 1 || yEnc.Load() != 1 {
				t.Fatalf("Encode calls x=%d y=%d, want 1 each", xEnc.Load(), yEnc.Load())
			}
			for _, group := range [][]*fakeSub{xs, ys} {
				first := group[0].frames[0]
				for _, s := range group {
					wantFrames(t, s, s.aud+"|incoming_chat|")
					if &s.frames[0][0] != &first[0] {
						t.Fatalf("session %d got its own copy; want the audience's shared frame", s.id)
					}
				}
			}
			if st := h.Stats(); st.Delivered != 80 || st.Encodes != 2 {
				t.Fatalf("stats %+v", st)
			}
		}},
		{"requester copy carries request_id", func(t *testing.T, h *Hub) {
			subs, enc := newSubs(1, 3, "a")
			for _, s := range subs {
				h.Subscribe(s, "T")
			}
			ev := event(KindIncomingEvent, "T")
			ev.Origin = Origin{SessionID: 2, RequestID: "r42"}
			h.Publish(ev)
			wantFrames(t, subs[0], "a|incoming_event|")
			wantFrames(t, subs[1], "a|incoming_event|r42")
			wantFrames(t, subs[2], "a|incoming_event|")
			if enc.Load() != 2 {
				t.Fatalf("Encode calls %d, want 2", enc.Load())
			}
		}},
		{"requester alone in its audience: no shared encode", func(t *testing.T, h *Hub) {
			s := &fakeSub{id: 7, aud: "a", encodes: new(atomic.Int64)}
			h.Subscribe(s, "T")
			ev := event(KindIncomingEvent, "T")
			ev.Origin = Origin{SessionID: 7, RequestID: "r1"}
			h.Publish(ev)
			wantFrames(t, s, "a|incoming_event|r1")
			if s.encodes.Load() != 1 {
				t.Fatalf("Encode calls %d, want 1", s.encodes.Load())
			}
		}},
		{"origin without request id shares the frame", func(t *testing.T, h *Hub) {
			subs, enc := newSubs(1, 2, "a")
			for _, s := range subs {
				h.Subscribe(s, "T")
			}
			ev := event(KindIncomingEvent, "T")
			ev.Origin = Origin{SessionID: 1}
			h.Publish(ev)
			wantFrames(t, subs[0], "a|incoming_event|")
			wantFrames(t, subs[1], "a|incoming_event|")
			if enc.Load() != 1 {
				t.Fatalf("Encode calls %d, want 1", enc.Load())
			}
		}},
		{"Accepts filters sessions, and audiences with no taker are not encoded", func(t *testing.T, h *Hub) {
			agentsOnly := func(ev *DomainEvent) bool { return !ev.AgentsOnly }
			agent := &fakeSub{id: 1, aud: "agent", encodes: new(atomic.Int64)}
			cust := &fakeSub{id: 2, aud: "customer", accept: agentsOnly, encodes: new(atomic.Int64)}
			h.Subscribe(agent, "chat:C1")
			h.Subscribe(cust, "chat:C1")
			ev := event(KindThreadTagged, "chat:C1")
			ev.AgentsOnly = true
			h.Publish(ev)
			wantFrames(t, agent, "agent|thread_tagged|")
			wantFrames(t, cust)
			if cust.encodes.Load() != 0 {
				t.Fatalf("customer audience encoded %d times, want 0", cust.encodes.Load())
			}
			h.Publish(event(KindIncomingEvent, "chat:C1"))
			wantFrames(t, cust, "customer|incoming_event|")
		}},
		{"nil frame sends nothing", func(t *testing.T, h *Hub) {
			s := &fakeSub{id: 1, aud: "a", encodes: new(atomic.Int64),
				encode: func(*DomainEvent, string) ([]byte, error) { return nil, nil }}
			s2 := &fakeSub{id: 2, aud: "a", encodes: s.encodes, encode: s.encode}
			h.Subscribe(s, "T")
			h.Subscribe(s2, "T")
			h.Publish(event(KindAgentUpdated, "T"))
			wantFrames(t, s)
			wantFrames(t, s2)
			if s.encodes.Load() != 1 || h.Stats().Delivered != 0 {
				t.Fatalf("encodes %d, stats %+v", s.encodes.Load(), h.Stats())
			}
		}},
		{"no topics, no subscribers, nil event", func(t *testing.T, h *Hub) {
			s := &fakeSub{id: 1, aud: "a"}
			h.Subscribe(s, "T")
			h.Publish(nil)
			h.Publish(event(KindIncomingEvent))
			h.Publish(event(KindIncomingEvent, "other"))
			wantFrames(t, s)
		}},
		{"subscribe is idempotent", func(t *testing.T, h *Hub) {
			s := &fakeSub{id: 1, aud: "a"}
			h.Subscribe(s, "T")
			h.Subscribe(s, "T", "T")
			h.Subscribe(s)
			if h.Sessions() != 1 {
				t.Fatalf("Sessions() = %d, want 1", h.Sessions())
			}
			h.Publish(event(KindIncomingEvent, "T"))
			wantFrames(t, s, "a|incoming_event|")
			checkIndex(t, h)
		}},
		{"unsubscribe removes from every topic", func(t *testing.T, h *Hub) {
			s := &fakeSub{id: 1, aud: "a"}
			other := &fakeSub{id: 2, aud: "a"}
			h.Subscribe(s, "A", "B", "C")
			h.Subscribe(other, "B")
			h.Unsubscribe(s)
			h.Unsubscribe(s) // unknown now: ignored
			h.Publish(event(KindIncomingEvent, "A", "B", "C"))
			wantFrames(t, s)
			wantFrames(t, other, "a|incoming_event|")
			if h.Sessions() != 1 {
				t.Fatalf("Sessions() = %d, want 1", h.Sessions())
			}
			checkIndex(t, h)
		}},
		{"SetTopics replaces the set", func(t *testing.T, h *Hub) {
			s := &fakeSub{id: 1, aud: "a"}
			h.Subscribe(s, "A", "B")
			h.SetTopics(s, "B", "C", "C")
			h.Publish(event("a", "A"))
			h.Publish(event("b", "B"))
			h.Publish(event("c", "C"))
			wantFrames(t, s, "a|b|", "a|c|")
			checkIndex(t, h)
			h.SetTopics(s)
			h.Publish(event("b", "B"))
			wantFrames(t, s, "a|b|", "a|c|")
			if h.Sessions() != 1 {
				t.Fatalf("Sessions() = %d, want 1 (registered with no topics)", h.Sessions())
			}
			checkIndex(t, h)
			h.SetTopics(&fakeSub{id: 9, aud: "a"}, "A") // registers a new session
			if h.Sessions() != 2 {
				t.Fatalf("Sessions() = %d, want 2", h.Sessions())
			}
		}},
		{"slow consumer is disconnected, removed and counted", func(t *testing.T, h *Hub) {
			slow := &fakeSub{id: 1, aud: "a"}
			ok := &fakeSub{id: 2, aud: "a"}
			// A session typically unsubscribes itself when it closes.
			slow.onDiscon = func() { h.Unsubscribe(slow) }
			h.Subscribe(slow, "A", "B")
			h.Subscribe(ok, "A")
			slow.full.Store(true)
			h.Publish(event(KindIncomingEvent, "A", "B"))
			if r := slow.reasons(); len(r) != 1 || r[0] != CloseSlowConsumer {
				t.Fatalf("disconnect reasons %q, want [%s]", r, CloseSlowConsumer)
			}
			wantFrames(t, ok, "a|incoming_event|")
			slow.full.Store(false)
			h.Publish(event(KindIncomingEvent, "A", "B"))
			wantFrames(t, slow)
			if h.Sessions() != 1 {
				t.Fatalf("Sessions() = %d, want 1", h.Sessions())
			}
			if st := h.Stats(); st.SlowConsumers != 1 || st.Delivered != 2 {
				t.Fatalf("stats %+v", st)
			}
			checkIndex(t, h)
		}},
		{"close stops the hub", func(t *testing.T, h *Hub) {
			s := &fakeSub{id: 1, aud: "a"}
			h.Subscribe(s, "A")
			h.Close()
			h.Close()
			h.Publish(event(KindIncomingEvent, "A"))
			h.Subscribe(s, "A")
			h.SetTopics(s, "A")
			wantFrames(t, s)
			if h.Sessions() != 0 || len(s.reasons()) != 0 {
				t.Fatalf("after Close: Sessions() = %d, disconnects %q", h.Sessions(), s.reasons())
			}
			checkIndex(t, h)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, NewHub(HubConfig{Shards: 4}))
		})
	}
}

func TestHubEncodeError(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	h := NewHub(HubConfig{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	boom := errors.New("boom")
	bad, badEnc := newSubs(1, 3, "bad")
	for _, s := range bad {
		s.encode = func(*DomainEvent, string) ([]byte, error) { return nil, boom }
		h.Subscribe(s, "T")
	}
	good := &fakeSub{id: 10, aud: "good"}
	h.Subscribe(good, "T")
	h.Publish(event(KindIncomingEvent, "T"))
	wantFrames(t, good, "good|incoming_event|")
	for _, s := range bad {
		wantFrames(t, s)
	}
	if badEnc.Load() != 1 {
		t.Fatalf("failing audience encoded %d times, want 1", badEnc.Load())
	}
	out := logs.String()
	if strings.Count(out, "encode failed") != 1 || !strings.Contains(out, "level=WARN") ||
		!strings.Contains(out, "audience=bad") || !strings.Contains(out, "err=boom") {
		t.Fatalf("log = %q", out)
	}
}

func TestHubRequesterEncodeError(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	h := NewHub(HubConfig{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	subs, _ := newSubs(1, 2, "a")
	for _, s := range subs {
		s.encode = func(ev *DomainEvent, requestID string) ([]byte, error) {
			if requestID != "" {
				return nil, errors.New("boom")
			}
			return []byte("shared"), nil
		}
		h.Subscribe(s, "T")
	}
	ev := event(KindIncomingEvent, "T")
	ev.Origin = Origin{SessionID: 1, RequestID: "r1"}
	h.Publish(ev)
	wantFrames(t, subs[0])
	wantFrames(t, subs[1], "shared")
	if !strings.Contains(logs.String(), "encode failed") {
		t.Fatalf("log = %q", logs.String())
	}
}

func TestHubBigTopicShrinks(t *testing.T) {
	t.Parallel()
	h := NewHub(HubConfig{Shards: 1})
	subs, _ := newSubs(1, 1000, "a")
	for _, s := range subs {
		h.Subscribe(s, OrgTopic, "other")
	}
	for _, s := range subs[10:] {
		h.Unsubscribe(s)
	}
	set := h.topics[0].topics[OrgTopic]
	if len(set.subs) != 10 || cap(set.subs) > 100 {
		t.Fatalf("topic keeps %d subs in capacity %d", len(set.subs), cap(set.subs))
	}
	checkIndex(t, h)
	h.Publish(event(KindIncomingEvent, OrgTopic, "other"))
	for i, s := range subs {
		if n := len(s.got()); (i < 10) != (n == 1) {
			t.Fatalf("session %d got %d frames", s.id, n)
		}
	}
}

func TestHubManyAudiences(t *testing.T) {
	t.Parallel()
	h := NewHub(HubConfig{})
	const auds = 3 * audLinearMax
	encs := make([]*atomic.Int64, auds)
	var all []*fakeSub
	for a := range auds {
		subs, enc := newSubs(uint64(a*100+1), 5, fmt.Sprint("aud", a))
		encs[a] = enc
		all = append(all, subs...)
	}
	// Interleave audiences so the index sees every one many times.
	for i := range 5 {
		for a := range auds {
			h.Subscribe(all[a*5+i], OrgTopic)
		}
	}
	for range 3 { // pooled scratch is reused across publishes
		h.Publish(event(KindIncomingEvent, OrgTopic))
	}
	for a, enc := range encs {
		if enc.Load() != 3 {
			t.Fatalf("audience %d encoded %d times, want 3", a, enc.Load())
		}
	}
	for _, s := range all {
		if n := len(s.got()); n != 3 {
			t.Fatalf("session %d got %d frames, want 3", s.id, n)
		}
	}
}

// TestHubConcurrent runs Publish against Subscribe, SetTopics, Unsubscribe
// and slow-consumer removal; run it with -race.
func TestHubConcurrent(t *testing.T) {
	t.Parallel()
	h := NewHub(HubConfig{Shards: 8})
	topics := []Topic{OrgTopic, "A", "B", "C", "D"}
	const (
		workers  = 4
		sessions = 50
		rounds   = 200
	)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for p := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ev := event(KindIncomingEvent, topics[i%len(topics)], topics[(i+p+1)%len(topics)])
				ev.Origin = Origin{SessionID: uint64(i % 300), RequestID: "r"}
				h.Publish(ev)
			}
		})
	}
	var subWG sync.WaitGroup
	for w := range workers {
		subWG.Go(func() {
			subs := make([]*fakeSub, sessions)
			for i := range subs {
				subs[i] = &fakeSub{id: uint64(w*sessions + i + 1), aud: fmt.Sprint("a", i%3)}
			}
			for r := range rounds {
				s := subs[r%sessions]
				switch r % 5 {
				case 0, 1:
					h.Subscribe(s, topics[r%len(topics)], topics[(r+w)%len(topics)])
				case 2:
					h.SetTopics(s, topics[(r+1)%len(topics)])
				case 3:
					s.full.Store(!s.full.Load()) // becomes a slow consumer now and then
				case 4:
					h.Unsubscribe(subs[(r*7)%sessions])
				}
				_ = h.Sessions()
				_ = h.Stats()
			}
			for _, s := range subs {
				h.Unsubscribe(s)
			}
		})
	}
	subWG.Wait()
	close(stop)
	wg.Wait()
	if h.Sessions() != 0 {
		t.Fatalf("Sessions() = %d after everyone left", h.Sessions())
	}
	checkIndex(t, h)
	for i := range h.topics {
		if n := len(h.topics[i].topics); n != 0 {
			t.Fatalf("shard %d still holds %d topics", i, n)
		}
	}
	if st := h.Stats(); st.Published == 0 {
		t.Fatalf("stats %+v", st)
	}
}
