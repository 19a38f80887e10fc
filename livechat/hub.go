package livechat

import (
	"hash/maphash"
	"log/slog"
	"math/bits"
	"sync"
	"sync/atomic"
)

// DefaultHubShards is the number of index shards a Hub uses when
// HubConfig.Shards is zero.
const DefaultHubShards = 64

// maxHubShards bounds HubConfig.Shards; more shards than this only waste memory.
const maxHubShards = 1 << 16

// HubConfig configures a Hub. The zero value is valid and means: 64 shards,
// slog.Default() as logger.
type HubConfig struct {
	// Shards is the number of topic and session index shards (rounded up to
	// a power of two). Zero means DefaultHubShards.
	Shards int
	// Logger receives encode failures. Nil means slog.Default().
	Logger *slog.Logger
}

// HubStats are the Hub's counters since NewHub, for /metrics.
type HubStats struct {
	// Published counts events handed to Publish.
	Published uint64
	// Delivered counts frames a session's Send accepted.
	Delivered uint64
	// Encodes counts Subscriber.Encode calls.
	Encodes uint64
	// SlowConsumers counts sessions disconnected with CloseSlowConsumer.
	SlowConsumers uint64
}

// Hub is the in-process fan-out: it hands each published DomainEvent to the
// sessions subscribed to any of its topics, encoding it once per audience.
//
// Concurrency: every method is safe for concurrent use. Publish runs on the
// caller's goroutine and starts none; it holds no lock while it calls
// Accepts, Audience, Encode, Send or Disconnect, so a session may call back
// into the Hub (for example Unsubscribe from its Disconnect). Two Publish
// calls on different goroutines may reach one session in either order: the
// core orders the events of one chat before publishing them.
//
// Lock order: sessionShard.mu before topicShard.mu; Publish takes only one
// topicShard.mu (read) at a time.
type Hub struct {
	log  *slog.Logger
	seed maphash.Seed
	// mask selects a topic shard from a topic's hash.
	mask uint64
	// sessShift selects a session shard from a multiplicative hash of the id.
	sessShift uint

	topics   []topicShard
	sessions []sessionShard

	closed   atomic.Bool
	sessionN atomic.Int64

	published     atomic.Uint64
	delivered     atomic.Uint64
	encodes       atomic.Uint64
	slowConsumers atomic.Uint64
}

// hubEntry is one subscriber in a topic's list; the id is kept beside the
// interface so Publish dedupes and finds the requester without calling out.
type hubEntry struct {
	id uint64
	s  Subscriber
}

// topicSubs is the set of sessions subscribed to one topic: a dense slice
// (copied out by Publish with one memmove) plus an index for O(1) removal.
type topicSubs struct {
	pos  map[uint64]int
	subs []hubEntry
}

// topicShard holds the topics whose hash falls in this shard.
type topicShard struct {
	mu     sync.RWMutex
	topics map[Topic]*topicSubs // guarded by mu
	_      [32]byte             // 64 bytes a shard: neighbours' locks on separate cache lines
}

// subState is what the Hub remembers of one session: its topics, so
// Unsubscribe touches only the shards it is in.
type subState struct {
	s      Subscriber
	topics map[Topic]struct{}
}

// sessionShard holds the sessions whose id hashes into this shard.
type sessionShard struct {
	mu   sync.Mutex
	subs map[uint64]*subState // guarded by mu
	_    [48]byte
}

// NewHub returns an empty Hub configured by cfg.
func NewHub(cfg HubConfig) *Hub {
	n := cfg.Shards
	if n <= 0 {
		n = DefaultHubShards
	}
	n = min(n, maxHubShards)
	shardBits := bits.Len(uint(n - 1)) // round up to a power of two
	n = 1 << shardBits
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	h := &Hub{
		log:       log,
		seed:      maphash.MakeSeed(),
		mask:      uint64(n - 1),
		sessShift: uint(64 - shardBits),
		topics:    make([]topicShard, n),
		sessions:  make([]sessionShard, n),
	}
	for i := range h.topics {
		h.topics[i].topics = make(map[Topic]*topicSubs)
		h.sessions[i].subs = make(map[uint64]*subState)
	}
	return h
}

