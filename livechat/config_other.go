package livechat

import (
	"context"
	"time"
)

// FirstChatAt is when the organization's first chat started (zero when it
// has none), for list_channels. Agents only.
func (s *Service) FirstChatAt(ctx context.Context, actor Actor) (time.Time, error) {
	if !actor.IsAgent() && !actor.IsSystem() {
		return time.Time{}, Errorf(TypeAuthorization, "Only agents can list channels")
	}
	first, err := s.store.Chats().Find(ctx, Query{Sort: "created_at", Limit: 1})
	if err != nil || len(first) == 0 {
		return time.Time{}, err
	}
	return first[0].CreatedAt, nil
}
