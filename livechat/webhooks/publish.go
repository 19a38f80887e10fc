package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/api"
)

// Envelope is the body POSTed to a webhook URL (spec §3.1, 3.4+).
type Envelope struct {
	WebhookID      string          `json:"webhook_id"`
	SecretKey      string          `json:"secret_key"`
	Action         string          `json:"action"`
	OrganizationID string          `json:"organization_id"`
	Payload        json.RawMessage `json:"payload"`
	AdditionalData map[string]any  `json:"additional_data"`
}

// Publish implements livechat.Publisher: it writes a pending delivery for
// every registration the event matches and hands it to the workers if they
// have room. It makes no HTTP call; with no matching registration it only
// reads the in-memory cache.
func (d *Dispatcher) Publish(ev *livechat.DomainEvent) {
	svc := d.svc.Load()
	if svc == nil {
		return
	}
	reg := d.reg.Load()
	d.noteEvent(reg, ev)
	if len(reg.byAction) == 0 {
		return
	}
	specs := actionsFor(ev.Kind)
	matched := false
	for _, s := range specs {
		matched = matched || len(reg.byAction[s.action]) > 0
	}
	if !matched {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.PublishTimeout)
	defer cancel()
	x := &eval{d: d, svc: svc, reg: reg, ev: ev, chats: map[string]*livechat.Chat{}, online: map[string]bool{}}
	for _, s := range specs {
		if err := x.dispatch(ctx, s); err != nil {
			d.publishErrors.Add(1)
			d.log.Warn("webhook deliveries not written", "kind", ev.Kind, "action", s.action, "chat_id", ev.ChatID, "err", err)
		}
	}
}

// eval holds what one Publish has looked up, so several registrations and
// actions share it.
type eval struct {
	d      *Dispatcher
	svc    *livechat.Service
	reg    *registry
	ev     *livechat.DomainEvent
	chats  map[string]*livechat.Chat // nil value: the chat is gone
	online map[string]bool           // owner client id → one of its bots is not offline
}

// dispatch writes the deliveries of one action of the event.
func (x *eval) dispatch(ctx context.Context, s actionSpec) error {
	var hooks []*hook
	for _, h := range x.reg.byAction[s.action] {
		if x.eligible(h) {
			hooks = append(hooks, h)
		}
	}
	if len(hooks) == 0 {
		return nil
	}
	instances, err := s.build(ctx, x)
	if err != nil {
		return err
	}
	org := x.svc.Organization().OrganizationID
	for _, in := range instances {
		payload, err := json.Marshal(in.payload)
		if err != nil {
			return err
		}
		for _, h := range hooks {
			ok, err := x.matches(ctx, h, in)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			add, err := x.additionalData(ctx, h, in)
			if err != nil {
				return err
			}
			body, err := json.Marshal(Envelope{WebhookID: h.ID, SecretKey: h.SecretKey, Action: h.Action, OrganizationID: org, Payload: payload, AdditionalData: add})
			if err != nil {
				return err
			}
			if err := x.d.write(ctx, h, body); err != nil {
				return err
			}
		}
	}
	return nil
}

// write stores one pending delivery and offers it to the workers. When
// they have room, this instance owns the first attempt: the delivery is
// stored due only after firstAttemptGrace, so no other instance's RetryDue
// takes it meanwhile and the first attempt needs no claim (two fewer store
// writes per delivery). When the receiver is down it is stored due at its
// next probe; when the workers have no room, due now, for RetryDue.
func (d *Dispatcher) write(ctx context.Context, h *hook, body []byte) error {
	now := d.now()
	del := &livechat.WebhookDelivery{ID: livechat.NewID(), WebhookID: h.ID, URL: h.URL, Action: h.Action, Body: string(body),
		Status: StatusPending, NextAttemptAt: now, CreatedAt: now}
	fresh := false
	switch until := d.downUntil(h.URL, now); {
	case !until.IsZero():
		del.NextAttemptAt = until
	case len(d.queue) < cap(d.queue) && !d.stopping():
		fresh = true
		del.NextAttemptAt = now.Add(d.firstAttemptGrace())
	}
	var err error
	if serr := d.withStore(ctx, func() { err = d.core.Store().Deliveries().Insert(ctx, del) }); serr != nil {
		return serr
	}
	if err != nil {
		return err
	}
	d.queued.Add(1)
	if fresh {
		d.enqueue(ctx, job{del: del, fresh: true}, false)
	}
	return nil
}

// eligible applies what does not depend on the payload: license webhooks
// state, bot presence, and the source of the change.
func (x *eval) eligible(h *hook) bool {
	switch h.Type {
	case api.WebhookBot:
		if !x.botsOnline(h.OwnerClientID) {
			return false
		}
	default:
		if x.reg.disabled[h.OwnerClientID] {
			return false
		}
	}
	return len(h.filters.SourceType) == 0 || slices.Contains(h.filters.SourceType, x.source(h.OwnerClientID))
}

