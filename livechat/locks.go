package livechat

import (
	"hash/maphash"
	"sync"
)

// keyLocks orders the writes of one document (a chat, an agent, a customer)
// inside the process: the embedded store has no compare-and-swap, so two
// concurrent read-modify-write cycles on one document must not interleave.
// A fixed set of stripes bounds memory whatever the number of keys.
type keyLocks struct {
	seed    maphash.Seed
	stripes [512]sync.Mutex
}

func newKeyLocks() *keyLocks { return &keyLocks{seed: maphash.MakeSeed()} }

// lock locks the stripe of key and returns its unlock function.
func (l *keyLocks) lock(key string) func() {
	m := &l.stripes[maphash.String(l.seed, key)%uint64(len(l.stripes))]
	m.Lock()
	return m.Unlock
}

// lockPair locks the stripes of two keys in stripe order (once when they
// share a stripe), so two operations that both need a pair cannot deadlock.
func (l *keyLocks) lockPair(a, b string) func() {
	i := maphash.String(l.seed, a) % uint64(len(l.stripes))
	j := maphash.String(l.seed, b) % uint64(len(l.stripes))
	if i == j {
		l.stripes[i].Lock()
		return l.stripes[i].Unlock
	}
	if i > j {
		i, j = j, i
	}
	l.stripes[i].Lock()
	l.stripes[j].Lock()
	return func() { l.stripes[j].Unlock(); l.stripes[i].Unlock() }
}
