package bridge

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"

	"github.com/chatbridge/chatbridge/ddp"
	"github.com/chatbridge/chatbridge/livechat"
)

// conn is the bridge's state of one DDP session: who is signed in (an agent
// by login, or an omnichannel visitor by token), the stream subscriptions
// it holds, and its place in the livechat hub. It implements
// livechat.Subscriber, mirroring the LiveChat RTM session: the hub hands it
// domain events for its topics, it encodes them into Rocket.Chat stream
// messages once per audience (encode.go) and sends each session only the
// streams it subscribed.
//
// Concurrency: method and publication handlers of one session run one at a
// time (ddp's ordered dispatch); the hub calls Accepts, Encode, Send and
// Disconnect from publishing goroutines. mu guards everything below it.
type conn struct {
	b  *Bridge
	s  *ddp.Session
	id uint64 // hub session id, in its own id space (connIDs)

	mu       sync.Mutex
	actor    livechat.Actor // the signed-in agent; zero before login
	uid      string         // the agent's Rocket.Chat user id
	token    string         // the resume token of this login (revoked by logout); never logged
	expires  int64          // its expiry, ms since the epoch
	visitor  *livechat.Customer
	vtoken   string // the visitor token that identified visitor
	docSent  string // uid whose `users` document the client holds
	present  bool   // AgentConnected was called for actor
	vpresent bool   // CustomerConnected was called for visitor
	inHub    bool
	keys     map[string]int // stream keys (streamKey) → live subscriptions
	rooms    map[string]int // chat id → live room-scoped subscriptions
	wide     int            // live subscriptions not scoped to one room
	subs     map[*ddp.Subscription]subInfo
	inqs     map[*ddp.Subscription]map[string]bool // livechat:inquiry subscriptions → inquiry ids they hold
}

// subInfo is what a stream subscription registered in conn.
type subInfo struct {
	key        string
	room       string // chat id, or "" for wide streams
	userScoped bool   // ended by logout
}

// connIDs numbers DDP sessions for the hub. The top bit keeps them apart
// from the LiveChat RTM sessions' ids, which count up from 1.
var connIDs atomic.Uint64

const connIDSpace = 1 << 63

type connKey struct{}

// connOf returns the session's conn, creating it on first use. Handlers of
// one session run in order, so there is no race creating it.
func (b *Bridge) connOf(s *ddp.Session) *conn {
	if c, ok := s.Value(connKey{}).(*conn); ok {
		return c
	}
	c := &conn{b: b, s: s, id: connIDSpace | connIDs.Add(1), keys: map[string]int{}, rooms: map[string]int{},
		subs: map[*ddp.Subscription]subInfo{}, inqs: map[*ddp.Subscription]map[string]bool{}}
	s.SetValue(connKey{}, c)
	s.OnClose(func(ddp.CloseReason) { c.closed() })
	return c
}

// closed ends the session's presence and hub membership.
func (c *conn) closed() {
	c.mu.Lock()
	actor, present, visitor, vpresent, inHub := c.actor, c.present, c.visitor, c.vpresent, c.inHub
	c.present, c.vpresent, c.inHub = false, false, false
	c.mu.Unlock()
	if inHub {
		c.b.hub.Unsubscribe(c)
	}
	ctx := context.Background()
	if present {
		_ = c.b.svc.SetAway(ctx, actor.ID, livechat.SessionKey(c.id), false)
		c.b.svc.AgentDisconnected(ctx, actor.ID)
	}
	if vpresent {
		c.b.svc.CustomerDisconnected(ctx, visitor.ID)
	}
}

// agent returns the signed-in agent's actor and user id.
func (c *conn) agent() (livechat.Actor, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.actor, c.uid, c.actor.IsAgent()
}

// caller is the actor a visitor-or-agent method acts as: the signed-in
// agent, else the identified visitor.
func (c *conn) caller() (livechat.Actor, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.actor.IsAgent() {
		return c.actor, true
	}
	if c.visitor != nil {
		return livechat.CustomerActor(c.visitor), true
	}
	return livechat.Actor{}, false
}

// topics are the hub topics of what the session is signed in as, like the
// LiveChat RTM session's: an agent hears its own topic, the organization's
// and its groups'; a visitor its customer topic.
func (c *conn) topicsLocked() []livechat.Topic {
	var topics []livechat.Topic
	if c.actor.IsAgent() {
		topics = append(topics, livechat.AgentTopic(c.actor.ID), livechat.OrgTopic)
		for _, g := range c.actor.Agent.GroupIDs() {
			topics = append(topics, livechat.GroupTopic(g))
		}
	}
	if c.visitor != nil {
		topics = append(topics, livechat.CustomerTopic(c.visitor.ID))
	}
	return topics
}

