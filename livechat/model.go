package livechat

import "time"

// Roles an agent can hold. Owners and administrators see every chat.
const (
	RoleOwner         = "owner"
	RoleViceOwner     = "viceowner"
	RoleAdministrator = "administrator"
	RoleNormal        = "normal"
)

// User types, as LiveChat names them in chat users.
const (
	UserAgent    = "agent"
	UserCustomer = "customer"
)

// Agent kinds: a human agent or a bot agent.
const (
	AgentKindHuman = "agent"
	AgentKindBot   = "bot"
)

// Routing statuses of an agent.
const (
	RoutingAccepting    = "accepting_chats"
	RoutingNotAccepting = "not_accepting_chats"
	RoutingOffline      = "offline"
)

// Event types of the LiveChat model.
const (
	EventMessage       = "message"
	EventSystemMessage = "system_message"
	EventFile          = "file"
	EventForm          = "form"
	EventFilledForm    = "filled_form"
	EventRichMessage   = "rich_message"
	EventCustom        = "custom"
)

// Event and user visibility values.
const (
	VisibilityAll    = "all"
	VisibilityAgents = "agents"
)

// OrganizationDocID is the _id of the one organization document.
const OrganizationDocID = "organization"

// Organization is the single tenant a chatbridge server serves. LiveChat 3.4+
// clients name it by OrganizationID (a UUID), 3.3 clients by LicenseID.
type Organization struct {
	ID             string    `bson:"_id" json:"-"`
	OrganizationID string    `bson:"organization_id" json:"organization_id"`
	LicenseID      int64     `bson:"license_id" json:"license_id"`
	CreatedAt      time.Time `bson:"created_at" json:"created_at"`
}

// GroupMembership is an agent's place in a group with its routing priority
// (first, normal, last, supervisor).
type GroupMembership struct {
	ID       int    `bson:"id" json:"id"`
	Priority string `bson:"priority" json:"priority"`
}

// Agent is a human agent or a bot agent. Its ID is the LiveChat agent id: the
// e-mail for humans, 32 hex characters for bots.
type Agent struct {
	ID            string            `bson:"_id" json:"id"`
	AccountID     string            `bson:"account_id" json:"account_id"`
	Kind          string            `bson:"kind" json:"kind"`
	Email         string            `bson:"email,omitempty" json:"email,omitempty"`
	Username      string            `bson:"username" json:"username"`
	Name          string            `bson:"name" json:"name"`
	Avatar        string            `bson:"avatar,omitempty" json:"avatar,omitempty"`
	Role          string            `bson:"role" json:"role"`
	Groups        []GroupMembership `bson:"groups" json:"groups"`
	PasswordHash  string            `bson:"password_hash,omitempty" json:"-"`
	RoutingStatus string            `bson:"routing_status" json:"routing_status"`
	MaxChats      int               `bson:"max_chats_count" json:"max_chats_count"`
	OwnerClientID string            `bson:"owner_client_id,omitempty" json:"owner_client_id,omitempty"`
	OwnerID       string            `bson:"owner_id,omitempty" json:"owner_id,omitempty"`
	Suspended     bool              `bson:"suspended" json:"suspended"`
	CreatedAt     time.Time         `bson:"created_at" json:"created_at"`
	UpdatedAt     time.Time         `bson:"updated_at" json:"updated_at"`
	// AgentProfile holds the Configuration API's extra fields (config_agents.go).
	AgentProfile `bson:",inline"`
}

// GroupIDs lists the agent's groups; every agent is in group 0.
func (a *Agent) GroupIDs() []int {
	ids := []int{0}
	for _, g := range a.Groups {
		if g.ID != 0 {
			ids = append(ids, g.ID)
		}
	}
	return ids
}

// SeesAllChats says whether the agent's role lets it read every chat.
func (a *Agent) SeesAllChats() bool {
	return a.Role == RoleOwner || a.Role == RoleViceOwner || a.Role == RoleAdministrator
}

// Group is a set of agents chats are routed to. Group 0 holds everyone.
type Group struct {
	ID           int       `bson:"_id" json:"id"`
	Name         string    `bson:"name" json:"name"`
	LanguageCode string    `bson:"language_code" json:"language_code"`
	CreatedAt    time.Time `bson:"created_at" json:"created_at"`
}

// Visit is a customer's last visit to a tracked site.
type Visit struct {
	ID        int        `bson:"id" json:"id,omitempty"`
	StartedAt time.Time  `bson:"started_at" json:"started_at"`
	EndedAt   *time.Time `bson:"ended_at,omitempty" json:"ended_at,omitempty"`
	Referrer  string     `bson:"referrer,omitempty" json:"referrer,omitempty"`
	IP        string     `bson:"ip,omitempty" json:"ip,omitempty"`
	UserAgent string     `bson:"user_agent,omitempty" json:"user_agent,omitempty"`
	LastPages []Page     `bson:"last_pages" json:"last_pages"`
}

