package jobs

import (
	"context"

	"github.com/chatbridge/chatbridge/livechat"
)

// ExpiredClaims removes claims past their expiry every minute, so work whose
// claimant died (an idle thread, a webhook delivery) can be claimed again.
func ExpiredClaims(svc *livechat.Service) Job {
	return Job{Name: "expired_claims", Spec: "@every 1m", Run: func(ctx context.Context) error {
		_, err := svc.DeleteExpiredClaims(ctx)
		return err
	}}
}
