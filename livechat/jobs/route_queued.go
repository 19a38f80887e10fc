package jobs

import "github.com/chatbridge/chatbridge/livechat"

// RouteQueued assigns queued chats every ten seconds: after a restart, or
// when a routing pass triggered by a change could not finish.
func RouteQueued(svc *livechat.Service) Job {
	return Job{Name: "route_queued", Spec: "@every 10s", Run: svc.RouteQueued}
}
