package livechat

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// claimOwner names this process in the claims it takes, for operators
// reading the claims collection; the claim's unique id, not its owner,
// decides who does the work.
var claimOwner = func() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), NewID())
}()

// ClaimWork claims the piece of shared work named id for ttl, across every
// instance on the store: true means this caller took it and should do it;
// false means another instance (or an earlier call) holds it. A claim that
// outlives its work blocks that work until it expires and DeleteExpiredClaims
// removes it, so ttl bounds how long a crashed instance can hold work up.
func (s *Service) ClaimWork(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	now := s.now()
	err := s.store.Claims().Insert(ctx, &Claim{ID: id, Owner: claimOwner, CreatedAt: now, ExpiresAt: now.Add(ttl)})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrConflict):
		return false, nil
	}
	return false, fmt.Errorf("livechat: claim %s: %w", id, err)
}

// ReleaseClaim gives claimed work back before its claim expires, so that
// another pass (on any instance) may take it again.
func (s *Service) ReleaseClaim(ctx context.Context, id string) error {
	if err := s.store.Claims().Delete(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("livechat: release claim %s: %w", id, err)
	}
	return nil
}

// DeleteExpiredClaims removes claims past their expiry and says how many.
func (s *Service) DeleteExpiredClaims(ctx context.Context) (int64, error) {
	return s.store.Claims().DeleteWhere(ctx, Where(Cond{Field: "expires_at", Op: OpLte, Value: s.now()}))
}
