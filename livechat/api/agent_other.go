package api

import (
	"context"
	"encoding/json"

	"github.com/chatbridge/chatbridge/livechat"
)

// propertyMethod serves the six update/delete property methods.
func propertyMethod(level string, del bool) Handler {
	return func(ctx context.Context, c *Call) (any, error) {
		req, err := decode[struct {
			chatIDArg
			ThreadID   string          `json:"thread_id"`
			EventID    string          `json:"event_id"`
			Properties json.RawMessage `json:"properties"`
		}](c.Payload)
		if err != nil {
			return nil, err
		}
		t := livechat.PropertyTarget{ChatID: req.ID}
		if level == "chat" {
			if t.ChatID, err = req.get(); err != nil {
				return nil, err
			}
		} else {
			t.ChatID, t.ThreadID = req.ChatID, req.ThreadID
			if err := required(t.ChatID != "" && t.ThreadID != "", "chat_id and thread_id"); err != nil {
				return nil, err
			}
			if level == "event" {
				t.EventID = req.EventID
				if err := required(t.EventID != "", "event_id"); err != nil {
					return nil, err
				}
			}
		}
		if err := required(len(req.Properties) > 0, "properties"); err != nil {
			return nil, err
		}
		if del {
			var names map[string][]string
			if err := json.Unmarshal(req.Properties, &names); err != nil {
				return nil, livechat.Errorf(livechat.TypeValidation, "properties must be {namespace: [names]}")
			}
			return empty{}, c.Svc.DeleteProperties(ctx, c.Actor, t, names)
		}
		var props livechat.Properties
		if err := json.Unmarshal(req.Properties, &props); err != nil {
			return nil, livechat.Errorf(livechat.TypeValidation, "properties must be {namespace: {name: value}}")
		}
		return empty{}, c.Svc.UpdateProperties(ctx, c.Actor, t, props)
	}
}

func tagThread(add bool) Handler {
	return func(ctx context.Context, c *Call) (any, error) {
		req, err := decode[struct {
			ChatID   string `json:"chat_id"`
			ThreadID string `json:"thread_id"`
			Tag      string `json:"tag"`
		}](c.Payload)
		if err != nil {
			return nil, err
		}
		if err := required(req.ChatID != "" && req.ThreadID != "" && req.Tag != "", "chat_id, thread_id and tag"); err != nil {
			return nil, err
		}
		return empty{}, c.Svc.TagThread(ctx, c.Actor, req.ChatID, req.ThreadID, req.Tag, add)
	}
}

func addUserToChat(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		ChatID              string `json:"chat_id"`
		UserID              string `json:"user_id"`
		UserType            string `json:"user_type"`
		Visibility          string `json:"visibility"`
		RequireActiveThread bool   `json:"require_active_thread"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.ChatID != "" && req.UserID != "" && req.UserType != "", "chat_id, user_id and user_type"); err != nil {
		return nil, err
	}
	requireActive := req.RequireActiveThread
	if c.Version >= "3.4" {
		if err := required(req.Visibility != "", "visibility"); err != nil {
			return nil, err
		}
		requireActive = true
	}
	return empty{}, c.Svc.AddUserToChat(ctx, c.Actor, req.ChatID, req.UserID, req.UserType, req.Visibility, requireActive)
}

func removeUserFromChat(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		ChatID   string `json:"chat_id"`
		UserID   string `json:"user_id"`
		UserType string `json:"user_type"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.ChatID != "" && req.UserID != "", "chat_id and user_id"); err != nil {
		return nil, err
	}
	if req.UserType != "" && req.UserType != livechat.UserAgent {
		return nil, livechat.Errorf(livechat.TypeValidation, "only agents can be removed from a chat")
	}
	return empty{}, c.Svc.RemoveUserFromChat(ctx, c.Actor, req.ChatID, req.UserID)
}

