package ddp

import (
	"context"
	"errors"
	"runtime/debug"
)

// ErrSubscriptionStopped is returned when publishing on a stopped
// subscription (the client unsubscribed, or the session ended): the
// publisher should stop too.
var ErrSubscriptionStopped = errors.New("ddp: subscription stopped")

// docKey names one document of the client's view.
type docKey struct{ collection, id string }

// Subscription is one client `sub`, Meteor's `this` inside a publication.
// Its methods are safe for concurrent use, so a publication can keep
// sending from other goroutines after its handler returned.
//
// Documents follow a document-level merge box: the session counts the
// subscriptions holding each (collection, id) that Added sent. The first
// Added of a document sends `added`, a later one (from another
// subscription) sends `changed` with its fields; Removed, and the stop of a
// subscription, send `removed` only when no other subscription still holds
// the document. Changed, and Removed of a document no subscription added,
// pass straight through: that is how Rocket.Chat streams send events
// (`changed` with id "id"). Fields are not tracked one by one: when two
// subscriptions publish different fields of one document, the client keeps
// the union until the document is removed.
type Subscription struct {
	session *Session
	id      string
	name    string
	params  Params
	ctx     context.Context
	cancel  context.CancelFunc

	// guarded by session.mu
	docs    map[docKey]struct{}
	ready   bool
	stopped bool
	onStop  []func()
}

// ID is the client's subscription id.
func (sub *Subscription) ID() string { return sub.id }

// Name is the publication name.
func (sub *Subscription) Name() string { return sub.name }

// Params are the subscription's parameters.
func (sub *Subscription) Params() Params { return sub.params }

// Session is the connection the subscription belongs to.
func (sub *Subscription) Session() *Session { return sub.session }

// Context is canceled when the subscription stops; it carries the session.
func (sub *Subscription) Context() context.Context { return sub.ctx }

// Added sends a document of collection with fields (an object, EJSON).
func (sub *Subscription) Added(collection, id string, fields any) error {
	f, err := encodeFields(fields)
	if err != nil {
		return err
	}
	s, k := sub.session, docKey{collection, id}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub.stopped {
		return ErrSubscriptionStopped
	}
	msg := "changed"
	if _, held := sub.docs[k]; !held {
		if sub.docs == nil {
			sub.docs = map[docKey]struct{}{}
		}
		sub.docs[k] = struct{}{}
		if s.docs == nil {
			s.docs = map[docKey]int{}
		}
		if s.docs[k]++; s.docs[k] == 1 {
			msg = "added"
		}
	}
	if msg == "changed" && f == nil {
		return nil // the client has the document and nothing changed
	}
	return s.send(frameDoc(msg, collection, id, f, nil))
}

// Changed sends changed fields (an object, or nil) and the names of
// cleared fields.
func (sub *Subscription) Changed(collection, id string, fields any, cleared ...string) error {
	f, err := encodeFields(fields)
	if err != nil {
		return err
	}
	s := sub.session
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub.stopped {
		return ErrSubscriptionStopped
	}
	return s.send(frameDoc("changed", collection, id, f, cleared))
}

// Removed withdraws a document this subscription added; the client is told
// once no subscription holds it.
func (sub *Subscription) Removed(collection, id string) error {
	s, k := sub.session, docKey{collection, id}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub.stopped {
		return ErrSubscriptionStopped
	}
	if _, held := sub.docs[k]; held {
		delete(sub.docs, k)
		if s.docs[k]--; s.docs[k] > 0 {
			return nil
		}
		delete(s.docs, k)
	} else if s.docs[k] > 0 {
		return nil // only other subscriptions hold it
	}
	return s.send(EncodeRemoved(collection, id))
}

// Ready tells the client the initial documents have all been sent. Only
// the first call counts.
func (sub *Subscription) Ready() {
	s := sub.session
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub.stopped || sub.ready {
		return
	}
	sub.ready = true
	s.Send(frameReady(sub.id))
}

