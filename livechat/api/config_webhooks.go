package api

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

// Webhook registration limits.
const (
	// MaxWebhookURL is the longest url register_webhook takes.
	MaxWebhookURL = 500
	// MaxWebhooksPerAction is how many webhooks one client id may register per action.
	MaxWebhooksPerAction = 3
	maxWebhookText       = 1000
)

// WebhooksRevisionKey is the Setting that changes with every webhook
// registration or state change, so dispatchers on every instance know to
// reload their cache.
const WebhooksRevisionKey = "webhooks.revision"

// WebhooksStateKey is the Setting holding whether license webhooks of a
// client id are enabled (bool; absent means enabled, as on a license that
// installed the app).
func WebhooksStateKey(clientID string) string { return "webhooks.license_enabled." + clientID }

// WebhookMethods is the webhook management part of the Configuration API
// (spec §2.7), appended to the Configuration table.
var WebhookMethods = []Method{
	{Name: "register_webhook", Handler: registerWebhook},
	{Name: "list_webhooks", Handler: listWebhooks, ReadOnly: true},
	{Name: "unregister_webhook", Handler: unregisterWebhook},
	{Name: "list_webhook_names", Handler: listWebhookNames, ReadOnly: true, Public: true},
	{Name: "enable_license_webhooks", Handler: setLicenseWebhooksState(true)},
	{Name: "disable_license_webhooks", Handler: setLicenseWebhooksState(false)},
	{Name: "get_license_webhooks_state", Handler: getLicenseWebhooksState, ReadOnly: true},
}

// webhookRegisterMu orders registrations inside the process so the per-action
// limit is not raced past by concurrent requests.
var webhookRegisterMu sync.Mutex

// authorizeWebhookClient lets managers act for any client id, and other
// (human) agents for the client id their token was issued to.
func authorizeWebhookClient(a livechat.Actor, ownerClientID string) error {
	if a.IsManager() {
		return nil
	}
	if a.IsAgent() && a.Agent.Kind != livechat.AgentKindBot && a.ClientID != "" && a.ClientID == ownerClientID {
		return nil
	}
	return livechat.Errorf(livechat.TypeAuthorization, "Cannot manage webhooks of client %s", ownerClientID)
}

