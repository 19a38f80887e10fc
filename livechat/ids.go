package livechat

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Crockford's base32 alphabet: upper case, no I, L, O, U; sorts like the numbers it encodes.
const idAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var idGen struct {
	mu   sync.Mutex
	last uint64 // last ms timestamp used
	seq  uint32 // 30-bit counter, random start per millisecond
}

const seqBits = 30

// NewID returns a 16-character, URL-safe, time-sortable id: 10 characters of
// milliseconds then 6 of a counter that starts at a random value each
// millisecond and increases within it, so the ids one process makes sort in
// creation order and ids of different processes rarely meet.
func NewID() string { return newIDAt(time.Now()) }

func newIDAt(t time.Time) string {
	ms := uint64(t.UnixMilli())
	idGen.mu.Lock()
	if ms <= idGen.last {
		ms = idGen.last
		idGen.seq++
		if idGen.seq >= 1<<seqBits { // counter full: borrow the next millisecond
			ms++
			idGen.seq = 0
		}
	} else {
		var b [4]byte
		_, _ = rand.Read(b[:])
		idGen.seq = binary.BigEndian.Uint32(b[:]) >> (32 - seqBits + 1) // half range: headroom to count up
	}
	idGen.last = ms
	seq := idGen.seq
	idGen.mu.Unlock()

	var out [16]byte
	for i := 9; i >= 0; i-- {
		out[i] = idAlphabet[ms&31]
		ms >>= 5
	}
	for i := 15; i >= 10; i-- {
		out[i] = idAlphabet[seq&31]
		seq >>= 5
	}
	return string(out[:])
}

// NewUUID returns a random UUID v4 (customer ids, account ids, organization ids).
func NewUUID() string { return uuid.NewString() }

// NewBotID returns 32 lowercase hex characters, the shape of LiveChat bot ids.
func NewBotID() string {
	u := uuid.New()
	const hex = "0123456789abcdef"
	out := make([]byte, 32)
	for i, b := range u {
		out[i*2] = hex[b>>4]
		out[i*2+1] = hex[b&15]
	}
	return string(out)
}

// newSecret returns n random bytes, base64url encoded without padding.
func newSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewVisitorToken returns a random Rocket.Chat visitor token (an export
// gives each visitor one: only hashes of the old ones are kept).
func NewVisitorToken() string { return newSecret(24) }
