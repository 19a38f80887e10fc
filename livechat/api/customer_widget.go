package api

import (
	"context"
	"hash/fnv"
	"strconv"

	"github.com/chatbridge/chatbridge/livechat"
)

// The chat widget's configuration: forms, dynamic and static configuration,
// phrases. chatbridge keeps no per-group widget settings (no form editor, no
// themes), so every group serves the same defaults, LiveChat's out-of-the-box
// ones; only the group's language and properties vary.

// Form types get_form serves.
const (
	FormPrechat     = "prechat"
	FormPostchat    = "postchat"
	FormTicket      = "ticket"
	FormAskForEmail = "ask_for_email"
)

// defaultForms are the forms every group serves, by type. Field ids are
// strings, as LiveChat's; answers come back in filled_form events.
var defaultForms = map[string]M{
	FormPrechat: {"id": "default_prechat", "fields": []M{
		{"id": "1", "type": "header", "label": "Welcome to our LiveChat! Please fill in the form below before starting the chat."},
		{"id": "2", "type": "name", "label": "Name:", "required": false},
		{"id": "3", "type": "email", "label": "E-mail:", "required": false},
	}},
	FormPostchat: {"id": "default_postchat", "fields": []M{
		{"id": "1", "type": "header", "label": "Thank you for chatting with us."},
		{"id": "2", "type": "rating", "label": "How would you rate the customer service you have received?", "comment_label": "Leave a comment", "required": false},
	}},
	FormTicket: {"id": "default_ticket", "fields": []M{
		{"id": "1", "type": "header", "label": "Our agents are not available right now. Please leave a message and we'll get back to you."},
		{"id": "2", "type": "name", "label": "Your name:", "required": false},
		{"id": "3", "type": "email", "label": "E-mail:", "required": true},
		{"id": "4", "type": "subject", "label": "Subject:", "required": false},
		{"id": "5", "type": "textarea", "label": "Message:", "required": true},
	}},
	FormAskForEmail: {"id": "default_ask_for_email", "fields": []M{
		{"id": "1", "type": "header", "label": "Leave your e-mail so we can get back to you if the chat ends."},
		{"id": "2", "type": "email", "label": "E-mail:", "required": true},
	}},
}

// widgetGroup reads the group a widget call names (group 0 when none):
// group_not_found for an unknown one.
func widgetGroup(ctx context.Context, svc *livechat.Service, id *int) (*livechat.Group, error) {
	g := 0
	if id != nil {
		g = *id
	}
	groups, err := svc.ListGroups(ctx, livechat.System())
	if err != nil {
		return nil, err
	}
	for i := range groups {
		if groups[i].ID == g {
			return &groups[i], nil
		}
	}
	return nil, livechat.Errorf(livechat.TypeGroupNotFound, "Group not found")
}

