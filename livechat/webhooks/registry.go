package webhooks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/api"
)

// registry is an immutable snapshot of the registrations and of what their
// filters need: which client ids have license webhooks disabled, and the
// bots each client id owns.
type registry struct {
	byAction map[string][]*hook
	disabled map[string]bool             // owner client ids with license webhooks off
	bots     map[string][]livechat.Agent // bots by owner client id
	botOwner map[string]string           // bot id → owner client id
	// loadedAt is when the load began (monotonic): bot statuses heard
	// after it override the loaded ones.
	loadedAt time.Time
}

// hook is one registration with its filters decoded.
type hook struct {
	livechat.Webhook
	filters *api.WebhookFilters
}

// Refresh reloads the registrations now. Registrations made through
// livechat/api reach every instance by themselves within
// Config.RefreshInterval; Refresh is for callers that cannot wait.
func (d *Dispatcher) Refresh(ctx context.Context) error {
	if d.svc.Load() == nil {
		return errors.New("webhooks: not started")
	}
	return d.refresh(ctx, true)
}

// refresher reloads the cache when the webhooks revision changes, when asked
// (kick) and every fullReload. It runs until Stop.
func (d *Dispatcher) refresher() {
	defer d.wg.Done()
	t := time.NewTicker(d.cfg.RefreshInterval)
	defer t.Stop()
	for {
		var err error
		select {
		case <-d.quit:
			return
		case <-t.C:
			err = d.refresh(d.runCtx, false)
		case <-d.kick:
			err = d.refresh(d.runCtx, true)
		}
		if err != nil && d.runCtx.Err() == nil {
			d.log.Warn("webhook registrations reload failed", "err", err)
		}
	}
}

// kickRefresh asks the refresher for a reload without waiting.
func (d *Dispatcher) kickRefresh() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// refresh reloads the snapshot when forced, when the revision changed, or
// when the last load is older than fullReload.
func (d *Dispatcher) refresh(ctx context.Context, force bool) error {
	d.refreshMu.Lock()
	defer d.refreshMu.Unlock()
	store := d.core.Store()
	rev := ""
	s, err := store.Settings().Get(ctx, api.WebhooksRevisionKey)
	switch {
	case err == nil:
		rev = fmt.Sprint(s.Value)
	case !errors.Is(err, livechat.ErrNotFound):
		return err
	}
	if !force && rev == d.rev && time.Since(d.loaded) < fullReload {
		return nil
	}
	began := time.Now()
	reg, err := d.load(ctx, store, began)
	if err != nil {
		return err
	}
	d.reg.Store(reg)
	d.rev, d.loaded = rev, began
	d.mu.Lock()
	for id, n := range d.botStatus {
		if n.at.Before(began) {
			delete(d.botStatus, id)
		}
	}
	d.mu.Unlock()
	return nil
}

// load reads every registration, the license webhook states of their owners
// and the bots.
func (d *Dispatcher) load(ctx context.Context, store livechat.Store, began time.Time) (*registry, error) {
	list, err := store.Webhooks().Find(ctx, livechat.Query{})
	if err != nil {
		return nil, fmt.Errorf("webhooks: load registrations: %w", err)
	}
	reg := &registry{byAction: map[string][]*hook{}, disabled: map[string]bool{}, bots: map[string][]livechat.Agent{},
		botOwner: map[string]string{}, loadedAt: began}
	if len(list) == 0 {
		return reg, nil
	}
	owners := map[string]bool{}
	for _, w := range list {
		f, err := api.ParseWebhookFilters(w.Filters)
		if err != nil {
			d.log.Warn("webhook with unreadable filters skipped", "webhook_id", w.ID, "err", err)
			continue
		}
		reg.byAction[w.Action] = append(reg.byAction[w.Action], &hook{Webhook: w, filters: f})
		owners[w.OwnerClientID] = true
	}
	for id := range owners {
		on, err := api.LicenseWebhooksEnabled(ctx, store, id)
		if err != nil {
			return nil, fmt.Errorf("webhooks: load state of %s: %w", id, err)
		}
		if !on {
			reg.disabled[id] = true
		}
	}
	bots, err := store.Agents().Find(ctx, livechat.Where(livechat.Eq("kind", livechat.AgentKindBot)))
	if err != nil {
		return nil, fmt.Errorf("webhooks: load bots: %w", err)
	}
	for _, b := range bots {
		if b.OwnerClientID != "" {
			reg.bots[b.OwnerClientID] = append(reg.bots[b.OwnerClientID], b)
			reg.botOwner[b.ID] = b.OwnerClientID
		}
	}
	return reg, nil
}

// noteEvent keeps the cache in step with changes this instance hears of:
// a bot's routing status at once; bot and agent changes by a reload.
func (d *Dispatcher) noteEvent(reg *registry, ev *livechat.DomainEvent) {
	k := string(ev.Kind)
	switch {
	case ev.Kind == livechat.KindWebhooksChanged:
		// A registration changed on this instance: reload now, on the
		// request's goroutine, so the very next event sees it.
		ctx, cancel := context.WithTimeout(d.runCtx, 5*time.Second)
		defer cancel()
		if err := d.refresh(ctx, true); err != nil && d.runCtx.Err() == nil {
			d.log.Warn("webhook registrations reload failed", "err", err)
		}
	case ev.Kind == livechat.KindRoutingStatusSet:
		if st, ok := ev.Data.(livechat.RoutingStatusData); ok && reg.botOwner[st.AgentID] != "" {
			d.mu.Lock()
			d.botStatus[st.AgentID] = statusNote{status: st.Status, at: time.Now()}
			d.mu.Unlock()
		}
	case strings.HasPrefix(k, "bot_"), k == "agent_deleted", k == "agent_suspended", k == "agent_unsuspended":
		if len(reg.byAction) > 0 {
			d.kickRefresh()
		}
	}
}

// botOnline says whether bot b is not offline, using a status heard since
// the snapshot was loaded when there is one.
func (d *Dispatcher) botOnline(reg *registry, b livechat.Agent) bool {
	d.mu.Lock()
	if n, ok := d.botStatus[b.ID]; ok && n.at.After(reg.loadedAt) {
		b.RoutingStatus = n.status
	}
	d.mu.Unlock()
	return d.core.EffectiveRoutingStatus(&b) != livechat.RoutingOffline
}
