package bridge

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

// Identities. A Rocket.Chat user id must be stable both ways, so:
//
//   - an agent (human or bot) is the Rocket.Chat user whose _id is its
//     LiveChat account_id (a UUID that never changes and never leaks the
//     agent's e-mail), whose username is its Username;
//   - a customer is the omnichannel visitor whose _id is its customer id
//     and whose username is "guest-" + that id;
//   - events written by the system are authored by Rocket.Chat's own bot,
//     rocket.cat.
//
// Going back, an account id (or, leniently, an agent's e-mail or username)
// finds the agent; "guest-<id>" or the bare id finds the customer.

// guestPrefix starts a visitor's username.
const guestPrefix = "guest-"

// rocketCat is the author of system messages, as Rocket.Chat's own bot.
var rocketCat = userRef{ID: "rocket.cat", Username: "rocket.cat", Name: "Rocket.Cat"}

// person is a LiveChat user as Rocket.Chat shows it.
type person struct {
	ref      userRef
	agent    *livechat.Agent
	customer *livechat.Customer
}

// userRef is Rocket.Chat's {_id, username, name} user reference.
type userRef struct {
	ID       string `json:"_id"`
	Username string `json:"username"`
	Name     string `json:"name,omitempty"`
}

func agentPerson(a *livechat.Agent) person {
	return person{ref: userRef{ID: a.AccountID, Username: a.Username, Name: a.Name}, agent: a}
}

func customerPerson(c *livechat.Customer) person {
	return person{ref: userRef{ID: c.ID, Username: guestPrefix + c.ID, Name: c.Name}, customer: c}
}

// people resolves LiveChat user ids (agent ids, customer ids) to persons,
// with a short-lived cache: names change rarely and every message push
// needs its author. Updates the bridge sees (agent_updated,
// customer_updated) drop the entry at once.
type people struct {
	svc   *livechat.Service
	clock livechat.Clock
	ttl   time.Duration

	mu sync.Mutex
	m  map[string]peopleEntry // guarded by mu
}

type peopleEntry struct {
	p  person
	at time.Time
}

// maxPeople bounds the cache; past it the cache starts over.
const maxPeople = 4096

func newPeople(svc *livechat.Service, ttl time.Duration) *people {
	return &people{svc: svc, clock: svc.Clock(), ttl: ttl, m: map[string]peopleEntry{}}
}

// get returns the person behind a LiveChat user id; ok is false when no
// agent or customer has it.
func (pp *people) get(ctx context.Context, id string) (person, bool) {
	if id == "" {
		return person{ref: rocketCat}, true
	}
	now := pp.clock.Now()
	pp.mu.Lock()
	e, hit := pp.m[id]
	pp.mu.Unlock()
	if hit && now.Sub(e.at) < pp.ttl {
		return e.p, true
	}
	st := pp.svc.Store()
	var p person
	if a, err := st.Agents().Get(ctx, id); err == nil {
		p = agentPerson(a)
	} else if c, err := st.Customers().Get(ctx, id); err == nil {
		p = customerPerson(c)
	} else {
		return person{ref: userRef{ID: id, Username: id}}, false
	}
	pp.mu.Lock()
	if len(pp.m) >= maxPeople {
		clear(pp.m)
	}
	pp.m[id] = peopleEntry{p: p, at: now}
	pp.mu.Unlock()
	return p, true
}

// forget drops a cached person.
func (pp *people) forget(id string) {
	pp.mu.Lock()
	delete(pp.m, id)
	pp.mu.Unlock()
}

// agentByUID finds the agent a Rocket.Chat user id (account id) names; an
// agent id (e-mail) or username is accepted too.
func (b *Bridge) agentByUID(ctx context.Context, uid string) (*livechat.Agent, error) {
	if uid == "" {
		return nil, livechat.Errorf(livechat.TypeValidation, "user id is required")
	}
	return b.svc.FindAgentByLogin(ctx, uid)
}

// customerByUID finds the customer a visitor user id or username names.
func (b *Bridge) customerByUID(ctx context.Context, uid string) (*livechat.Customer, error) {
	return b.svc.GetCustomer(ctx, livechat.System(), strings.TrimPrefix(uid, guestPrefix))
}