func (h *Hub) topicShard(t Topic) *topicShard {
	return &h.topics[maphash.String(h.seed, string(t))&h.mask]
}

func (h *Hub) sessionShard(id uint64) *sessionShard {
	if h.sessShift == 64 { // one shard
		return &h.sessions[0]
	}
	// Fibonacci hashing spreads sequential ids over the shards.
	return &h.sessions[(id*0x9E3779B97F4A7C15)>>h.sessShift]
}

// Subscribe registers s (if it is not yet) and adds topics to its set.
// Subscribing to a topic twice is a no-op. After Close it does nothing.
func (h *Hub) Subscribe(s Subscriber, topics ...Topic) {
	id := s.SessionID()
	ss := h.sessionShard(id)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	st := h.registerLocked(ss, id, s)
	if st == nil {
		return
	}
	for _, t := range topics {
		if _, ok := st.topics[t]; ok {
			continue
		}
		st.topics[t] = struct{}{}
		h.topicShard(t).add(t, id, st.s)
	}
}

// SetTopics registers s (if it is not yet) and replaces its topic set with
// topics. With no topics the session stays registered but receives nothing.
func (h *Hub) SetTopics(s Subscriber, topics ...Topic) {
	id := s.SessionID()
	ss := h.sessionShard(id)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	st := h.registerLocked(ss, id, s)
	if st == nil {
		return
	}
	want := make(map[Topic]struct{}, len(topics))
	for _, t := range topics {
		want[t] = struct{}{}
	}
	for t := range st.topics {
		if _, ok := want[t]; !ok {
			delete(st.topics, t)
			h.topicShard(t).remove(t, id)
		}
	}
	for t := range want {
		if _, ok := st.topics[t]; !ok {
			st.topics[t] = struct{}{}
			h.topicShard(t).add(t, id, st.s)
		}
	}
}

// registerLocked returns the state of session id, creating it; nil once the
// Hub is closed. ss.mu must be held (Close takes it too, so no session is
// added to a closed Hub).
func (h *Hub) registerLocked(ss *sessionShard, id uint64, s Subscriber) *subState {
	if h.closed.Load() {
		return nil
	}
	st := ss.subs[id]
	if st == nil {
		st = &subState{s: s, topics: make(map[Topic]struct{})}
		ss.subs[id] = st
		h.sessionN.Add(1)
	}
	return st
}

// Unsubscribe removes s from every topic and forgets it. Unknown sessions
// are ignored.
func (h *Hub) Unsubscribe(s Subscriber) {
	h.unsubscribe(s.SessionID())
}

// unsubscribe reports whether session id was registered (and is no more).
func (h *Hub) unsubscribe(id uint64) bool {
	ss := h.sessionShard(id)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	st := ss.subs[id]
	if st == nil {
		return false
	}
	delete(ss.subs, id)
	h.sessionN.Add(-1)
	for t := range st.topics {
		h.topicShard(t).remove(t, id)
	}
	return true
}

// Sessions returns the number of registered sessions.
func (h *Hub) Sessions() int { return int(h.sessionN.Load()) }

// Stats returns a snapshot of the Hub's counters.
func (h *Hub) Stats() HubStats {
	return HubStats{
		Published:     h.published.Load(),
		Delivered:     h.delivered.Load(),
		Encodes:       h.encodes.Load(),
		SlowConsumers: h.slowConsumers.Load(),
	}
}

// Close forgets every session and makes later Subscribe, SetTopics and
// Publish calls no-ops (a Publish already running finishes its sends). It
// does not disconnect the sessions: their owner closes them in its own
// shutdown step. Close is idempotent.
func (h *Hub) Close() {
	h.closed.Store(true)
	for i := range h.sessions {
		ss := &h.sessions[i]
		ss.mu.Lock()
		h.sessionN.Add(-int64(len(ss.subs)))
		clear(ss.subs)
		ss.mu.Unlock()
	}
	for i := range h.topics {
		ts := &h.topics[i]
		ts.mu.Lock()
		clear(ts.topics)
		ts.mu.Unlock()
	}
}