// syncHub puts the session on its topics (or takes it off all of them).
func (c *conn) syncHub() {
	if c.b.hub == nil {
		return
	}
	c.mu.Lock()
	topics := c.topicsLocked()
	c.inHub = true
	c.mu.Unlock()
	c.b.hub.SetTopics(c, topics...)
}

// addStream records a live stream subscription; the returned func removes it.
func (c *conn) addStream(sub *ddp.Subscription, info subInfo) {
	c.mu.Lock()
	c.subs[sub] = info
	c.keys[info.key]++
	if info.room != "" {
		c.rooms[info.room]++
	} else {
		c.wide++
	}
	c.mu.Unlock()
	sub.OnStop(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if _, ok := c.subs[sub]; !ok {
			return
		}
		delete(c.subs, sub)
		if c.keys[info.key]--; c.keys[info.key] <= 0 {
			delete(c.keys, info.key)
		}
		if info.room != "" {
			if c.rooms[info.room]--; c.rooms[info.room] <= 0 {
				delete(c.rooms, info.room)
			}
		} else {
			c.wide--
		}
	})
}

// livechat.Subscriber.

// SessionID implements livechat.Subscriber.
func (c *conn) SessionID() uint64 { return c.id }

// Audience implements livechat.Subscriber. Rocket.Chat's user streams carry
// the user id in their event names and per-user state (subscriptions,
// unread counts, whether the user is a room participant), so an agent's
// sessions form one audience; the user-independent parts (messages, rooms,
// typing) are encoded once per event and shared by every audience (memo).
// Visitors only receive user-independent room streams: one audience.
func (c *conn) Audience() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.actor.IsAgent() {
		return "ddp/agent/" + c.actor.ID
	}
	return "ddp/visitor"
}

// Accepts implements livechat.Subscriber: a session is handed only the
// events its streams could carry, so sessions without a matching
// subscription cost no encoding.
func (c *conn) Accepts(ev *livechat.DomainEvent) bool {
	switch ev.Kind { // the bridge's caches hear of changes here
	case livechat.KindAgentUpdated:
		if d, ok := ev.Data.(livechat.AgentData); ok && d.Agent != nil {
			c.b.people.forget(d.Agent.ID)
		}
	case livechat.KindCustomerUpdated:
		if d, ok := ev.Data.(livechat.CustomerData); ok && d.Customer != nil {
			c.b.people.forget(d.Customer.ID)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	inRoom := ev.ChatID != "" && c.rooms[ev.ChatID] > 0
	if !c.actor.IsAgent() {
		return c.visitor != nil && !ev.AgentsOnly && inRoom
	}
	return inRoom || c.wide > 0
}

// Encode implements livechat.Subscriber (encode.go).
func (c *conn) Encode(ev *livechat.DomainEvent, _ string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), encodeTimeout)
	defer cancel()
	actor, uid, isAgent := c.agent()
	if !isAgent {
		return c.b.encodeVisitor(ctx, ev)
	}
	return c.b.encodeAgent(ctx, ev, actor, uid)
}

// Send implements livechat.Subscriber: it sends the bundle's messages whose
// stream this session subscribed, in order.
func (c *conn) Send(bundle []byte) bool {
	ok := true
	_ = walkBundle(bundle, func(kind byte, key, body []byte) {
		if !ok {
			return
		}
		switch kind {
		case entryFrame:
			c.mu.Lock()
			want := c.keys[string(key)] > 0 // no allocation for a map index
			c.mu.Unlock()
			if want {
				ok = c.s.Send(body)
			}
		case entryInquiryAdded, entryInquiryRemoved:
			c.inquiryChange(kind, string(key), body)
		}
	})
	return ok
}

// Disconnect implements livechat.Subscriber.
func (c *conn) Disconnect(reason string) {
	if reason == livechat.CloseSlowConsumer {
		c.s.Close(ddp.CloseSlowConsumer)
		return
	}
	c.s.Close(ddp.CloseNormal)
}

// inquiryChange applies a queued-conversation change to the session's
// livechat:inquiry subscriptions (merge box: an inquiry is removed only
// from subscriptions that hold it).
func (c *conn) inquiryChange(kind byte, id string, fields []byte) {
	c.mu.Lock()
	var targets []*ddp.Subscription
	for sub, held := range c.inqs {
		if kind == entryInquiryAdded && !held[id] {
			held[id] = true
			targets = append(targets, sub)
		} else if kind == entryInquiryRemoved && held[id] {
			delete(held, id)
			targets = append(targets, sub)
		}
	}
	c.mu.Unlock()
	for _, sub := range targets {
		if kind == entryInquiryAdded {
			_ = sub.Added(inquiryCollection, id, json.RawMessage(fields))
		} else {
			_ = sub.Removed(inquiryCollection, id)
		}
	}
}
