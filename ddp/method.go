package ddp

import (
	"encoding/json"
	"fmt"
	"runtime/debug"
	"sync"
)

// Params are a method's or subscription's positional parameters, each
// still EJSON-encoded.
type Params []json.RawMessage

// Decode decodes the parameters in order into dst (pointers, as for
// json.Unmarshal), with UnmarshalEJSON: a time.Time receives a $date, a
// []byte a $binary. Parameters the client left out leave their dst as is,
// and extra parameters are ignored; a nil dst skips its parameter. A
// parameter that does not fit its dst is Meteor's 400 "Match failed"
// (an *Error, ready to return from a handler).
func (p Params) Decode(dst ...any) error {
	for i, d := range dst {
		if i >= len(p) {
			break
		}
		if d == nil {
			continue
		}
		if err := UnmarshalEJSON(p[i], d); err != nil {
			return &Error{Code: errMatchFailed.Code, Reason: errMatchFailed.Reason, cause: fmt.Errorf("param %d: %w", i, err)}
		}
	}
	return nil
}

// Value decodes parameter i with DecodeEJSON (nil, nil when absent).
func (p Params) Value(i int) (any, error) {
	if i < 0 || i >= len(p) {
		return nil, nil
	}
	return DecodeEJSON(p[i])
}

// Invocation is one method call, Meteor's `this` inside a method.
type Invocation struct {
	// Session is the connection the call came on.
	Session *Session
	// ID is the client's method id.
	ID string
	// Method is the method name.
	Method string
	// Params are the call's parameters.
	Params Params
	// RandomSeed is the client's seed for ids it simulated, or "".
	RandomSeed string

	mu        sync.Mutex
	done      bool // the handler has returned
	unblocked bool
}

// Unblock lets the session's next message start before this method
// returns (Meteor's this.unblock()): a new worker takes over the queue and
// this method's result is sent whenever it finishes. Only the first call
// counts, and it does nothing after the handler returned, or when
// Config.MaxUnblocked handlers of the session are already running unblocked.
func (inv *Invocation) Unblock() {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	s := inv.Session
	if inv.done || inv.unblocked {
		return
	}
	if int(s.unblocked.Add(1)) > s.cfg.MaxUnblocked {
		s.unblocked.Add(-1)
		return
	}
	inv.unblocked = true
	// The calling worker is still counted (its handler is running), so this
	// Add cannot race with run's Wait reaching zero.
	s.workers.Add(1)
	go s.work()
}

// finish marks the handler returned and reports whether it unblocked.
func (inv *Invocation) finish() bool {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	inv.done = true
	return inv.unblocked
}

// runMethod answers one method call with `result` then `updated`: data
// messages the handler sent are queued before both. It reports whether the
// handler unblocked, in which case this worker is done with the queue.
func (s *Session) runMethod(c *call) (unblocked bool) {
	h := s.srv.method(c.name)
	if h == nil {
		s.sendResult(c, nil, methodNotFound(c.name))
		return false
	}
	if wait, ok := s.rateCheck(KindMethod, c.name); !ok {
		s.sendResult(c, nil, tooManyRequests(wait))
		return false
	}
	inv := &Invocation{Session: s, ID: c.id, Method: c.name, Params: c.params, RandomSeed: c.randomSeed}
	result, err := s.callMethod(h, inv)
	if unblocked = inv.finish(); unblocked {
		defer s.unblocked.Add(-1)
	}
	s.sendResult(c, result, err)
	return unblocked
}

// callMethod runs h, turning a panic into an internal error.
func (s *Session) callMethod(h MethodHandler, inv *Invocation) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("ddp method panicked", "method", inv.Method, "user", s.UserID(), "panic", p, "stack", string(debug.Stack()))
			result, err = nil, errInternal
		}
	}()
	return h(s.hctx, inv)
}

func (s *Session) sendResult(c *call, result any, err error) {
	var e *Error
	if err != nil {
		var internal bool
		if e, internal = clientError(err); internal {
			s.log.Error("ddp method failed", "method", c.name, "user", s.UserID(), "err", err)
		} else if e.cause != nil {
			s.log.Debug("ddp method refused", "method", c.name, "user", s.UserID(), "err", err)
		}
	}
	frame, ferr := frameResult(c.id, result, e)
	if ferr != nil {
		s.log.Error("ddp method result not encoded", "method", c.name, "err", ferr)
	}
	s.Send(frame)
	s.Send(frameUpdated(c.id))
}
