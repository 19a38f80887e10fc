package livechat

// Subscriber is a live session as the hub sees it: a LiveChat RTM socket or a
// DDP connection. The hub never writes to a socket; it hands encoded frames
// to the session's bounded outbound queue.
type Subscriber interface {
	// SessionID is unique per live session in this process.
	SessionID() uint64
	// Audience groups sessions that encode an event to the same bytes
	// (protocol, version, user type, ...). The hub encodes once per audience.
	Audience() string
	// Accepts filters per session (push subscriptions, visibility, access).
	Accepts(ev *DomainEvent) bool
	// Encode turns ev into one frame for this audience; requestID is set
	// only for the requester's own copy. A nil frame means "nothing to send".
	Encode(ev *DomainEvent, requestID string) ([]byte, error)
	// Send queues a frame without blocking; false means the queue is full.
	Send(frame []byte) bool
	// Disconnect closes the session with a reason (e.g. CloseSlowConsumer).
	Disconnect(reason string)
}

// CloseSlowConsumer is the reason given to a session whose outbound queue overflowed.
const CloseSlowConsumer = "slow_consumer"