// Page is one page a customer opened.
type Page struct {
	OpenedAt time.Time `bson:"opened_at" json:"opened_at"`
	URL      string    `bson:"url" json:"url"`
	Title    string    `bson:"title,omitempty" json:"title,omitempty"`
}

// Customer is a visitor of the organization's sites; its ID is a UUID v4.
type Customer struct {
	ID                  string              `bson:"_id" json:"id"`
	Name                string              `bson:"name,omitempty" json:"name,omitempty"`
	Email               string              `bson:"email,omitempty" json:"email,omitempty"`
	EmailVerified       bool                `bson:"email_verified" json:"email_verified"`
	Avatar              string              `bson:"avatar,omitempty" json:"avatar,omitempty"`
	SessionFields       []map[string]string `bson:"session_fields" json:"session_fields"`
	GroupIDs            []int               `bson:"group_ids" json:"group_ids"`
	LastVisit           *Visit              `bson:"last_visit,omitempty" json:"last_visit,omitempty"`
	BannedUntil         *time.Time          `bson:"banned_until,omitempty" json:"banned_until,omitempty"`
	Followers           []string            `bson:"followers" json:"followers"`
	ChatsCount          int                 `bson:"chats_count" json:"chats_count"`
	ThreadsCount        int                 `bson:"threads_count" json:"threads_count"`
	VisitsCount         int                 `bson:"visits_count" json:"visits_count"`
	PageViewsCount      int                 `bson:"page_views_count" json:"page_views_count"`
	AgentLastEventAt    *time.Time          `bson:"agent_last_event_created_at,omitempty" json:"agent_last_event_created_at,omitempty"`
	CustomerLastEventAt *time.Time          `bson:"customer_last_event_created_at,omitempty" json:"customer_last_event_created_at,omitempty"`
	CreatedAt           time.Time           `bson:"created_at" json:"created_at"`
	UpdatedAt           time.Time           `bson:"updated_at" json:"updated_at"`
}

// Banned says whether the customer is banned at now.
func (c *Customer) Banned(now time.Time) bool {
	return c.BannedUntil != nil && now.Before(*c.BannedUntil)
}

// Properties are namespaced values: {namespace: {name: value}}.
type Properties map[string]map[string]any

// Access lists the groups whose agents may see a chat or thread.
type Access struct {
	GroupIDs []int `bson:"group_ids" json:"group_ids"`
}

// ChatUser is a user's membership in a chat.
type ChatUser struct {
	ID             string    `bson:"id" json:"id"`
	Type           string    `bson:"type" json:"type"`
	Present        bool      `bson:"present" json:"present"`
	Visibility     string    `bson:"visibility" json:"visibility"`
	EventsSeenUpTo time.Time `bson:"events_seen_up_to" json:"events_seen_up_to"`
}

// Chat is a long-lived conversation with one customer; it holds threads, of
// which at most the newest is active. Everything a hot path needs about the
// chat lives in this one document.
type Chat struct {
	ID                  string     `bson:"_id" json:"id"`
	CustomerID          string     `bson:"customer_id" json:"customer_id"`
	Users               []ChatUser `bson:"users" json:"users"`
	Access              Access     `bson:"access" json:"access"`
	Properties          Properties `bson:"properties" json:"properties"`
	Followers           []string   `bson:"followers" json:"followers"`
	ActiveThreadID      string     `bson:"active_thread_id" json:"active_thread_id,omitempty"`
	LastThreadID        string     `bson:"last_thread_id" json:"last_thread_id,omitempty"`
	LastThreadCreatedAt time.Time  `bson:"last_thread_created_at" json:"last_thread_created_at"`
	LastEventAt         time.Time  `bson:"last_event_at" json:"last_event_at"`
	ThreadCount         int        `bson:"thread_count" json:"thread_count"`
	Continuous          bool       `bson:"continuous" json:"continuous"`
	CreatedAt           time.Time  `bson:"created_at" json:"created_at"`
	UpdatedAt           time.Time  `bson:"updated_at" json:"updated_at"`
}

// Active says whether the chat has an active thread.
func (c *Chat) Active() bool { return c.ActiveThreadID != "" }

// User returns the chat user with id, or nil.
func (c *Chat) User(id string) *ChatUser {
	for i := range c.Users {
		if c.Users[i].ID == id {
			return &c.Users[i]
		}
	}
	return nil
}

// AgentIDs lists the agents among the chat's users.
func (c *Chat) AgentIDs() []string {
	var ids []string
	for _, u := range c.Users {
		if u.Type == UserAgent {
			ids = append(ids, u.ID)
		}
	}
	return ids
}

// Queue is a thread's place in the routing queue.
type Queue struct {
	Position int       `bson:"position" json:"position"`
	WaitTime int       `bson:"wait_time" json:"wait_time"`
	QueuedAt time.Time `bson:"queued_at" json:"queued_at"`
}

