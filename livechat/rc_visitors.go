package livechat

import (
	"context"
	"errors"
	"maps"
	"strings"
)

// Core helpers for the Rocket.Chat realtime API (package bridge): omnichannel
// visitors. A Rocket.Chat visitor is identified by a token its widget
// generates; chatbridge keeps the token (by its hash, like every token) as a
// TokenVisitor token naming the LiveChat customer the visitor is. A visitor
// token is not a LiveChat credential: Authenticate refuses it.

// TokenVisitor is the kind of a stored Rocket.Chat visitor token.
const TokenVisitor = "rc_visitor"

// Visitor token bounds: Rocket.Chat widgets send Random.id() (17 characters)
// or longer random strings.
const (
	minVisitorToken = 8
	maxVisitorToken = 256
)

// RegisterVisitor returns the customer a visitor token names, creating the
// customer and recording the token on first use (created true). Name and
// Email in, when set, update the customer (customer_updated).
func (s *Service) RegisterVisitor(ctx context.Context, token string, in CustomerInput) (*Customer, bool, error) {
	token = strings.TrimSpace(token)
	if len(token) < minVisitorToken || len(token) > maxVisitorToken {
		return nil, false, Errorf(TypeValidation, "visitor token must be %d to %d characters", minVisitorToken, maxVisitorToken)
	}
	h := HashToken(token)
	unlock := s.locks.lock("rc-visitor:" + h)
	c, err := s.VisitorByToken(ctx, token)
	created := false
	if IsType(err, TypeNotFound) {
		if c, err = s.CreateCustomer(ctx, System(), CustomerInput{}); err == nil {
			err = s.store.Tokens().Insert(ctx, &Token{ID: h, Kind: TokenVisitor, Subject: c.ID, CreatedAt: s.now()})
			created = err == nil
		}
	}
	unlock()
	if err != nil {
		return nil, false, err
	}
	if in.Name != nil || in.Email != nil {
		if c, err = s.UpdateCustomer(ctx, System(), c.ID, in); err != nil {
			return nil, false, err
		}
	}
	return c, created, nil
}

// VisitorByToken returns the customer a visitor token names; not_found for
// a token never registered.
func (s *Service) VisitorByToken(ctx context.Context, token string) (*Customer, error) {
	if len(token) < minVisitorToken || len(token) > maxVisitorToken {
		return nil, notFound("Visitor")
	}
	t, err := s.store.Tokens().Get(ctx, HashToken(token))
	if errors.Is(err, ErrNotFound) || err == nil && t.Kind != TokenVisitor {
		return nil, notFound("Visitor")
	}
	if err != nil {
		return nil, err
	}
	c, err := s.store.Customers().Get(ctx, t.Subject)
	if err != nil {
		return nil, storeErr(err, "Visitor")
	}
	return c, nil
}

// ErrVisitorHasOpenChats is EraseVisitor's refusal while the visitor still
// has an active chat (Rocket.Chat's visitor-has-open-rooms).
var ErrVisitorHasOpenChats = Errorf(TypeValidation, "Cannot remove a visitor with open chats")

// EraseVisitor forgets the visitor a token names (Rocket.Chat's DELETE
// livechat/visitor/:token): the token stops naming anyone and the
// customer's personal data (name, e-mail, avatar, session fields, the last
// visit and its pages) is cleared (customer_updated). The customer record
// and its closed chats stay, without anything that identifies the person,
// so archives and counters keep their meaning. A visitor with an active
// chat is refused with ErrVisitorHasOpenChats.
func (s *Service) EraseVisitor(ctx context.Context, token string) (*Customer, error) {
	c, err := s.VisitorByToken(ctx, token)
	if err != nil {
		return nil, err
	}
	h := HashToken(token)
	// Under the customer's chat lock no chat starts or resumes meanwhile;
	// under the token's lock RegisterVisitor does not race the delete.
	err = func() error {
		defer s.locks.lockPair("customer-chats:"+c.ID, "rc-visitor:"+h)()
		open, err := s.store.Chats().Count(ctx, Where(Eq("customer_id", c.ID), Cond{Field: "active_thread_id", Op: OpNe, Value: ""}))
		if err != nil {
			return err
		}
		if open > 0 {
			return ErrVisitorHasOpenChats
		}
		if err := s.store.Tokens().Delete(ctx, h); err != nil {
			return storeErr(err, "Visitor")
		}
		return nil
	}()
	if err != nil {
		return nil, err
	}
	c, err = s.updateCustomer(ctx, c.ID, func(c *Customer) error {
		c.Name, c.Email, c.EmailVerified, c.Avatar = "", "", false, ""
		c.SessionFields, c.LastVisit = []map[string]string{}, nil
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.emit(ctx, &DomainEvent{Kind: KindCustomerUpdated, RequesterID: c.ID, Topics: s.customerTopics(ctx, c),
		Data: CustomerData{Customer: c, Changed: []string{"name", "email", "avatar", "session_fields"}}})
	return c, nil
}

// SessionField is one custom field a visitor sets (Rocket.Chat's
// livechat/custom.field): a session field of the customer.
type SessionField struct {
	Key, Value string
	// Overwrite replaces a value the customer already has; without it an
	// existing key keeps its value.
	Overwrite bool
}

// Session field bounds for SetSessionFields.
const (
	maxSessionFieldKey   = 256
	maxSessionFieldValue = 4096
)

// SetSessionFields merges fields into the customer's session fields under
// the customer's lock (a new key is appended, an existing one changes only
// with Overwrite); customer_updated tells the customer's audience when
// something changed. Customers change only their own.
func (s *Service) SetSessionFields(ctx context.Context, actor Actor, customerID string, fields []SessionField) (*Customer, error) {
	if actor.IsCustomer() && actor.ID != customerID {
		return nil, notFound("Customer")
	}
	for _, f := range fields {
		if f.Key == "" || len(f.Key) > maxSessionFieldKey || len(f.Value) > maxSessionFieldValue {
			return nil, Errorf(TypeValidation, "a session field needs a key of 1 to %d bytes and a value of at most %d", maxSessionFieldKey, maxSessionFieldValue)
		}
	}
	var changed []string
	c, err := s.updateCustomer(ctx, customerID, func(c *Customer) error {
		merged := make([]map[string]string, 0, len(c.SessionFields)+len(fields))
		for _, m := range c.SessionFields {
			merged = append(merged, maps.Clone(m))
		}
	next:
		for _, f := range fields {
			for _, m := range merged {
				if _, ok := m[f.Key]; ok {
					if f.Overwrite {
						m[f.Key] = f.Value
					}
					continue next
				}
			}
			merged = append(merged, map[string]string{f.Key: f.Value})
		}
		var err error
		changed, err = applyCustomerChanges(c, CustomerInput{SessionFields: merged})
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(changed) > 0 {
		s.emit(ctx, &DomainEvent{Kind: KindCustomerUpdated, RequesterID: actor.ID, Topics: s.customerTopics(ctx, c), Data: CustomerData{Customer: c, Changed: changed}})
	}
	return c, nil
}
