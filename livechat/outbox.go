package livechat

import "sync"

// Outbox defaults, used when NewOutbox is given a limit <= 0.
const (
	// DefaultOutboxMaxFrames is the default bound on queued frames.
	DefaultOutboxMaxFrames = 1024
	// DefaultOutboxMaxBytes is the default bound on queued bytes (1 MiB).
	DefaultOutboxMaxBytes = 1 << 20
)

// outboxKeepCap is the queue capacity kept across drains; a queue that grew
// past it during a burst is released, so idle sessions stay small.
const outboxKeepCap = 128

// Outbox is a session's bounded outbound queue of frames: producers (the
// Hub's Publish, the session's own reader answering requests, pings) Push
// without blocking, and the session's single writer goroutine drains it.
// When a Push would go over either limit it is refused, and the producer
// treats the session as a slow consumer (the Hub disconnects it with
// CloseSlowConsumer) rather than letting it stall anyone.
//
// Concurrency contract:
//   - Push, Close, Len, Bytes and Closed may be called from any goroutine.
//   - Pop and receiving from C belong to one consumer goroutine (the writer).
//     Pop itself is safe anywhere, but with two consumers frame order on the
//     wire is undefined.
//   - Frames are handed over, not copied: a producer must not modify a frame
//     after pushing it (the Hub shares one frame among many Outboxes), and the
//     consumer must not modify a popped frame.
//   - The Outbox starts no goroutine and never blocks.
//
// A writer loop looks like:
//
//	var batch [][]byte
//	for range ob.C() {
//		batch = ob.Pop(batch[:0])
//		for _, f := range batch { write(f) }
//		clear(batch)
//	}
//	// C closed: the Outbox is closed; a last Pop returns what was queued.
type Outbox struct {
	maxFrames int
	maxBytes  int
	// wake holds at most one token, sent by the Push that makes the queue
	// non-empty; the consumer drains everything per token, so no queued
	// frame is ever left without a token pending or a Pop to come.
	wake chan struct{}

	mu     sync.Mutex
	frames [][]byte // guarded by mu
	bytes  int      // guarded by mu; sum of len(frames[i])
	closed bool     // guarded by mu; wake is closed with it
}

// NewOutbox returns an empty Outbox that holds at most maxFrames frames and
// maxBytes bytes of frames. A limit <= 0 takes its default.
func NewOutbox(maxFrames, maxBytes int) *Outbox {
	if maxFrames <= 0 {
		maxFrames = DefaultOutboxMaxFrames
	}
	if maxBytes <= 0 {
		maxBytes = DefaultOutboxMaxBytes
	}
	return &Outbox{maxFrames: maxFrames, maxBytes: maxBytes, wake: make(chan struct{}, 1)}
}

// Push queues frame without blocking. It returns false, queuing nothing, when
// the Outbox is closed or the frame would take it over either limit (a frame
// longer than maxBytes is always refused).
func (o *Outbox) Push(frame []byte) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || len(o.frames) >= o.maxFrames || o.bytes+len(frame) > o.maxBytes {
		return false
	}
	o.frames = append(o.frames, frame)
	o.bytes += len(frame)
	if len(o.frames) == 1 {
		// Only the push into an empty queue signals: a non-empty queue already
		// has a token pending or a consumer about to Pop it all. Signal under
		// mu: Close closes wake under mu, so this never sends on a closed
		// channel.
		select {
		case o.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// C returns the wakeup channel: it yields a value after one or more Pushes
// and is closed by Close. A receive does not mean Pop will return frames (a
// previous Pop may already have taken them).
func (o *Outbox) C() <-chan struct{} { return o.wake }

// Pop appends every queued frame to dst, in Push order, empties the Outbox
// and returns the extended slice. Frames queued before Close are still
// returned after it.
func (o *Outbox) Pop(dst [][]byte) [][]byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	dst = append(dst, o.frames...)
	if cap(o.frames) > outboxKeepCap {
		o.frames = nil
	} else {
		clear(o.frames) // let the GC have the frames once written
		o.frames = o.frames[:0]
	}
	o.bytes = 0
	return dst
}

// Close refuses further Pushes and closes C. Queued frames stay for Pop.
// Close is idempotent.
func (o *Outbox) Close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.closed {
		o.closed = true
		close(o.wake)
	}
}

// Closed reports whether Close was called.
func (o *Outbox) Closed() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.closed
}

// Len returns the number of queued frames.
func (o *Outbox) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.frames)
}

// Bytes returns the total length of the queued frames.
func (o *Outbox) Bytes() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.bytes
}
