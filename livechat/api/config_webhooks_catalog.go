package api

import (
	"bytes"
	"encoding/json"
	"slices"
	"sync"

	"github.com/chatbridge/chatbridge/livechat"
)

// Webhook filter names.
const (
	WebhookFilterAuthorType   = "author_type"
	WebhookFilterOnlyMyChats  = "only_my_chats"
	WebhookFilterChatPresence = "chat_presence"
	WebhookFilterSourceType   = "source_type"
	WebhookFilterAgentIDs     = "agent_ids"
)

// Webhook additional data names.
const (
	WebhookDataChatProperties      = "chat_properties"
	WebhookDataChatPresenceUserIDs = "chat_presence_user_ids"
)

// Webhook registration types.
const (
	WebhookLicense = "license"
	WebhookBot     = "bot"
)

// Source types of the source_type filter.
const (
	WebhookSourceMyClient     = "my_client"
	WebhookSourceOtherClients = "other_clients"
	WebhookSourceSystem       = "system"
)

// WebhookAction describes one webhook action: the filters and additional
// data a registration may ask for, and the versions that have it.
type WebhookAction struct {
	Action         string
	Filters        []string
	AdditionalData []string
	// Since and Until bound the versions that have the action ("" = open).
	Since, Until string
}

// ChatScoped says whether the action is about one chat (presence filters
// and additional data apply).
func (a WebhookAction) ChatScoped() bool {
	return slices.Contains(a.Filters, WebhookFilterChatPresence)
}

// In says whether version v has the action.
func (a WebhookAction) In(v string) bool {
	return (a.Since == "" || v >= a.Since) && (a.Until == "" || v <= a.Until)
}

// filtersIn lists the filters the action takes in version v: source_type
// came with 3.4; agent_ids moved from agent_deleted (3.3) to
// routing_status_set (3.5).
func (a WebhookAction) filtersIn(v string) []string {
	out := make([]string, 0, len(a.Filters))
	for _, f := range a.Filters {
		switch {
		case f == WebhookFilterSourceType && v < "3.4":
			continue
		case f == WebhookFilterAgentIDs && a.Action == "routing_status_set" && v < "3.5":
			continue
		case f == WebhookFilterAgentIDs && a.Action == "agent_deleted" && v > "3.3":
			continue
		}
		out = append(out, f)
	}
	return out
}

var (
	whChatFilters  = []string{WebhookFilterChatPresence, WebhookFilterOnlyMyChats, WebhookFilterSourceType}
	whChatData     = []string{WebhookDataChatProperties, WebhookDataChatPresenceUserIDs}
	whEventFilters = []string{WebhookFilterAuthorType, WebhookFilterChatPresence, WebhookFilterOnlyMyChats, WebhookFilterSourceType}
	whSourceOnly   = []string{WebhookFilterSourceType}
)

// WebhookActions is the webhook catalog (spec §3.3, with the 3.3 and 3.4
// names kept for those versions). list_webhook_names and register_webhook
// read it; the dispatcher delivers what the core emits of it.
var WebhookActions = []WebhookAction{
	{Action: "incoming_chat", Filters: whChatFilters, AdditionalData: whChatData},
	{Action: "chat_deactivated", Filters: whChatFilters, AdditionalData: whChatData},
	{Action: "chat_access_granted", Filters: whChatFilters, AdditionalData: whChatData, Until: "3.3"},
	{Action: "chat_access_revoked", Filters: whChatFilters, AdditionalData: whChatData, Until: "3.3"},
	{Action: "chat_access_updated", Filters: whChatFilters, AdditionalData: whChatData, Since: "3.4"},
	{Action: "chat_transferred", Filters: whChatFilters, AdditionalData: whChatData},
	{Action: "user_added_to_chat", Filters: whChatFilters, AdditionalData: whChatData},
	{Action: "user_removed_from_chat", Filters: whChatFilters, AdditionalData: whChatData},
	{Action: "incoming_event", Filters: whEventFilters, AdditionalData: whChatData},
	{Action: "event_updated", Filters: whEventFilters, AdditionalData: whChatData},
	{Action: "incoming_rich_message_postback", Filters: whChatFilters, AdditionalData: whChatData},
	{Action: "chat_properties_updated", Filters: whChatFilters, AdditionalData: whChatData},
	{Action: "chat_properties_deleted", Filters: whChatFilters, AdditionalData: whChatData},
	{Action: "thread_properties_updated", Filters: whChatFilters, AdditionalData: whChatData},
	{Action: "thread_properties_deleted", Filters: whChatFilters, AdditionalData: whChatData},
	{Action: "event_properties_updated", Filters: whChatFilters, AdditionalData: whChatData},
	{Action: "event_properties_deleted", Filters: whChatFilters, AdditionalData: whChatData},
	{Action: "thread_tagged", Filters: whChatFilters, AdditionalData: whChatData},
	{Action: "thread_untagged", Filters: whChatFilters, AdditionalData: whChatData},
	{Action: "events_marked_as_seen", Filters: whChatFilters, AdditionalData: whChatData},
	{Action: "routing_status_set", Filters: []string{WebhookFilterAgentIDs, WebhookFilterSourceType}},
	{Action: "incoming_customer", Filters: whSourceOnly, Until: "3.5"},
	{Action: "customer_session_fields_updated", Filters: []string{WebhookFilterChatPresence, WebhookFilterSourceType}, AdditionalData: whChatData},
	{Action: "agent_created", Filters: whSourceOnly, Since: "3.4"},
	{Action: "agent_updated", Filters: whSourceOnly, Since: "3.4"},
	{Action: "agent_approved", Filters: whSourceOnly, Since: "3.4"},
	{Action: "agent_suspended", Filters: whSourceOnly, Since: "3.4"},
	{Action: "agent_unsuspended", Filters: whSourceOnly, Since: "3.4"},
	{Action: "agent_deleted", Filters: []string{WebhookFilterAgentIDs, WebhookFilterSourceType}},
	{Action: "auto_access_added", Filters: whSourceOnly, Since: "3.4", Until: "3.4"},
	{Action: "auto_access_updated", Filters: whSourceOnly, Since: "3.4", Until: "3.4"},
	{Action: "auto_access_deleted", Filters: whSourceOnly, Since: "3.4", Until: "3.4"},
	{Action: "auto_accesses_updated", Filters: whSourceOnly, Since: "3.5"},
	{Action: "bot_created", Filters: whSourceOnly, Since: "3.4"},
	{Action: "bot_updated", Filters: whSourceOnly, Since: "3.4"},
	{Action: "bot_deleted", Filters: whSourceOnly, Since: "3.4"},
	{Action: "group_created", Filters: whSourceOnly, Since: "3.4"},
	{Action: "group_updated", Filters: whSourceOnly, Since: "3.4"},
	{Action: "group_deleted", Filters: whSourceOnly, Since: "3.4"},
	{Action: "tag_created", Filters: whSourceOnly, Since: "3.5"},
	{Action: "tag_updated", Filters: whSourceOnly, Since: "3.5"},
	{Action: "tag_deleted", Filters: whSourceOnly, Since: "3.5"},
}

