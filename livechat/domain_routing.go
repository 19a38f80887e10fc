package livechat

import "time"

// Domain event kinds of routing, presence and the chat-unrelated signals.
const (
	// KindRoutingStatusSet: an agent's routing status changed (set_routing_status,
	// or its effective status moved with its sessions). Data RoutingStatusData, to OrgTopic.
	KindRoutingStatusSet Kind = "routing_status_set"
	// KindQueuePositionsUpdated: queued threads moved in the queue. Data
	// QueuePositionsData, to the chat's audience (agents with access included).
	KindQueuePositionsUpdated Kind = "queue_positions_updated"
	// KindChatTransferred: transfer_chat or the router moved a chat. Data
	// ChatTransferredData, to the old and the new audiences.
	KindChatTransferred Kind = "chat_transferred"
	// KindChatAssigned: the router or a transfer gave a chat to an agent; it
	// reaches only that agent (AgentTopic) and is pushed as incoming_chat.
	// Data ChatAssignedData.
	KindChatAssigned Kind = "chat_assigned"
	// KindIncomingTypingIndicator: a chat user is typing. Data
	// TypingIndicatorData, to the chat's users and followers except the author.
	// Never stored.
	KindIncomingTypingIndicator Kind = "incoming_typing_indicator"
	// KindIncomingMulticast: a multicast message. Data MulticastData, to the
	// topics the sender named. Never stored.
	KindIncomingMulticast Kind = "incoming_multicast"
	// KindIncomingRichMessagePostback: a rich message button was toggled.
	// Data RichMessagePostbackData, to the chat's audience.
	KindIncomingRichMessagePostback Kind = "incoming_rich_message_postback"
	// KindCustomerUnfollowed: the requester stopped following a customer.
	// Data CustomerData, to the requester's AgentTopic.
	KindCustomerUnfollowed Kind = "customer_unfollowed"
	// KindChatAccessGranted and KindChatAccessRevoked: grant_chat_access /
	// revoke_chat_access (3.2–3.3). Data AccessData with only the groups
	// added or removed. KindChatAccessUpdated is emitted beside them.
	KindChatAccessGranted Kind = "chat_access_granted"
	KindChatAccessRevoked Kind = "chat_access_revoked"
)

// RoutingStatusData is the payload of KindRoutingStatusSet.
type RoutingStatusData struct {
	AgentID string
	Status  string
}

// QueuePosition is one queued thread's place.
type QueuePosition struct {
	ChatID   string
	ThreadID string
	Queue    Queue
}

// QueuePositionsData is the payload of KindQueuePositionsUpdated.
type QueuePositionsData struct {
	Positions []QueuePosition
}

// TransferTarget names groups and agents a chat moved to or from.
type TransferTarget struct {
	GroupIDs []int
	AgentIDs []string
}

// Transfer reasons of chat_transferred.
const (
	TransferManual     = "manual"
	TransferAssigned   = "assigned"
	TransferUnassigned = "unassigned"
)

// ChatTransferredData is the payload of KindChatTransferred. Queue is set
// when the chat waits in the queue after the transfer.
type ChatTransferredData struct {
	Reason        string
	TransferredTo TransferTarget
	Queue         *Queue
}

// ChatAssignedData is the payload of KindChatAssigned: the chat as the
// assignee now sees it, and where it came from when it was transferred.
type ChatAssignedData struct {
	IncomingChatData
	TransferredFrom *TransferTarget
}

// TypingIndicatorData is the payload of KindIncomingTypingIndicator.
type TypingIndicatorData struct {
	AuthorID   string
	Visibility string
	Timestamp  time.Time
	IsTyping   bool
}

// MulticastData is the payload of KindIncomingMulticast. Content is the
// sender's JSON as decoded (any JSON value).
type MulticastData struct {
	AuthorID string
	Content  any
	Type     string
}

// RichMessagePostbackData is the payload of KindIncomingRichMessagePostback.
type RichMessagePostbackData struct {
	UserID     string
	EventID    string
	PostbackID string
	Toggled    bool
}
