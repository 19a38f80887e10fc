package bridge

import (
	"context"
	"sync"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

// Unread counts. A subscription's `unread` is the number of events others
// wrote in the chat after the user's seen marker. Counting them is a store
// query that the embedded store cannot push down (it scans), so the pushes
// of a new message, which need the count of every chat user, keep the
// counts in memory and move them one event at a time: an entry is valid
// for one state of the chat's active thread (its id and event count) and
// of the user's seen marker, and the next event advances it. Anything else
// (events this process did not encode, a thread change, events published
// out of order) drops the entry, and the next need counts in the store.

// maxUnreads bounds the entries; past it the cache starts over.
const maxUnreads = 16384

type unreadKey struct{ chat, user string }

type unreadEntry struct {
	thread string
	events int       // the thread's event count the entry is valid for
	seen   time.Time // the user's seen marker it is valid for
	n      int
}

type unreads struct {
	mu sync.Mutex
	m  map[unreadKey]unreadEntry // guarded by mu
}

func newUnreads() *unreads { return &unreads{m: map[unreadKey]unreadEntry{}} }

// threadState is the active thread of a chat as a push saw it.
type threadState struct {
	id     string
	events int
}

// advance moves the counts of chat c's users past event e, the events-th
// of thread t (the state right after e).
func (u *unreads) advance(c *livechat.Chat, e *livechat.Event, t threadState) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, cu := range c.Users {
		k := unreadKey{c.ID, cu.ID}
		old, ok := u.m[k]
		switch {
		case cu.ID == e.AuthorID: // writing marks the chat seen
			u.put(k, unreadEntry{thread: t.id, events: t.events, seen: cu.EventsSeenUpTo})
		case ok && old.thread == t.id && old.events == t.events-1 && old.seen.Equal(cu.EventsSeenUpTo):
			old.events, old.n = t.events, old.n+1
			u.m[k] = old
		default:
			delete(u.m, k)
		}
	}
}

// seen records that user saw chat c up to seen (none unread).
func (u *unreads) seen(chatID, userID string, seen time.Time, t threadState) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.put(unreadKey{chatID, userID}, unreadEntry{thread: t.id, events: t.events, seen: seen})
}

func (u *unreads) put(k unreadKey, e unreadEntry) {
	if len(u.m) >= maxUnreads {
		clear(u.m)
	}
	u.m[k] = e
}

func (u *unreads) get(k unreadKey, seen time.Time, t threadState) (int, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	e, ok := u.m[k]
	if !ok || e.thread != t.id || e.events != t.events || !e.seen.Equal(seen) {
		return 0, false
	}
	return e.n, true
}

// unread counts the events of chat c written by others after seen; t, when
// known, lets the count come from (and go to) the cache.
func (b *Bridge) unread(ctx context.Context, c *livechat.Chat, userID string, seen time.Time, t *threadState) int {
	if !c.LastEventAt.After(seen) {
		return 0
	}
	if t != nil {
		if n, ok := b.unreads.get(unreadKey{c.ID, userID}, seen, *t); ok {
			return n
		}
	}
	n, err := b.svc.Store().Events().Count(ctx, livechat.Where(livechat.Eq("chat_id", c.ID),
		livechat.Cond{Field: "created_at", Op: livechat.OpGt, Value: seen},
		livechat.Cond{Field: "author_id", Op: livechat.OpNe, Value: userID}))
	if err != nil {
		b.log.Warn("unread count", "chat_id", c.ID, "err", err)
		return 0
	}
	if t != nil {
		b.unreads.mu.Lock()
		b.unreads.put(unreadKey{c.ID, userID}, unreadEntry{thread: t.id, events: t.events, seen: seen, n: int(n)})
		b.unreads.mu.Unlock()
	}
	return int(n)
}
