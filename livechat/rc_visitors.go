package livechat

import (
	"context"
	"errors"
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