// Stop ends the subscription from the server side: its documents are
// removed and the client gets `nosub`.
func (sub *Subscription) Stop() { sub.stop(nil, true) }

// Error ends the subscription with `nosub` carrying err (an *Error as it
// is; anything else as 500 "Internal server error", logged).
func (sub *Subscription) Error(err error) {
	if err == nil {
		err = errInternal
	}
	sub.stop(err, true)
}

// OnStop registers f to run when the subscription stops for any reason
// (unsub, Stop, Error, the session ending); f runs at once if it already
// has.
func (sub *Subscription) OnStop(f func()) {
	s := sub.session
	s.mu.Lock()
	if sub.stopped {
		s.mu.Unlock()
		f()
		return
	}
	sub.onStop = append(sub.onStop, f)
	s.mu.Unlock()
}

// stop ends the subscription once; notify tells the client (`removed` for
// the documents only it held, then `nosub`), which a closing session skips.
func (sub *Subscription) stop(err error, notify bool) {
	s := sub.session
	var e *Error
	if err != nil {
		var internal bool
		if e, internal = clientError(err); internal {
			s.log.Error("ddp publication failed", "publication", sub.name, "user", s.UserID(), "err", err)
		}
	}
	s.mu.Lock()
	if sub.stopped {
		s.mu.Unlock()
		return
	}
	sub.stopped = true
	if s.subs[sub.id] == sub {
		delete(s.subs, sub.id)
	}
	for k := range sub.docs {
		if s.docs[k]--; s.docs[k] > 0 {
			continue
		}
		delete(s.docs, k)
		if notify {
			s.Send(EncodeRemoved(k.collection, k.id))
		}
	}
	sub.docs = nil
	if notify {
		s.sendNosub(sub.id, e)
	}
	hooks := sub.onStop
	sub.onStop = nil
	s.mu.Unlock()
	sub.cancel()
	for _, f := range hooks {
		f()
	}
}

func (s *Session) sendNosub(id string, e *Error) {
	frame, err := frameNosub(id, e)
	if err != nil {
		s.log.Error("ddp nosub error not fully encoded", "err", err)
	}
	s.Send(frame)
}

// runSub starts a subscription (Meteor's order of checks: unknown name,
// duplicate id, rate limit).
func (s *Session) runSub(c *call) {
	h := s.srv.publication(c.name)
	if h == nil {
		s.sendNosub(c.id, subNotFound(c.name))
		return
	}
	s.mu.Lock()
	_, dup := s.subs[c.id]
	s.mu.Unlock()
	if dup {
		return // re-sent after a reconnect: silently ignored
	}
	if wait, ok := s.rateCheck(KindSubscription, c.name); !ok {
		s.sendNosub(c.id, tooManyRequests(wait))
		return
	}
	ctx, cancel := context.WithCancel(s.hctx)
	sub := &Subscription{session: s, id: c.id, name: c.name, params: c.params, ctx: ctx, cancel: cancel}
	s.mu.Lock()
	if s.subs == nil {
		s.subs = map[string]*Subscription{}
	}
	s.subs[c.id] = sub
	s.mu.Unlock()
	if err := s.callPublish(h, sub); err != nil {
		sub.Error(err)
	}
}

func (s *Session) callPublish(h PublishHandler, sub *Subscription) (err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("ddp publication panicked", "publication", sub.name, "user", s.UserID(), "panic", p, "stack", string(debug.Stack()))
			err = errInternal
		}
	}()
	return h(sub.ctx, sub)
}

// unsub stops a subscription at the client's request; an unknown id still
// gets its `nosub`, as Meteor answers.
func (s *Session) unsub(id string) {
	s.mu.Lock()
	sub := s.subs[id]
	s.mu.Unlock()
	if sub == nil {
		s.sendNosub(id, nil)
		return
	}
	sub.stop(nil, true)
}
