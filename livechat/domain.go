package livechat

import (
	"context"
	"strconv"
	"time"
)

// Kind names a domain event. The names follow LiveChat's 3.5 push names where
// one exists, so protocol encoders map most kinds one to one.
type Kind string

// Domain event kinds.
const (
	KindIncomingChat           Kind = "incoming_chat"
	KindChatDeactivated        Kind = "chat_deactivated"
	KindIncomingEvent          Kind = "incoming_event"
	KindEventUpdated           Kind = "event_updated"
	KindUserAddedToChat        Kind = "user_added_to_chat"
	KindUserRemovedFromChat    Kind = "user_removed_from_chat"
	KindChatAccessUpdated      Kind = "chat_access_updated"
	KindChatPropertiesUpdated  Kind = "chat_properties_updated"
	KindChatPropertiesDeleted  Kind = "chat_properties_deleted"
	KindThreadPropertiesUpdate Kind = "thread_properties_updated"
	KindThreadPropertiesDelete Kind = "thread_properties_deleted"
	KindEventPropertiesUpdate  Kind = "event_properties_updated"
	KindEventPropertiesDelete  Kind = "event_properties_deleted"
	KindThreadTagged           Kind = "thread_tagged"
	KindThreadUntagged         Kind = "thread_untagged"
	KindIncomingCustomer       Kind = "incoming_customer"
	KindCustomerUpdated        Kind = "customer_updated"
	KindAgentCreated           Kind = "agent_created"
	KindAgentUpdated           Kind = "agent_updated"
	KindGroupCreated           Kind = "group_created"
	KindEventsMarkedAsSeen     Kind = "events_marked_as_seen"
	KindChatFollowed           Kind = "chat_followed"
	KindChatUnfollowed         Kind = "chat_unfollowed"
)

// KindWebhooksChanged says webhook registrations or their state changed, so
// dispatchers reload before the next event.
const KindWebhooksChanged Kind = "webhooks_changed"

// KindTokenRevoked says tokens were revoked: the realtime sessions logged
// in with one of them end (access_token_revoked).
const KindTokenRevoked Kind = "token_revoked"

// TokenRevokedData is the payload of KindTokenRevoked: the revoked tokens'
// ids (hashes, never secrets).
type TokenRevokedData struct {
	TokenIDs []string
}

// Topic is a fan-out key. Sessions subscribe to topics; a domain event names
// the topics whose sessions may receive it.
type Topic string

// OrgTopic reaches every agent session of the organization.
const OrgTopic Topic = "org"

// AgentTopic reaches every session of one agent.
func AgentTopic(agentID string) Topic { return Topic("agent:" + agentID) }

// CustomerTopic reaches every session of one customer.
func CustomerTopic(customerID string) Topic { return Topic("customer:" + customerID) }

// GroupTopic reaches every agent session in a group.
func GroupTopic(groupID int) Topic { return Topic("group:" + strconv.Itoa(groupID)) }

// Origin identifies the request that caused a change, so the requester's own
// copy of a push can carry its request_id.
type Origin struct {
	SessionID uint64
	RequestID string
}

type originKey struct{}

// WithOrigin returns a context that carries the origin of a request.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFrom returns the origin carried by ctx, if any.
func OriginFrom(ctx context.Context) (Origin, bool) {
	o, ok := ctx.Value(originKey{}).(Origin)
	return o, ok
}

// DomainEvent is one successful change of the core, handed to the hub (and
// from it to sessions) and to webhooks. Data holds the kind's payload struct.
type DomainEvent struct {
	Kind        Kind
	ChatID      string
	ThreadID    string
	RequesterID string
	Origin      Origin
	Topics      []Topic
	// AgentsOnly marks events customers must never receive (visibility agents).
	AgentsOnly bool
	At         time.Time
	Data       any
}

// Publisher receives every domain event the core emits. The hub is one; a
// cross-instance broker or the webhook dispatcher wrap or join it.
type Publisher interface {
	Publish(ev *DomainEvent)
}

// Publishers fans one event out to several publishers in order.
type Publishers []Publisher

// Publish hands ev to each publisher.
func (ps Publishers) Publish(ev *DomainEvent) {
	for _, p := range ps {
		p.Publish(ev)
	}
}

// Payloads of the domain events.

// IncomingChatData is the payload of KindIncomingChat.
type IncomingChatData struct {
	Chat   *Chat
	Thread *Thread
	Events []Event
}

// ChatDeactivatedData is the payload of KindChatDeactivated; UserID is empty
// when the system closed the thread.
type ChatDeactivatedData struct {
	UserID string
}

// IncomingEventData is the payload of KindIncomingEvent and KindEventUpdated.
type IncomingEventData struct {
	Event *Event
}

// UserChangeData is the payload of KindUserAddedToChat and KindUserRemovedFromChat.
type UserChangeData struct {
	User   ChatUser
	Reason string
}

// AccessData is the payload of KindChatAccessUpdated.
type AccessData struct {
	Access Access
}

// PropertiesData is the payload of the *_properties_updated kinds.
type PropertiesData struct {
	EventID    string
	Properties Properties
}

// PropertiesDeletedData is the payload of the *_properties_deleted kinds.
type PropertiesDeletedData struct {
	EventID    string
	Properties map[string][]string
}

// TagData is the payload of KindThreadTagged and KindThreadUntagged.
type TagData struct {
	Tag string
}

// CustomerData is the payload of KindIncomingCustomer and KindCustomerUpdated.
type CustomerData struct {
	Customer *Customer
	// Changed lists the fields an update changed (by their JSON names).
	Changed []string
}

// AgentData is the payload of KindAgentCreated and KindAgentUpdated.
type AgentData struct {
	Agent *Agent
}

// GroupData is the payload of KindGroupCreated.
type GroupData struct {
	Group *Group
}