// botsOnline says whether a bot of the client id is accepting or not
// accepting chats: bot webhooks are not delivered while all are offline.
func (x *eval) botsOnline(owner string) bool {
	on, ok := x.online[owner]
	if !ok {
		for _, b := range x.reg.bots[owner] {
			if on = x.d.botOnline(x.reg, b); on {
				break
			}
		}
		x.online[owner] = on
	}
	return on
}

// source classifies the change for the source_type filter: system when no
// user caused it, my_client when one of the owner's bots did, other_clients
// otherwise. (Domain events do not carry the credential's client id, so a
// human agent using the owner's application counts as other_clients.)
func (x *eval) source(owner string) string {
	r := x.ev.RequesterID
	switch {
	case r == "":
		return api.WebhookSourceSystem
	case owner != "" && x.reg.botOwner[r] == owner:
		return api.WebhookSourceMyClient
	}
	return api.WebhookSourceOtherClients
}

// chat returns the chat an instance is about, read once per Publish.
func (x *eval) chat(ctx context.Context, id string) (*livechat.Chat, error) {
	if c, ok := x.chats[id]; ok {
		return c, nil
	}
	var c *livechat.Chat
	if d, ok := x.ev.Data.(livechat.IncomingChatData); ok && d.Chat != nil && d.Chat.ID == id {
		c = d.Chat
	} else {
		var err error
		c, err = x.svc.Store().Chats().Get(ctx, id)
		if errors.Is(err, livechat.ErrNotFound) {
			c, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	x.chats[id] = c
	return c, nil
}

// matches applies a registration's payload filters to one instance.
func (x *eval) matches(ctx context.Context, h *hook, in instance) (bool, error) {
	f := h.filters
	if f.AgentIDs != nil && !f.AgentIDs.Allows(in.agentID) {
		return false, nil
	}
	if f.AuthorType == "" && !f.OnlyMyChats && f.ChatPresence == nil {
		return true, nil
	}
	if in.chatID == "" {
		return false, nil
	}
	c, err := x.chat(ctx, in.chatID)
	if err != nil || c == nil {
		return false, err
	}
	if f.AuthorType != "" && (in.event == nil || authorType(c, in.event) != f.AuthorType) {
		return false, nil
	}
	if f.OnlyMyChats {
		if src, _ := c.Properties["source"]["client_id"].(string); src != h.OwnerClientID {
			return false, nil
		}
	}
	if p := f.ChatPresence; p != nil && !x.present(c, p, h.OwnerClientID) {
		return false, nil
	}
	return true, nil
}

// authorType is the user type of an event's author; "" for system events.
func authorType(c *livechat.Chat, e *livechat.Event) string {
	switch {
	case e.AuthorID == "":
		return ""
	case e.AuthorID == c.CustomerID:
		return livechat.UserCustomer
	}
	if u := c.User(e.AuthorID); u != nil {
		return u.Type
	}
	return livechat.UserAgent
}

// present applies chat_presence: fire when a listed user or one of the
// owner's bots is present (if either is asked for), and not when an
// excluded user is.
func (x *eval) present(c *livechat.Chat, p *api.WebhookChatPresence, owner string) bool {
	var values, excluded []string
	if p.UserIDs != nil {
		values, excluded = p.UserIDs.Values, p.UserIDs.ExcludeValues
	}
	ok := len(values) == 0 && !p.MyBots
	for _, u := range c.Users {
		if !u.Present {
			continue
		}
		if slices.Contains(excluded, u.ID) {
			return false
		}
		if slices.Contains(values, u.ID) || (p.MyBots && owner != "" && x.reg.botOwner[u.ID] == owner) {
			ok = true
		}
	}
	return ok
}

// additionalData builds the additional_data a registration asked for.
func (x *eval) additionalData(ctx context.Context, h *hook, in instance) (map[string]any, error) {
	out := map[string]any{}
	if len(h.AdditionalData) == 0 || in.chatID == "" {
		return out, nil
	}
	c, err := x.chat(ctx, in.chatID)
	if err != nil || c == nil {
		return out, err
	}
	for _, name := range h.AdditionalData {
		switch name {
		case api.WebhookDataChatProperties:
			props := c.Properties
			if props == nil {
				props = livechat.Properties{}
			}
			out[name] = props
		case api.WebhookDataChatPresenceUserIDs:
			ids := []string{}
			for _, u := range c.Users {
				if u.Present {
					ids = append(ids, u.ID)
				}
			}
			out[name] = ids
		}
	}
	return out, nil
}