// add puts session id into topic t.
func (ts *topicShard) add(t Topic, id uint64, s Subscriber) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	set := ts.topics[t]
	if set == nil {
		set = &topicSubs{pos: make(map[uint64]int)}
		ts.topics[t] = set
	}
	if _, ok := set.pos[id]; ok {
		return
	}
	set.pos[id] = len(set.subs)
	set.subs = append(set.subs, hubEntry{id: id, s: s})
}

// remove takes session id out of topic t by moving the last entry into its
// slot, and drops the topic once empty.
func (ts *topicShard) remove(t Topic, id uint64) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	set := ts.topics[t]
	if set == nil {
		return
	}
	i, ok := set.pos[id]
	if !ok {
		return
	}
	delete(set.pos, id)
	last := len(set.subs) - 1
	if i != last {
		set.subs[i] = set.subs[last]
		set.pos[set.subs[i].id] = i
	}
	set.subs[last] = hubEntry{}
	set.subs = set.subs[:last]
	switch {
	case last == 0:
		delete(ts.topics, t)
	case cap(set.subs) > 64 && last < cap(set.subs)/4:
		// Give memory back after a big topic emptied out.
		set.subs = append(make([]hubEntry, 0, 2*last), set.subs...)
	}
}

// appendSubs appends the sessions of topic t to dst under the read lock, so
// Publish encodes and sends with no lock held.
func (ts *topicShard) appendSubs(dst []hubEntry, t Topic) []hubEntry {
	ts.mu.RLock()
	if set := ts.topics[t]; set != nil {
		dst = append(dst, set.subs...)
	}
	ts.mu.RUnlock()
	return dst
}

// audFrame is the shared frame of one audience within one Publish.
type audFrame struct {
	audience string
	frame    []byte
	skip     bool // Encode failed: send nothing to this audience
}

// Scratch sizes: the linear audience search switches to a map beyond
// audLinearMax audiences; scratch that grew past the keep limits is dropped
// rather than pooled, so one huge fan-out does not pin memory (or make every
// later clear of the seen map slow).
const (
	audLinearMax   = 8
	seenKeepMax    = 4096
	entriesKeepMax = 1 << 16
	slowKeepMax    = 1024
	audKeepMax     = 64
)

// publishScratch is the per-Publish working memory, pooled.
type publishScratch struct {
	entries []hubEntry
	seen    map[uint64]struct{}
	auds    []audFrame
	audIdx  map[string]int
	slow    []hubEntry
}

var scratchPool = sync.Pool{New: func() any { return new(publishScratch) }}

func (sc *publishScratch) release() {
	clear(sc.entries) // drop Subscriber references held by the pool
	sc.entries = sc.entries[:0]
	if cap(sc.entries) > entriesKeepMax {
		sc.entries = nil
	}
	if len(sc.seen) > seenKeepMax {
		sc.seen = nil
	} else {
		clear(sc.seen)
	}
	clear(sc.auds)
	sc.auds = sc.auds[:0]
	if cap(sc.auds) > audKeepMax {
		sc.auds = nil
	}
	if len(sc.audIdx) > audKeepMax {
		sc.audIdx = nil
	} else {
		clear(sc.audIdx)
	}
	clear(sc.slow)
	sc.slow = sc.slow[:0]
	if cap(sc.slow) > slowKeepMax {
		sc.slow = nil
	}
	scratchPool.Put(sc)
}

