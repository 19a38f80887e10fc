package ddp

import (
	"encoding/json"
	"time"
)

// The reader side of a session: Serve's goroutine reads, answers what needs
// no handler (connect, ping, protocol errors) and queues the rest for the
// worker, which runs it in order.

// touch records inbound activity for the heartbeat.
func (s *Session) touch(now time.Time) {
	s.lastSeen.Store(now.UnixNano())
	s.seen.Add(1)
}

// reader reads until the Conn fails or the session stops listening (a
// failed handshake, an overflowing client).
func (s *Session) reader() {
	var f inFrame
	for {
		raw, err := s.conn.Read(s.ctx)
		if err != nil {
			return
		}
		s.touch(s.cfg.Clock.Now())
		f = inFrame{}
		if !s.handle(raw, &f) {
			return
		}
	}
}

// handle answers one client message, or queues it for the worker. It
// returns false when the session should stop reading.
func (s *Session) handle(raw []byte, f *inFrame) bool {
	if !parseFrame(raw, f) {
		s.protocolError("Bad request", nil)
		return true
	}
	msg, ok := rawString(f.Msg)
	if !ok || msg == "" {
		s.protocolError("Bad request", raw)
		return true
	}
	connected := s.connected.Load()
	if msg == "connect" {
		if connected {
			s.protocolError("Already connected", raw)
			return true
		}
		return s.connect(f)
	}
	if !connected {
		s.protocolError("Must connect first", raw)
		return true
	}
	pre1 := s.version == "pre1"
	switch msg {
	case "ping":
		if pre1 {
			s.protocolError("Bad request", raw)
		} else {
			s.Send(framePong(f.ID))
		}
		return true
	case "pong":
		if pre1 {
			s.protocolError("Bad request", raw)
		}
		return true // liveness was recorded when it was read
	case "method":
		id, ok1 := rawString(f.ID)
		name, ok2 := rawString(f.Method)
		params, ok3 := rawParams(f.Params)
		seed, ok4 := rawString(f.RandomSeed)
		if !ok1 || !ok2 || !ok3 || !ok4 && f.RandomSeed != nil {
			s.protocolError("Malformed method invocation", raw)
			return true
		}
		if !validEJSON(f.Params) {
			s.protocolError("Parse error", nil)
			return true
		}
		return s.enqueue(&call{kind: "method", id: id, name: name, params: params, randomSeed: seed, size: len(raw)})
	case "sub":
		id, ok1 := rawString(f.ID)
		name, ok2 := rawString(f.Name)
		params, ok3 := rawParams(f.Params)
		if !ok1 || !ok2 || !ok3 {
			s.protocolError("Malformed subscription", raw)
			return true
		}
		if !validEJSON(f.Params) {
			s.protocolError("Parse error", nil)
			return true
		}
		return s.enqueue(&call{kind: "sub", id: id, name: name, params: params, size: len(raw)})
	case "unsub":
		id, ok := rawString(f.ID)
		if !ok {
			s.protocolError("Bad request", raw)
			return true
		}
		return s.enqueue(&call{kind: "unsub", id: id, size: len(raw)})
	}
	s.protocolError("Bad request", raw)
	return true
}

// validEJSON reports whether params decode as EJSON (Meteor rejects a
// message with, say, an unknown $type before running anything).
func validEJSON(params json.RawMessage) bool {
	if params == nil || !maySpecial(params) {
		return true
	}
	_, err := DecodeEJSON(params)
	return err == nil
}

// connect negotiates the version (Meteor's rules) and starts the session,
// or answers `failed` and closes.
func (s *Session) connect(f *inFrame) bool {
	version, ok := rawString(f.Version)
	support, sok := rawStrings(f.Support)
	listed := false
	for _, v := range support {
		listed = listed || v == version
	}
	if !ok || !sok || !listed {
		s.fail(supportedVersions[0])
		return false
	}
	if pick := negotiate(support); pick != version {
		s.fail(pick)
		return false
	}
	s.version = version
	s.touch(s.cfg.Clock.Now()) // heartbeats count from here
	s.connected.Store(true)
	s.Send(frameConnected(s.id))
	return true
}

func (s *Session) fail(version string) {
	s.Send(frameFailed(version))
	s.Close(CloseVersionMismatch)
}

// enqueue hands a call to the worker; a client over the inbox bounds is
// closed rather than allowed to grow it.
func (s *Session) enqueue(c *call) bool {
	if s.inboxBytes.Add(int64(c.size)) > int64(s.cfg.InboxBytes) {
		s.inboxBytes.Add(-int64(c.size))
		s.Close(CloseTooManyPending)
		return false
	}
	select {
	case s.inbox <- c:
		return true
	default:
		s.inboxBytes.Add(-int64(c.size))
		s.Close(CloseTooManyPending)
		return false
	}
}

// work runs queued calls in order until the inbox closes, or until a
// method handler unblocks and a new worker takes over.
func (s *Session) work() {
	defer s.workers.Done()
	for c := range s.inbox {
		s.inboxBytes.Add(-int64(c.size))
		if s.ctx.Err() != nil {
			continue // ending: drain without running
		}
		switch c.kind {
		case "method":
			if s.runMethod(c) {
				return
			}
		case "sub":
			s.runSub(c)
		case "unsub":
			s.unsub(c.id)
		}
	}
}

// rateCheck applies the per-connection and shared rate rules.
func (s *Session) rateCheck(kind, name string) (time.Duration, bool) {
	in := RateInput{Kind: kind, Name: name, UserID: s.UserID(), ConnectionID: s.id, ClientAddress: s.conn.RemoteAddr()}
	now := s.cfg.Clock.Now()
	w1, ok1 := s.limiter.take(now, in)
	w2, ok2 := s.srv.shared.take(now, in)
	return max(w1, w2), ok1 && ok2
}
