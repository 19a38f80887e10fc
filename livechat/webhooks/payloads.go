package webhooks

import (
	"context"
	"slices"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/api"
)

// DeliveryVersion is the API version whose shapes webhook payloads follow.
const DeliveryVersion = "3.5"

// instance is one webhook payload an event produced, with what the filters
// look at: most events make one; customer_session_fields_updated makes one
// per active chat of the customer.
type instance struct {
	chatID  string
	agentID string          // agent_ids filter
	event   *livechat.Event // author_type filter
	payload any
}

// builder renders an event's payloads for one action.
type builder func(ctx context.Context, x *eval) ([]instance, error)

// actionSpec is one webhook action an event kind produces.
type actionSpec struct {
	action string
	build  builder
}

// Kinds whose webhook differs from their agent push, or has none.
var (
	specIncomingChat   = []actionSpec{{"incoming_chat", incomingChat}}
	specUserAdded      = []actionSpec{{"user_added_to_chat", withUserType}}
	specUserRemoved    = []actionSpec{{"user_removed_from_chat", withUserType}}
	specIncomingCust   = []actionSpec{{"incoming_customer", incomingCustomer}}
	specSessionFields  = []actionSpec{{"customer_session_fields_updated", sessionFields}}
	specAccessGranted  = []actionSpec{{"chat_access_granted", pushAt("3.3")}}
	specAccessRevoked  = []actionSpec{{"chat_access_revoked", pushAt("3.3")}}
	specAgentCreated   = []actionSpec{{"agent_created", agentCreated}}
	defaultPushBuilder = pushAt(DeliveryVersion)
)

// actionsFor maps a domain event kind to its webhook actions. Kinds named
// after a webhook action of the catalog, and with an agent push, deliver
// the push's 3.5 payload, so configuration kinds the core adds later are
// delivered without a change here. Chat-assigned and followed chats are
// per-agent views of chats already announced, so they make no webhook.
func actionsFor(k livechat.Kind) []actionSpec {
	switch k {
	case livechat.KindIncomingChat:
		return specIncomingChat
	case livechat.KindUserAddedToChat:
		return specUserAdded
	case livechat.KindUserRemovedFromChat:
		return specUserRemoved
	case livechat.KindIncomingCustomer:
		return specIncomingCust
	case livechat.KindCustomerUpdated:
		return specSessionFields
	case livechat.KindChatAccessGranted:
		return specAccessGranted
	case livechat.KindChatAccessRevoked:
		return specAccessRevoked
	case livechat.KindAgentCreated:
		return specAgentCreated
	}
	a, ok := api.LookupWebhookAction(string(k))
	if !ok || !a.In(DeliveryVersion) || api.AgentPushes[k] == nil {
		return nil
	}
	return []actionSpec{{a.Action, defaultPushBuilder}}
}

// ActionsFor lists the webhook actions an event of kind k is delivered as.
func ActionsFor(k livechat.Kind) []string {
	var out []string
	for _, s := range actionsFor(k) {
		out = append(out, s.action)
	}
	return out
}

// pushAt renders the event's agent push of version v as the payload.
func pushAt(v string) builder {
	return func(ctx context.Context, x *eval) ([]instance, error) {
		f := api.AgentPushes[x.ev.Kind]
		if f == nil {
			return nil, nil
		}
		name, p, err := f(ctx, x.svc, x.ev, v)
		if err != nil || name == "" || p == nil {
			return nil, err
		}
		return []instance{x.instance(p)}, nil
	}
}

// instance fills in what the filters need from the event.
func (x *eval) instance(p any) instance {
	in := instance{chatID: x.ev.ChatID, payload: p}
	switch d := x.ev.Data.(type) {
	case livechat.IncomingEventData:
		in.event = d.Event
	case livechat.RoutingStatusData:
		in.agentID = d.AgentID
	default:
		if m, ok := p.(api.M); ok && x.ev.ChatID == "" {
			if id, ok := m["id"].(string); ok {
				in.agentID = id // agent_deleted and the other agent kinds
			}
		}
	}
	return in
}

// incomingChat is the push without requester_id: the webhook carries the
// chat (and transferred_from, which only per-agent assignments have).
func incomingChat(ctx context.Context, x *eval) ([]instance, error) {
	out, err := defaultPushBuilder(ctx, x)
	for _, in := range out {
		if m, ok := in.payload.(api.M); ok {
			delete(m, "requester_id")
		}
	}
	return out, err
}

// withUserType adds user_type (agent or customer) to user_added_to_chat and
// user_removed_from_chat.
func withUserType(ctx context.Context, x *eval) ([]instance, error) {
	out, err := defaultPushBuilder(ctx, x)
	d, ok := x.ev.Data.(livechat.UserChangeData)
	for _, in := range out {
		if m, isMap := in.payload.(api.M); isMap && ok && d.User.Type != "" {
			m["user_type"] = d.User.Type
		}
	}
	return out, err
}

func incomingCustomer(_ context.Context, x *eval) ([]instance, error) {
	d, ok := x.ev.Data.(livechat.CustomerData)
	if !ok || d.Customer == nil {
		return nil, nil
	}
	return []instance{{payload: api.M{"customer": api.Customer(d.Customer)}}}, nil
}

// sessionFields makes one customer_session_fields_updated per active chat
// of a customer whose session fields changed.
func sessionFields(ctx context.Context, x *eval) ([]instance, error) {
	d, ok := x.ev.Data.(livechat.CustomerData)
	if !ok || d.Customer == nil || !slices.Contains(d.Changed, "session_fields") {
		return nil, nil
	}
	chats, err := x.svc.Store().Chats().Find(ctx, livechat.Where(livechat.Eq("customer_id", d.Customer.ID)))
	if err != nil {
		return nil, err
	}
	fields := d.Customer.SessionFields
	if fields == nil {
		fields = []map[string]string{}
	}
	var out []instance
	for i := range chats {
		c := &chats[i]
		if !c.Active() {
			continue
		}
		x.chats[c.ID] = c
		out = append(out, instance{chatID: c.ID, payload: api.M{
			"id": d.Customer.ID, "active_chat": api.M{"chat_id": c.ID, "thread_id": c.ActiveThreadID}, "session_fields": fields,
		}})
	}
	return out, nil
}

// agentCreated is the push with the agent fields chatbridge does not keep
// given their empty values, as the full agent of the spec has them.
func agentCreated(ctx context.Context, x *eval) ([]instance, error) {
	out, err := defaultPushBuilder(ctx, x)
	for _, in := range out {
		m, ok := in.payload.(api.M)
		if !ok {
			continue
		}
		for k, v := range map[string]any{"notifications": []string{}, "email_subscriptions": []string{}, "work_scheduler": api.M{}} {
			if _, set := m[k]; !set {
				m[k] = v
			}
		}
	}
	return out, err
}
