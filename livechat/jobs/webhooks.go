package jobs

import "context"

// WebhookQueue is what the webhook jobs need of the webhook dispatcher
// (livechat/webhooks.Dispatcher).
type WebhookQueue interface {
	// RetryDue hands due pending deliveries to the senders.
	RetryDue(ctx context.Context) (int, error)
	// Prune removes delivered and failed deliveries past their retention.
	Prune(ctx context.Context) (int64, error)
}

// WebhookRetries sends the webhook deliveries whose retry time has come, and
// those a restart left pending, every two seconds (LiveChat's three retries
// fit in about a minute, so the period must be short).
func WebhookRetries(q WebhookQueue) Job {
	return Job{Name: "webhook_retries", Spec: "@every 2s", Run: func(ctx context.Context) error {
		_, err := q.RetryDue(ctx)
		return err
	}}
}

// WebhookPrune removes old delivered and failed webhook deliveries every ten
// minutes, so the store keeps a bounded history.
func WebhookPrune(q WebhookQueue) Job {
	return Job{Name: "webhook_prune", Spec: "@every 10m", Run: func(ctx context.Context) error {
		_, err := q.Prune(ctx)
		return err
	}}
}
