package ddp

import "sync"

// outboxKeepCap is the queue capacity kept across drains: a queue that grew
// past it in a burst is released so idle sessions stay small.
const outboxKeepCap = 64

// outbox is a session's bounded outbound queue of encoded frames. Producers
// (the reader answering pings, method and publication handlers, the hub
// through Session.Send, the writer's own heartbeat) push without blocking;
// the session's writer goroutine is the only consumer. A push that would go
// over either bound is refused and the session closes with
// CloseSlowConsumer: one slow client never stalls a producer.
//
// Concurrency: push, close and closed from any goroutine; c and pop belong
// to the writer. Frames are handed over, not copied (one frame may be shared
// by many sessions): nobody modifies a frame after pushing it.
type outbox struct {
	maxFrames, maxBytes int
	// wake holds at most one token, sent by the push into an empty queue;
	// the writer pops everything per token, so no frame waits without a
	// token pending or a pop to come.
	wake chan struct{}

	mu       sync.Mutex
	frames   [][]byte // guarded by mu
	bytes    int      // guarded by mu
	isClosed bool     // guarded by mu; wake is closed with it
}

func newOutbox(maxFrames, maxBytes int) *outbox {
	return &outbox{maxFrames: maxFrames, maxBytes: maxBytes, wake: make(chan struct{}, 1)}
}

// push queues f. It returns false, queuing nothing, when the outbox is
// closed or f would take it over a bound.
func (o *outbox) push(f []byte) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.isClosed || len(o.frames) >= o.maxFrames || o.bytes+len(f) > o.maxBytes {
		return false
	}
	o.frames = append(o.frames, f)
	o.bytes += len(f)
	if len(o.frames) == 1 {
		// Under mu: close closes wake under mu, so this never sends on a
		// closed channel.
		select {
		case o.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// c yields after pushes and is closed by close.
func (o *outbox) c() <-chan struct{} { return o.wake }

// pop appends every queued frame to dst in push order and empties the queue.
// Frames queued before close are still returned after it.
func (o *outbox) pop(dst [][]byte) [][]byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	dst = append(dst, o.frames...)
	if cap(o.frames) > outboxKeepCap {
		o.frames = nil
	} else {
		clear(o.frames)
		o.frames = o.frames[:0]
	}
	o.bytes = 0
	return dst
}

// close refuses further pushes and closes c; it is idempotent.
func (o *outbox) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.isClosed {
		o.isClosed = true
		close(o.wake)
	}
}

func (o *outbox) closed() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.isClosed
}
