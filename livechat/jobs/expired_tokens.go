package jobs

import (
	"context"

	"github.com/chatbridge/chatbridge/livechat"
)

// ExpiredTokens removes tokens past their expiry every ten minutes.
func ExpiredTokens(svc *livechat.Service) Job {
	return Job{Name: "expired_tokens", Spec: "@every 10m", Run: func(ctx context.Context) error {
		_, err := svc.DeleteExpiredTokens(ctx)
		return err
	}}
}
