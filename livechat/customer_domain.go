package livechat

import (
	"strconv"
	"time"
)

// Domain event kinds, topics and error types of the Customer Chat API.
const (
	// KindIncomingSneakPeek: a customer is typing (send_sneak_peek). Data
	// SneakPeekData, to the agents and followers of the chat (AgentsOnly).
	// Never stored.
	KindIncomingSneakPeek Kind = "incoming_sneak_peek"
	// KindCustomerPageUpdated: a customer opened a page (login's
	// customer_page, update_customer_page). Data CustomerPageData, to the
	// agents monitoring the customer (AgentsOnly).
	KindCustomerPageUpdated Kind = "customer_page_updated"
	// KindGroupAvailabilityChanged: a group's availability for customers
	// changed (online, online_for_queue, offline). Data GroupAvailability,
	// one event per group, to CustomerGroupTopic of that group.
	KindGroupAvailabilityChanged Kind = "group_availability_changed"
)

// Group availability as the Customer Chat API reports it
// (list_group_statuses, groups_status_updated).
const (
	// GroupOnline: an agent of the group accepts chats and has room for one.
	GroupOnline = "online"
	// GroupOnlineForQueue: agents of the group accept chats but all are at
	// their limit, so a new chat waits in the queue.
	GroupOnlineForQueue = "online_for_queue"
	// GroupOffline: no agent of the group accepts chats.
	GroupOffline = "offline"
)

// Error types only the Customer Chat API uses.
const (
	TypeLicenseNotFound  = "license_not_found"
	TypeGreetingNotFound = "greeting_not_found"
	TypeGroupOffline     = "group_offline"
	TypeGroupUnavailable = "group_unavailable"
)

// CustomerGroupTopic reaches the customer sessions whose widget belongs to a
// group: they hear that group's availability.
func CustomerGroupTopic(groupID int) Topic { return Topic("customer-group:" + strconv.Itoa(groupID)) }

// SneakPeekData is the payload of KindIncomingSneakPeek.
type SneakPeekData struct {
	AuthorID  string
	Text      string
	Timestamp time.Time
}

// CustomerPageData is the payload of KindCustomerPageUpdated.
type CustomerPageData struct {
	CustomerID string
	VisitID    int
	Page       Page
}

// GroupAvailability is one group's availability; the payload of
// KindGroupAvailabilityChanged.
type GroupAvailability struct {
	GroupID int
	Status  string
}