// Thread is one conversation session inside a chat.
type Thread struct {
	ID               string     `bson:"_id" json:"id"`
	ChatID           string     `bson:"chat_id" json:"chat_id"`
	Active           bool       `bson:"active" json:"active"`
	UserIDs          []string   `bson:"user_ids" json:"user_ids"`
	Properties       Properties `bson:"properties" json:"properties"`
	Access           Access     `bson:"access" json:"access"`
	Tags             []string   `bson:"tags" json:"tags,omitempty"`
	PreviousThreadID string     `bson:"previous_thread_id,omitempty" json:"previous_thread_id,omitempty"`
	NextThreadID     string     `bson:"next_thread_id,omitempty" json:"next_thread_id,omitempty"`
	Queue            *Queue     `bson:"queue,omitempty" json:"queue,omitempty"`
	EventCount       int        `bson:"event_count" json:"event_count"`
	LastEventAt      time.Time  `bson:"last_event_at" json:"last_event_at"`
	CreatedAt        time.Time  `bson:"created_at" json:"created_at"`
	ClosedAt         *time.Time `bson:"closed_at,omitempty" json:"closed_at,omitempty"`
}

// Event is one item in a thread. Type-specific fields are set only for their
// type; free-form parts (form fields, rich message elements, custom content,
// postbacks) are kept as decoded JSON values.
type Event struct {
	ID                string            `bson:"_id" json:"id"`
	ChatID            string            `bson:"chat_id" json:"-"`
	ThreadID          string            `bson:"thread_id" json:"-"`
	CustomID          string            `bson:"custom_id,omitempty" json:"custom_id,omitempty"`
	Type              string            `bson:"type" json:"type"`
	Visibility        string            `bson:"visibility" json:"visibility"`
	AuthorID          string            `bson:"author_id,omitempty" json:"author_id,omitempty"`
	CreatedAt         time.Time         `bson:"created_at" json:"created_at"`
	Properties        Properties        `bson:"properties,omitempty" json:"properties,omitempty"`
	Text              string            `bson:"text,omitempty" json:"text,omitempty"`
	Postback          map[string]any    `bson:"postback,omitempty" json:"postback,omitempty"`
	SystemMessageType string            `bson:"system_message_type,omitempty" json:"system_message_type,omitempty"`
	TextVars          map[string]string `bson:"text_vars,omitempty" json:"text_vars,omitempty"`
	URL               string            `bson:"url,omitempty" json:"url,omitempty"`
	Name              string            `bson:"name,omitempty" json:"name,omitempty"`
	ContentType       string            `bson:"content_type,omitempty" json:"content_type,omitempty"`
	Size              int64             `bson:"size,omitempty" json:"size,omitempty"`
	Width             int               `bson:"width,omitempty" json:"width,omitempty"`
	Height            int               `bson:"height,omitempty" json:"height,omitempty"`
	ThumbnailURL      string            `bson:"thumbnail_url,omitempty" json:"thumbnail_url,omitempty"`
	Thumbnail2xURL    string            `bson:"thumbnail2x_url,omitempty" json:"thumbnail2x_url,omitempty"`
	AlternativeText   string            `bson:"alternative_text,omitempty" json:"alternative_text,omitempty"`
	FormID            string            `bson:"form_id,omitempty" json:"form_id,omitempty"`
	FormType          string            `bson:"form_type,omitempty" json:"form_type,omitempty"`
	Fields            []any             `bson:"fields,omitempty" json:"fields,omitempty"`
	TemplateID        string            `bson:"template_id,omitempty" json:"template_id,omitempty"`
	Elements          []any             `bson:"elements,omitempty" json:"elements,omitempty"`
	Content           any               `bson:"content,omitempty" json:"content,omitempty"`
}

// Token kinds. Every token is stored by the SHA-256 of its secret, never in clear.
const (
	TokenAgentAccess    = "agent_access"
	TokenAgentRefresh   = "agent_refresh"
	TokenPersonal       = "personal_access"
	TokenBot            = "bot"
	TokenCustomerAccess = "customer_access"
	TokenCustomerCookie = "customer_cookie"
	TokenResume         = "resume"
)

// Token is a stored credential. ID is the hex SHA-256 of the secret.
type Token struct {
	ID        string    `bson:"_id" json:"-"`
	Kind      string    `bson:"kind" json:"kind"`
	Subject   string    `bson:"subject" json:"subject"`
	ClientID  string    `bson:"client_id,omitempty" json:"client_id,omitempty"`
	Name      string    `bson:"name,omitempty" json:"name,omitempty"`
	Scopes    []string  `bson:"scopes,omitempty" json:"scopes,omitempty"`
	Parent    string    `bson:"parent,omitempty" json:"-"`
	CreatedAt time.Time `bson:"created_at" json:"created_at"`
	ExpiresAt time.Time `bson:"expires_at" json:"expires_at"`
}

// Expired says whether the token is past its expiry at now; a zero expiry
// never expires.
func (t *Token) Expired(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
}
