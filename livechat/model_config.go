package livechat

import "time"

// Webhook is a registered outgoing webhook: an action delivered to a URL.
// License webhooks fire while license webhooks are enabled; bot webhooks
// (Type "bot") only while the owner's bot is not offline.
type Webhook struct {
	ID             string         `bson:"_id" json:"id"`
	URL            string         `bson:"url" json:"url"`
	Action         string         `bson:"action" json:"action"`
	SecretKey      string         `bson:"secret_key" json:"secret_key"`
	OwnerClientID  string         `bson:"owner_client_id" json:"owner_client_id"`
	Type           string         `bson:"type" json:"type"`
	Description    string         `bson:"description,omitempty" json:"description,omitempty"`
	Filters        map[string]any `bson:"filters,omitempty" json:"filters,omitempty"`
	AdditionalData []string       `bson:"additional_data,omitempty" json:"additional_data,omitempty"`
	CreatedAt      time.Time      `bson:"created_at" json:"created_at"`
}

// WebhookDelivery is one queued POST of a webhook envelope, kept in the store
// so a restart loses no pending delivery.
type WebhookDelivery struct {
	ID            string    `bson:"_id" json:"id"`
	WebhookID     string    `bson:"webhook_id" json:"webhook_id"`
	URL           string    `bson:"url" json:"url"`
	Action        string    `bson:"action" json:"action"`
	Body          string    `bson:"body" json:"body"`     // the JSON envelope, as sent
	Status        string    `bson:"status" json:"status"` // pending, delivered, failed
	Attempts      int       `bson:"attempts" json:"attempts"`
	NextAttemptAt time.Time `bson:"next_attempt_at" json:"next_attempt_at"`
	LastError     string    `bson:"last_error,omitempty" json:"last_error,omitempty"`
	CreatedAt     time.Time `bson:"created_at" json:"created_at"`
	DeliveredAt   time.Time `bson:"delivered_at,omitempty" json:"delivered_at,omitempty"`
}

// PropertyDef is a registered property: its owner namespace (client id),
// type, access per location and user type, and optional domain and default.
// ID is "<owner_client_id>:<name>" (config_properties.go).
type PropertyDef struct {
	ID            string         `bson:"_id" json:"-"`
	OwnerClientID string         `bson:"owner_client_id" json:"owner_client_id"`
	Name          string         `bson:"name" json:"name"`
	Type          string         `bson:"type" json:"type"`
	Access        map[string]any `bson:"access" json:"access"`
	Description   string         `bson:"description,omitempty" json:"description,omitempty"`
	Domain        []any          `bson:"domain,omitempty" json:"domain,omitempty"`
	Range         map[string]any `bson:"range,omitempty" json:"range,omitempty"`
	DefaultValue  any            `bson:"default_value,omitempty" json:"default_value,omitempty"`
	Public        bool           `bson:"public" json:"public"`
	// PublicAccess is what publish_property opened to other clients: read, write.
	PublicAccess []string  `bson:"public_access,omitempty" json:"public_access,omitempty"`
	CreatedAt    time.Time `bson:"created_at" json:"created_at"`
}

// Tag is a thread tag the organization allows, optionally per group. ID is its name.
type Tag struct {
	ID        string    `bson:"_id" json:"name"`
	GroupIDs  []int     `bson:"group_ids" json:"group_ids"`
	AuthorID  string    `bson:"author_id" json:"author_id"`
	CreatedAt time.Time `bson:"created_at" json:"created_at"`
}

// Setting is one organization-wide key/value (license properties, group
// properties, webhook state, limits), keyed by a namespaced ID.
type Setting struct {
	ID        string    `bson:"_id" json:"key"`
	Value     any       `bson:"value" json:"value"`
	UpdatedAt time.Time `bson:"updated_at" json:"updated_at"`
}