func registerWebhook(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		Action         string         `json:"action"`
		SecretKey      string         `json:"secret_key"`
		URL            string         `json:"url"`
		OwnerClientID  string         `json:"owner_client_id"`
		Type           string         `json:"type"`
		Description    string         `json:"description"`
		AdditionalData []string       `json:"additional_data"`
		Filters        map[string]any `json:"filters"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	for _, r := range []struct {
		ok   bool
		name string
	}{{req.Action != "", "action"}, {req.SecretKey != "", "secret_key"}, {req.URL != "", "url"}, {req.OwnerClientID != "", "owner_client_id"}, {req.Type != "", "type"}} {
		if err := required(r.ok, r.name); err != nil {
			return nil, err
		}
	}
	a, ok := LookupWebhookAction(req.Action)
	if !ok || !a.In(c.Version) {
		return nil, livechat.Errorf(livechat.TypeValidation, "Unknown webhook action %q", req.Action)
	}
	if err := validateWebhookURL(req.URL); err != nil {
		return nil, err
	}
	if req.Type != WebhookLicense && req.Type != WebhookBot {
		return nil, livechat.Errorf(livechat.TypeValidation, "type must be license or bot")
	}
	if len(req.SecretKey) > maxWebhookText || len(req.Description) > maxWebhookText {
		return nil, livechat.Errorf(livechat.TypeValidation, "secret_key and description hold at most %d characters", maxWebhookText)
	}
	for _, d := range req.AdditionalData {
		if !slices.Contains(a.AdditionalData, d) {
			return nil, livechat.Errorf(livechat.TypeValidation, "additional_data %q is not available for %s", d, a.Action)
		}
	}
	if err := validateWebhookFilters(req.Filters, a, c.Version); err != nil {
		return nil, err
	}
	if err := authorizeWebhookClient(c.Actor, req.OwnerClientID); err != nil {
		return nil, err
	}
	store := c.Svc.Store()
	webhookRegisterMu.Lock()
	defer webhookRegisterMu.Unlock()
	n, err := store.Webhooks().Count(ctx, livechat.Where(livechat.Eq("action", req.Action), livechat.Eq("owner_client_id", req.OwnerClientID)))
	if err != nil {
		return nil, err
	}
	if n >= MaxWebhooksPerAction {
		return nil, livechat.Errorf(livechat.TypeLimitReached, "A client can register at most %d webhooks per action", MaxWebhooksPerAction)
	}
	w := &livechat.Webhook{
		ID: livechat.NewID(), URL: req.URL, Action: req.Action, SecretKey: req.SecretKey, OwnerClientID: req.OwnerClientID,
		Type: req.Type, Description: req.Description, Filters: req.Filters, AdditionalData: slices.Compact(slices.Sorted(slices.Values(req.AdditionalData))),
		CreatedAt: c.Svc.Clock().Now().UTC().Truncate(time.Millisecond),
	}
	if len(w.Filters) == 0 {
		w.Filters = nil
	}
	if err := store.Webhooks().Insert(ctx, w); err != nil {
		return nil, err
	}
	if err := bumpWebhooksRevision(ctx, c.Svc); err != nil {
		return nil, err
	}
	return M{"id": w.ID}, nil
}

func validateWebhookURL(raw string) error {
	if len(raw) > MaxWebhookURL {
		return livechat.Errorf(livechat.TypeValidation, "url holds at most %d characters", MaxWebhookURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return livechat.Errorf(livechat.TypeValidation, "url must be an absolute http or https URL")
	}
	return nil
}

type webhookOwnerArg struct {
	OwnerClientID string `json:"owner_client_id"`
}

func listWebhooks(ctx context.Context, c *Call) (any, error) {
	req, err := decode[webhookOwnerArg](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.OwnerClientID != "", "owner_client_id"); err != nil {
		return nil, err
	}
	if err := authorizeWebhookClient(c.Actor, req.OwnerClientID); err != nil {
		return nil, err
	}
	list, err := c.Svc.Store().Webhooks().Find(ctx, livechat.Where(livechat.Eq("owner_client_id", req.OwnerClientID)))
	if err != nil {
		return nil, err
	}
	out := make([]M, 0, len(list))
	for _, w := range list {
		m := M{"id": w.ID, "url": w.URL, "action": w.Action, "secret_key": w.SecretKey, "owner_client_id": w.OwnerClientID, "type": w.Type}
		optional(m, "description", w.Description)
		if len(w.Filters) > 0 {
			m["filters"] = w.Filters
		}
		if len(w.AdditionalData) > 0 {
			m["additional_data"] = w.AdditionalData
		}
		out = append(out, m)
	}
	return out, nil
}

func unregisterWebhook(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		ID string `json:"id"`
		webhookOwnerArg
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.ID != "", "id"); err != nil {
		return nil, err
	}
	if err := required(req.OwnerClientID != "", "owner_client_id"); err != nil {
		return nil, err
	}
	if err := authorizeWebhookClient(c.Actor, req.OwnerClientID); err != nil {
		return nil, err
	}
	store := c.Svc.Store()
	w, err := store.Webhooks().Get(ctx, req.ID)
	if errors.Is(err, livechat.ErrNotFound) || (err == nil && w.OwnerClientID != req.OwnerClientID) {
		return nil, livechat.Errorf(livechat.TypeNotFound, "Webhook not found")
	}
	if err != nil {
		return nil, err
	}
	if err := store.Webhooks().Delete(ctx, w.ID); err != nil && !errors.Is(err, livechat.ErrNotFound) {
		return nil, err
	}
	return empty{}, bumpWebhooksRevision(ctx, c.Svc)
}

// listWebhookNames needs no authorization (spec §1): it describes the catalog.
func listWebhookNames(_ context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		Version string `json:"version"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	v := req.Version
	if v == "" {
		v = c.Version
	}
	if v == "" {
		v = Versions[len(Versions)-1]
	}
	if !SupportedVersion(v) {
		return nil, livechat.Errorf(livechat.TypeValidation, "Unsupported version %q", v)
	}
	out := []M{}
	for _, a := range WebhookActions {
		if !a.In(v) {
			continue
		}
		m := M{"action": a.Action}
		if f := a.filtersIn(v); len(f) > 0 {
			m["filters"] = f
		}
		if len(a.AdditionalData) > 0 {
			m["additional_data"] = a.AdditionalData
		}
		out = append(out, m)
	}
	return out, nil
}