func customerGetForm(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		GroupID *int   `json:"group_id"`
		Type    string `json:"type"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.Type != "", "type"); err != nil {
		return nil, err
	}
	form, ok := defaultForms[req.Type]
	if !ok {
		return nil, livechat.Errorf(livechat.TypeValidation, "type must be prechat, postchat, ticket or ask_for_email")
	}
	if _, err := widgetGroup(ctx, c.Svc, req.GroupID); err != nil {
		return nil, err
	}
	return M{"enabled": true, "form": form}, nil
}

// versionOf is a short opaque version string of parts.
func versionOf(parts ...string) string {
	h := fnv.New32a()
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	return strconv.FormatUint(uint64(h.Sum32()), 36)
}

func configVersion(g *livechat.Group) string {
	return versionOf("config", strconv.Itoa(g.ID), g.Name, g.LanguageCode)
}

func localizationVersion(g *livechat.Group) string { return versionOf("localization", g.LanguageCode) }

func staticConfigURL(v string, groupID int) string {
	return "/v" + v + "/customer/action/get_configuration?group_id=" + strconv.Itoa(groupID)
}

func languageConfigURL(v string, groupID int) string {
	return "/v" + v + "/customer/action/get_localization?group_id=" + strconv.Itoa(groupID)
}

// customerGetDynamicConfiguration is what a widget asks first: the group it
// belongs to, whether it may run (always), which groups are online and the
// versions of the static configuration and phrases to fetch.
func customerGetDynamicConfiguration(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		GroupID     *int   `json:"group_id"`
		URL         string `json:"url"`
		ChannelType string `json:"channel_type"`
		Test        *bool  `json:"test"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	g, err := widgetGroup(ctx, c.Svc, req.GroupID)
	if err != nil {
		return nil, err
	}
	avail, err := c.Svc.GroupAvailabilities(ctx, nil)
	if err != nil {
		return nil, err
	}
	org := c.Svc.Organization()
	out := M{"group_id": g.ID, "client_limit_exceeded": false, "domain_allowed": true,
		"config_version": configVersion(g), "localization_version": localizationVersion(g), "language": language(g)}
	if c.Version >= "3.4" {
		out["organization_id"] = org.OrganizationID
	} else {
		out["license_id"] = org.LicenseID
	}
	if online := onlineGroups(avail); len(online) > 0 {
		out["online_group_ids"] = online
	}
	return out, nil
}

func language(g *livechat.Group) string {
	if g.LanguageCode == "" {
		return "en"
	}
	return g.LanguageCode
}

// customerGetConfiguration is the widget's static configuration of a group:
// its chat button, the pre-chat and ticket forms, and the license and group
// properties customers may read.
func customerGetConfiguration(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		GroupID *int `json:"group_id"`
		Version any  `json:"version"` // opaque; a GET query may make it a number
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	g, err := widgetGroup(ctx, c.Svc, req.GroupID)
	if err != nil {
		return nil, err
	}
	license, err := c.Svc.CustomerLicenseProperties(ctx, "", "")
	if err != nil {
		return nil, err
	}
	group, err := c.Svc.CustomerGroupProperties(ctx, g.ID, "", "")
	if err != nil {
		return nil, err
	}
	return M{
		"buttons":         []M{{"id": "0", "type": "text", "online_value": "Chat now", "offline_value": "Leave a message"}},
		"prechat_form":    defaultForms[FormPrechat],
		"ticket_form":     defaultForms[FormTicket],
		"integrations":    M{},
		"properties":      M{"license": license, "group": group},
		"allowed_domains": []string{},
	}, nil
}

// phrases are the widget's English phrases; chatbridge ships no other
// language, so every language gets these.
var phrases = map[string]string{
	"Agents_currently_not_available": "Our agents are not available at the moment.",
	"Chat_closed_by_customer":        "Chat closed by customer",
	"Chat_closed_by_agent":           "Chat closed by agent",
	"Chat_now":                       "Chat now",
	"Close_chat":                     "Close chat",
	"Embedded_chat_now":              "Chat now",
	"Embedded_greeting_title":        "Hello!",
	"Embedded_leave_message":         "Leave a message",
	"Embedded_minimize_window":       "Minimize window",
	"Embedded_textarea_placeholder":  "Write a message…",
	"Embedded_waiting_for_operator":  "Waiting for an agent…",
	"New_message":                    "New message",
	"Queue_position":                 "You are number %position% in the queue.",
	"Rate_me":                        "Rate this chat",
	"Send":                           "Send",
	"Start_chat":                     "Start the chat",
	"Thank_you":                      "Thank you!",
	"Welcome_title":                  "Welcome to our LiveChat!",
	"Write_a_message":                "Write a message…",
}

func customerGetLocalization(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		GroupID  *int   `json:"group_id"`
		Language string `json:"language"`
		Version  any    `json:"version"` // opaque; a GET query may make it a number
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if _, err := widgetGroup(ctx, c.Svc, req.GroupID); err != nil {
		return nil, err
	}
	out := make(M, len(phrases))
	for k, v := range phrases {
		out[k] = v
	}
	return out, nil
}
