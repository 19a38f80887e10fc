// Package webhooks delivers LiveChat webhooks: it turns the core's domain
// events into webhook deliveries and POSTs them to the registered URLs.
//
// The Dispatcher is a livechat.Publisher. Publish looks the event's webhook
// actions up in an in-memory cache of the registrations; when none match it
// returns at once. Otherwise it renders the payload once (3.5 shapes, from
// livechat/api), applies each registration's filters, and writes one
// WebhookDelivery document per matching registration (status pending). It
// never makes an HTTP call and starts no goroutine: publishing costs a few
// store reads at most and one insert per delivery, bounded by
// Config.PublishTimeout, whatever the receivers do.
//
// A fixed pool of Config.Workers goroutines POSTs deliveries. Fresh ones are
// handed over through a bounded queue; the instance that wrote a delivery
// owns its first attempt for a grace period (it is stored due only after
// it), so that attempt needs no claim. Retries, and deliveries that did not
// fit in the queue or were left by a restart, are found by RetryDue, which
// the webhook_retries cron job calls; each such attempt is claimed across
// instances with a unique claim ("delivery:<id>:<attempt>") and the delivery
// re-read before sending, so two instances never send the same attempt. A
// failed attempt is retried after the next step of Config.Schedule; after the
// last step the delivery is marked failed. A delivered delivery is deleted
// (or kept for Config.DeliveredRetention). The queue is the store: a restart
// loses no pending delivery.
//
// A receiver whose attempt failed counts as down until the first retry wait
// has passed: new deliveries to it are stored due at that time rather than
// tried, and RetryDue leaves it out, so a dead receiver costs one insert per
// delivery and one probe per period, not a doomed attempt (and its store
// writes) per delivery. The store work of Publish and of the workers takes
// turns (Config.StoreConcurrency): the embedded store makes colliding writers
// sleep on a busy lock.
//
// Ownership: Start starts the workers and the cache refresher; Stop stops
// them (POSTs under way may finish until Stop's context ends). The
// registration cache is an immutable snapshot swapped atomically; mu guards
// the in-flight set, the bot status overrides and the down receivers.
package webhooks