// webhookStateOwner is the client id a license webhooks state call is about: the
// one given, else (Bearer tokens) the token's client id; personal access
// tokens must name it.
func webhookStateOwner(c *Call) (string, error) {
	req, err := decode[webhookOwnerArg](c.Payload)
	if err != nil {
		return "", err
	}
	id := req.OwnerClientID
	if id == "" && c.Actor.TokenKind != livechat.TokenPersonal {
		id = c.Actor.ClientID
	}
	if err := required(id != "", "owner_client_id"); err != nil {
		return "", err
	}
	return id, authorizeWebhookClient(c.Actor, id)
}

func setLicenseWebhooksState(enabled bool) Handler {
	return func(ctx context.Context, c *Call) (any, error) {
		id, err := webhookStateOwner(c)
		if err != nil {
			return nil, err
		}
		if err := putWebhookSetting(ctx, c.Svc, WebhooksStateKey(id), enabled); err != nil {
			return nil, err
		}
		return empty{}, bumpWebhooksRevision(ctx, c.Svc)
	}
}

func getLicenseWebhooksState(ctx context.Context, c *Call) (any, error) {
	id, err := webhookStateOwner(c)
	if err != nil {
		return nil, err
	}
	enabled, err := LicenseWebhooksEnabled(ctx, c.Svc.Store(), id)
	if err != nil {
		return nil, err
	}
	return M{"license_webhooks_enabled": enabled}, nil
}

// LicenseWebhooksEnabled reads whether license webhooks of a client id are
// enabled (they are unless disabled).
func LicenseWebhooksEnabled(ctx context.Context, store livechat.Store, clientID string) (bool, error) {
	s, err := store.Settings().Get(ctx, WebhooksStateKey(clientID))
	if errors.Is(err, livechat.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	enabled, ok := s.Value.(bool)
	return !ok || enabled, nil
}

// bumpWebhooksRevision records a change for other instances (they poll the
// revision) and tells this instance's dispatcher at once.
func bumpWebhooksRevision(ctx context.Context, svc *livechat.Service) error {
	if err := putWebhookSetting(ctx, svc, WebhooksRevisionKey, livechat.NewID()); err != nil {
		return err
	}
	svc.Announce(ctx, &livechat.DomainEvent{Kind: livechat.KindWebhooksChanged})
	return nil
}

// putWebhookSetting writes one Setting, creating it when absent.
func putWebhookSetting(ctx context.Context, svc *livechat.Service, id string, v any) error {
	s := &livechat.Setting{ID: id, Value: v, UpdatedAt: svc.Clock().Now().UTC().Truncate(time.Millisecond)}
	settings := svc.Store().Settings()
	err := settings.Replace(ctx, id, s)
	if errors.Is(err, livechat.ErrNotFound) {
		if err = settings.Insert(ctx, s); errors.Is(err, livechat.ErrConflict) {
			err = settings.Replace(ctx, id, s) // another writer created it first
		}
	}
	return err
}
