package jobs

import (
	"context"

	"github.com/chatbridge/chatbridge/livechat"
)

// AgentOffline takes agents whose sockets all closed offline for routing once
// their grace period has passed, every five seconds.
func AgentOffline(svc *livechat.Service) Job {
	return Job{Name: "agent_offline", Spec: "@every 5s", Run: func(ctx context.Context) error {
		_, err := svc.ExpireOfflineAgents(ctx)
		return err
	}}
}