// Publish hands ev to every session subscribed to any of ev.Topics (once per
// session, however many of its topics it matches) whose Accepts(ev) is true.
// Sessions are grouped by Audience and each audience is encoded once, with
// an empty request id; the requester's session (ev.Origin.SessionID, when
// non-zero and with a request id) gets its own copy carrying
// ev.Origin.RequestID. A nil frame is not sent; an Encode error is logged
// and that audience (or requester copy) skipped. A session whose Send
// reports a full queue is unsubscribed, disconnected with CloseSlowConsumer
// and counted.
func (h *Hub) Publish(ev *DomainEvent) {
	if ev == nil || h.closed.Load() {
		return
	}
	h.published.Add(1)
	if len(ev.Topics) == 0 {
		return
	}
	sc := scratchPool.Get().(*publishScratch)
	defer sc.release()

	entries := sc.entries[:0]
	contributing := 0
	for _, t := range ev.Topics {
		n := len(entries)
		entries = h.topicShard(t).appendSubs(entries, t)
		if len(entries) > n {
			contributing++
		}
	}
	if contributing > 1 {
		entries = sc.dedupe(entries)
	}
	sc.entries = entries

	var delivered, encodes uint64
	origin, reqID := ev.Origin.SessionID, ev.Origin.RequestID
	ownCopy := origin != 0 && reqID != ""
	for _, e := range entries {
		if !e.s.Accepts(ev) {
			continue
		}
		var frame []byte
		if ownCopy && e.id == origin {
			f, err := e.s.Encode(ev, reqID)
			encodes++
			if err != nil {
				h.logEncodeError(ev, e.s.Audience(), err)
				continue
			}
			frame = f
		} else {
			af := sc.audience(e.s.Audience())
			if af.frame == nil && !af.skip {
				f, err := e.s.Encode(ev, "")
				encodes++
				if err != nil {
					h.logEncodeError(ev, af.audience, err)
					af.skip = true
				} else if f == nil {
					af.skip = true
				}
				af.frame = f
			}
			if af.skip {
				continue
			}
			frame = af.frame
		}
		if frame == nil {
			continue
		}
		if e.s.Send(frame) {
			delivered++
		} else {
			sc.slow = append(sc.slow, e)
		}
	}
	h.delivered.Add(delivered)
	h.encodes.Add(encodes)

	for _, e := range sc.slow {
		// Only the call that removes the session disconnects it, so two
		// concurrent Publishes do not both count one slow consumer; a session
		// already gone from the Hub is closing on its own.
		if h.unsubscribe(e.id) {
			h.slowConsumers.Add(1)
			e.s.Disconnect(CloseSlowConsumer)
		}
	}
}

// dedupe removes repeated sessions from entries, keeping the first of each.
func (sc *publishScratch) dedupe(entries []hubEntry) []hubEntry {
	if sc.seen == nil {
		sc.seen = make(map[uint64]struct{}, len(entries))
	}
	out := entries[:0]
	for _, e := range entries {
		if _, ok := sc.seen[e.id]; ok {
			continue
		}
		sc.seen[e.id] = struct{}{}
		out = append(out, e)
	}
	clear(entries[len(out):])
	return out
}

// audience returns the scratch slot of audience aud, adding an empty one.
// The pointer is valid until the next call.
func (sc *publishScratch) audience(aud string) *audFrame {
	if sc.audIdx == nil || len(sc.auds) <= audLinearMax {
		for i := range sc.auds {
			if sc.auds[i].audience == aud {
				return &sc.auds[i]
			}
		}
	} else if i, ok := sc.audIdx[aud]; ok {
		return &sc.auds[i]
	}
	sc.auds = append(sc.auds, audFrame{audience: aud})
	i := len(sc.auds) - 1
	if len(sc.auds) > audLinearMax {
		if sc.audIdx == nil {
			sc.audIdx = make(map[string]int)
		}
		if len(sc.audIdx) == 0 {
			for j := range sc.auds {
				sc.audIdx[sc.auds[j].audience] = j
			}
		}
		sc.audIdx[aud] = i
	}
	return &sc.auds[i]
}

func (h *Hub) logEncodeError(ev *DomainEvent, audience string, err error) {
	h.log.Warn("hub: encode failed",
		slog.String("kind", string(ev.Kind)),
		slog.String("chat_id", ev.ChatID),
		slog.String("audience", audience),
		slog.Any("err", err))
}