// Customer renders a customer for agents.
func Customer(cu *livechat.Customer) M {
	out := M{"id": cu.ID, "type": livechat.UserCustomer, "email_verified": cu.EmailVerified, "session_fields": cu.SessionFields,
		"created_at": Timestamp(cu.CreatedAt), "group_ids": cu.GroupIDs, "followed": len(cu.Followers) > 0,
		"statistics": M{"chats_count": cu.ChatsCount, "threads_count": cu.ThreadsCount, "visits_count": cu.VisitsCount,
			"page_views_count": cu.PageViewsCount, "greetings_shown_count": 0, "greetings_accepted_count": 0}}
	for k, v := range map[string]string{"name": cu.Name, "email": cu.Email, "avatar": cu.Avatar} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

type customerArgs struct {
	ID            string              `json:"id"`
	CustomerID    string              `json:"customer_id"`
	Name          *string             `json:"name"`
	Email         *string             `json:"email"`
	Avatar        *string             `json:"avatar"`
	SessionFields []map[string]string `json:"session_fields"`
	Ban           *struct {
		Days int `json:"days"`
	} `json:"ban"`
}

func (a *customerArgs) id() (string, error) {
	id := a.ID
	if id == "" {
		id = a.CustomerID
	}
	return id, required(id != "", "id")
}

func (a *customerArgs) input() livechat.CustomerInput {
	return livechat.CustomerInput{Name: a.Name, Email: a.Email, Avatar: a.Avatar, SessionFields: a.SessionFields}
}

func getCustomer(ctx context.Context, c *Call) (any, error) {
	req, err := decode[customerArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	id, err := req.id()
	if err != nil {
		return nil, err
	}
	cu, err := c.Svc.GetCustomer(ctx, c.Actor, id)
	if err != nil {
		return nil, err
	}
	out := Customer(cu)
	ids, err := c.Svc.CustomerChatIDs(ctx, c.Actor, cu.ID)
	if err != nil {
		return nil, err
	}
	if len(ids) > 0 {
		out["chat_ids"] = ids
	}
	return out, nil
}

func createCustomer(ctx context.Context, c *Call) (any, error) {
	req, err := decode[customerArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	cu, err := c.Svc.CreateCustomer(ctx, c.Actor, req.input())
	if err != nil {
		return nil, err
	}
	return M{"customer_id": cu.ID}, nil
}

func updateCustomer(ctx context.Context, c *Call) (any, error) {
	req, err := decode[customerArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	id, err := req.id()
	if err != nil {
		return nil, err
	}
	in := req.input()
	if in.Name == nil && in.Email == nil && in.Avatar == nil && in.SessionFields == nil {
		return nil, livechat.Errorf(livechat.TypeValidation, "at least one of name, email, avatar, session_fields is required")
	}
	_, err = c.Svc.UpdateCustomer(ctx, c.Actor, id, in)
	return empty{}, err
}

func banCustomer(ctx context.Context, c *Call) (any, error) {
	req, err := decode[customerArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	id, err := req.id()
	if err != nil {
		return nil, err
	}
	if err := required(req.Ban != nil, "ban.days"); err != nil {
		return nil, err
	}
	_, err = c.Svc.BanCustomer(ctx, c.Actor, id, req.Ban.Days)
	return empty{}, err
}

func getLicenseInfo(_ context.Context, c *Call) (any, error) {
	org := c.Svc.Organization()
	return M{"license_id": org.LicenseID, "created_at": Timestamp(org.CreatedAt), "in_trial": false, "organization_id": org.OrganizationID}, nil
}

// AgentTable is the Agent Chat API (the methods built so far; the rest of
// the catalog lands with issue 3).
func AgentTable() *Table {
	return NewTable(
		Method{Name: "list_chats", Handler: listChats, ReadOnly: true},
		Method{Name: "get_chat", Handler: getChat, ReadOnly: true},
		Method{Name: "list_threads", Handler: listThreads, ReadOnly: true},
		Method{Name: "start_chat", Handler: startChat},
		Method{Name: "resume_chat", Handler: resumeChat},
		Method{Name: "deactivate_chat", Handler: deactivateChat},
		Method{Name: "follow_chat", Handler: followChat(true)},
		Method{Name: "unfollow_chat", Handler: followChat(false)},
		Method{Name: "send_event", Handler: sendEvent},
		Method{Name: "add_user_to_chat", Handler: addUserToChat},
		Method{Name: "remove_user_from_chat", Handler: removeUserFromChat},
		Method{Name: "update_chat_properties", Handler: propertyMethod("chat", false)},
		Method{Name: "delete_chat_properties", Handler: propertyMethod("chat", true)},
		Method{Name: "update_thread_properties", Handler: propertyMethod("thread", false)},
		Method{Name: "delete_thread_properties", Handler: propertyMethod("thread", true)},
		Method{Name: "update_event_properties", Handler: propertyMethod("event", false)},
		Method{Name: "delete_event_properties", Handler: propertyMethod("event", true)},
		Method{Name: "tag_thread", Handler: tagThread(true)},
		Method{Name: "untag_thread", Handler: tagThread(false)},
		Method{Name: "get_customer", Handler: getCustomer, ReadOnly: true},
		Method{Name: "create_customer", Handler: createCustomer},
		Method{Name: "update_customer", Handler: updateCustomer},
		Method{Name: "ban_customer", Handler: banCustomer},
		Method{Name: "mark_events_as_seen", Handler: markEventsAsSeen},
		Method{Name: "get_license_info", Handler: getLicenseInfo, WebOnly: true, ReadOnly: true, Since: "3.5"},
		// Routing, status and the rest of the catalog (agent_routing.go, agent_misc.go, agent_customers.go, agent_archives.go).
		Method{Name: "list_archives", Handler: listArchives, ReadOnly: true},
		Method{Name: "transfer_chat", Handler: transferChat},
		Method{Name: "grant_chat_access", Handler: chatAccess(true), Until: "3.3"},
		Method{Name: "revoke_chat_access", Handler: chatAccess(false), Until: "3.3"},
		Method{Name: "list_agents_for_transfer", Handler: listAgentsForTransfer, ReadOnly: true},
		Method{Name: "set_routing_status", Handler: setRoutingStatus},
		Method{Name: "list_routing_statuses", Handler: listRoutingStatuses, ReadOnly: true},
		Method{Name: "set_away_status", Handler: setAwayStatus, RTMOnly: true},
		Method{Name: "change_push_notifications", Handler: changePushNotifications, RTMOnly: true},
		Method{Name: "send_typing_indicator", Handler: sendTypingIndicator},
		Method{Name: "multicast", Handler: multicast},
		Method{Name: "send_rich_message_postback", Handler: sendRichMessagePostback},
		Method{Name: "upload_file", Handler: uploadFile, WebOnly: true},
		Method{Name: "list_customers", Handler: listCustomers, ReadOnly: true, Until: "3.5"},
		Method{Name: "follow_customer", Handler: followCustomer(true), Since: "3.3", Until: "3.5"},
		Method{Name: "unfollow_customer", Handler: followCustomer(false), Since: "3.3", Until: "3.5"},
	)
}