// webhookActionIndex maps action names to WebhookActions entries; the
// dispatcher looks one up for every domain event.
var webhookActionIndex = sync.OnceValue(func() map[string]WebhookAction {
	m := make(map[string]WebhookAction, len(WebhookActions))
	for _, a := range WebhookActions {
		m[a.Action] = a
	}
	return m
})

// LookupWebhookAction finds an action of any version.
func LookupWebhookAction(name string) (WebhookAction, bool) {
	a, ok := webhookActionIndex()[name]
	return a, ok
}

// WebhookIDList is a list filter: values (fire if one matches) or exclude_values
// (do not fire if one matches), never both. A bare JSON array means values.
type WebhookIDList struct {
	Values        []string `json:"values,omitempty"`
	ExcludeValues []string `json:"exclude_values,omitempty"`
}

// UnmarshalJSON accepts {values|exclude_values: [...]} or a bare array.
func (l *WebhookIDList) UnmarshalJSON(b []byte) error {
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '[' {
		return json.Unmarshal(b, &l.Values)
	}
	type plain WebhookIDList
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode((*plain)(l))
}

// Allows says whether id passes the list.
func (l *WebhookIDList) Allows(id string) bool {
	if l == nil {
		return true
	}
	if len(l.Values) > 0 {
		return slices.Contains(l.Values, id)
	}
	return !slices.Contains(l.ExcludeValues, id)
}

func (l *WebhookIDList) validate(name string) error {
	if l == nil {
		return nil
	}
	if len(l.Values) > 0 && len(l.ExcludeValues) > 0 {
		return livechat.Errorf(livechat.TypeValidation, "filters.%s takes values or exclude_values, not both", name)
	}
	if len(l.Values) == 0 && len(l.ExcludeValues) == 0 {
		return livechat.Errorf(livechat.TypeValidation, "filters.%s needs values or exclude_values", name)
	}
	return nil
}

// WebhookChatPresence is the chat_presence filter.
type WebhookChatPresence struct {
	UserIDs *WebhookIDList `json:"user_ids,omitempty"`
	MyBots  bool           `json:"my_bots,omitempty"`
}

// WebhookFilters are a registration's filters, decoded.
type WebhookFilters struct {
	AuthorType   string               `json:"author_type,omitempty"`
	OnlyMyChats  bool                 `json:"only_my_chats,omitempty"`
	ChatPresence *WebhookChatPresence `json:"chat_presence,omitempty"`
	SourceType   []string             `json:"source_type,omitempty"`
	AgentIDs     *WebhookIDList       `json:"agent_ids,omitempty"`
}

// ParseWebhookFilters decodes stored or requested filters (unknown names
// are an error).
func ParseWebhookFilters(m map[string]any) (*WebhookFilters, error) {
	f := &WebhookFilters{}
	if len(m) == 0 {
		return f, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(f); err != nil {
		return nil, livechat.Errorf(livechat.TypeValidation, "Wrong format of filters: %v", err)
	}
	return f, nil
}

// validateWebhookFilters checks the filters of a registration of action a in version v.
func validateWebhookFilters(m map[string]any, a WebhookAction, v string) error {
	f, err := ParseWebhookFilters(m)
	if err != nil {
		return err
	}
	allowed := a.filtersIn(v)
	for name := range m {
		if !slices.Contains(allowed, name) {
			return livechat.Errorf(livechat.TypeValidation, "filter %s is not available for %s", name, a.Action)
		}
	}
	if f.AuthorType != "" && f.AuthorType != livechat.UserCustomer && f.AuthorType != livechat.UserAgent {
		return livechat.Errorf(livechat.TypeValidation, "filters.author_type must be customer or agent")
	}
	for _, s := range f.SourceType {
		if s != WebhookSourceMyClient && s != WebhookSourceOtherClients && s != WebhookSourceSystem {
			return livechat.Errorf(livechat.TypeValidation, "filters.source_type values are my_client, other_clients and system")
		}
	}
	if p := f.ChatPresence; p != nil {
		if err := p.UserIDs.validate("chat_presence.user_ids"); err != nil {
			return err
		}
		if p.UserIDs == nil && !p.MyBots {
			return livechat.Errorf(livechat.TypeValidation, "filters.chat_presence needs user_ids or my_bots")
		}
	}
	return f.AgentIDs.validate("agent_ids")
}
