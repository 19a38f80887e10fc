package livechat

import (
	"context"
	"errors"
	"slices"
)

// Core helpers for the Rocket.Chat realtime API (package bridge): room
// access checks, a chat's threads, and chats whose id the client chose.

// ReadChat returns the chat with id when the actor may read it (the access
// rule every transport shares): not_found for customers who may not (they
// must not learn it exists), missing_access for agents.
func (s *Service) ReadChat(ctx context.Context, actor Actor, id string) (*Chat, error) {
	return s.readChat(ctx, actor, id)
}

// ChatThreads returns the threads of a chat the actor may read, oldest first.
func (s *Service) ChatThreads(ctx context.Context, actor Actor, chatID string) ([]Thread, error) {
	c, err := s.readChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	return s.store.Threads().Find(ctx, Query{Where: []Cond{Eq("chat_id", c.ID)}, Sort: "created_at"})
}

// StartChatWithID starts a chat for the customer actor with the id the
// client chose and an empty active thread (Rocket.Chat's livechat widget
// generates the room id and sends the first message to it with
// sendMessageLivechat; the message follows with SendEventWithID). Access,
// the chat limit, statistics and routing are those of StartChat for a
// customer. An id already used is already_exists.
func (s *Service) StartChatWithID(ctx context.Context, actor Actor, chatID string) (*ChatView, error) {
	if !actor.IsCustomer() {
		return nil, Errorf(TypeAuthorization, "Only customers start chats this way")
	}
	if !ValidClientID(chatID) {
		return nil, Errorf(TypeValidation, "chat id must be 1 to 64 characters of letters, digits, '_' and '-'")
	}
	now := s.now()
	cust, err := s.store.Customers().Get(ctx, actor.ID)
	if err != nil {
		return nil, storeErr(err, "Customer")
	}
	if cust.Banned(now) {
		return nil, Errorf(TypeCustomerBanned, "Customer is banned")
	}
	c := &Chat{ID: chatID, CustomerID: cust.ID, Properties: Properties{}, Followers: []string{}, CreatedAt: now, UpdatedAt: now,
		Access: Access{GroupIDs: []int{0}}, Users: []ChatUser{{ID: cust.ID, Type: UserCustomer, Present: true, Visibility: VisibilityAll}}}
	if len(cust.GroupIDs) > 0 {
		c.Access = Access{GroupIDs: slices.Clone(cust.GroupIDs)}
	}
	if groups := s.autoAccessForCustomer(ctx, cust); groups != nil {
		c.Access = Access{GroupIDs: groups}
	}
	view, err := func() (*ChatView, error) {
		defer s.locks.lockPair("customer-chats:"+c.CustomerID, "chat:"+c.ID)()
		if _, err := s.store.Chats().Get(ctx, c.ID); err == nil {
			return nil, Errorf(TypeAlreadyExists, "chat %s exists", c.ID)
		} else if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if err := s.checkCustomerChatLimit(ctx, c.CustomerID, ""); err != nil {
			return nil, err
		}
		return s.openThread(ctx, actor, c, ThreadInput{}, true, true)
	}()
	if err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, Errorf(TypeAlreadyExists, "chat %s exists", c.ID)
		}
		return nil, err
	}
	s.bumpCustomerStats(ctx, c.CustomerID, 1, 1)
	s.routeQueuedLogged(ctx)
	return view, nil
}

// CanRead says whether actor may read chat c (the rule ReadChat applies),
// for deciding from a chat already in hand who may see a push.
func CanRead(actor Actor, c *Chat) bool { return actor.canReadChat(c) }
