package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

// PushFunc turns a domain event into a LiveChat push for version v: its name
// and payload. An empty name means the version has no such push.
type PushFunc func(ctx context.Context, svc *livechat.Service, ev *livechat.DomainEvent, v string) (string, any, error)

// AgentPushes maps domain event kinds to agent-side pushes. Files that add
// kinds register theirs in init.
var AgentPushes = map[livechat.Kind]PushFunc{}

// GroupReach lists the kinds that reach agents through the chat's access
// groups (LiveChat's "agents with access" recipient set); every other chat
// push reaches only the chat's users and followers.
var GroupReach = map[livechat.Kind]bool{
	livechat.KindIncomingChat:      true,
	livechat.KindChatDeactivated:   true,
	livechat.KindChatAccessUpdated: true,
}

// fixed returns a PushFunc for pushes whose name does not change with the
// version (since is the first version that has it).
func fixed(name, since string, payload func(ctx context.Context, svc *livechat.Service, ev *livechat.DomainEvent, v string) (any, error)) PushFunc {
	return func(ctx context.Context, svc *livechat.Service, ev *livechat.DomainEvent, v string) (string, any, error) {
		if v < since {
			return "", nil, nil
		}
		p, err := payload(ctx, svc, ev, v)
		return name, p, err
	}
}

func init() {
	AgentPushes[livechat.KindIncomingChat] = fixed("incoming_chat", "3.2", incomingChat)
	AgentPushes[livechat.KindChatDeactivated] = fixed("chat_deactivated", "3.2", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		p := M{"chat_id": ev.ChatID, "thread_id": ev.ThreadID}
		if d, ok := ev.Data.(livechat.ChatDeactivatedData); ok && d.UserID != "" {
			p["user_id"] = d.UserID
		}
		return p, nil
	})
	AgentPushes[livechat.KindIncomingEvent] = fixed("incoming_event", "3.2", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, v string) (any, error) {
		d := ev.Data.(livechat.IncomingEventData)
		return M{"chat_id": ev.ChatID, "thread_id": ev.ThreadID, "event": Event(d.Event, v)}, nil
	})
	AgentPushes[livechat.KindEventUpdated] = fixed("event_updated", "3.2", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, v string) (any, error) {
		d := ev.Data.(livechat.IncomingEventData)
		return M{"chat_id": ev.ChatID, "thread_id": ev.ThreadID, "event": Event(d.Event, v)}, nil
	})
	AgentPushes[livechat.KindUserAddedToChat] = fixed("user_added_to_chat", "3.2", userAdded)
	AgentPushes[livechat.KindUserRemovedFromChat] = fixed("user_removed_from_chat", "3.2", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		d := ev.Data.(livechat.UserChangeData)
		p := M{"chat_id": ev.ChatID, "user_id": d.User.ID, "reason": d.Reason}
		optional(p, "thread_id", ev.ThreadID)
		optional(p, "requester_id", ev.RequesterID)
		return p, nil
	})
	AgentPushes[livechat.KindChatAccessUpdated] = fixed("chat_access_updated", "3.4", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		return M{"id": ev.ChatID, "access": access(ev.Data.(livechat.AccessData).Access)}, nil
	})
	props := func(name string, level string, deleted bool) PushFunc {
		return fixed(name, "3.2", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
			p := M{"chat_id": ev.ChatID}
			if level != "chat" {
				p["thread_id"] = ev.ThreadID
			}
			if deleted {
				d := ev.Data.(livechat.PropertiesDeletedData)
				p["properties"] = d.Properties
				optional(p, "event_id", d.EventID)
			} else {
				d := ev.Data.(livechat.PropertiesData)
				p["properties"] = d.Properties
				optional(p, "event_id", d.EventID)
			}
			return p, nil
		})
	}
	AgentPushes[livechat.KindChatPropertiesUpdated] = props("chat_properties_updated", "chat", false)
	AgentPushes[livechat.KindChatPropertiesDeleted] = props("chat_properties_deleted", "chat", true)
	AgentPushes[livechat.KindThreadPropertiesUpdate] = props("thread_properties_updated", "thread", false)
	AgentPushes[livechat.KindThreadPropertiesDelete] = props("thread_properties_deleted", "thread", true)
	AgentPushes[livechat.KindEventPropertiesUpdate] = props("event_properties_updated", "event", false)
	AgentPushes[livechat.KindEventPropertiesDelete] = props("event_properties_deleted", "event", true)
	tag := func(name string) PushFunc {
		return fixed(name, "3.2", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
			return M{"chat_id": ev.ChatID, "thread_id": ev.ThreadID, "tag": ev.Data.(livechat.TagData).Tag}, nil
		})
	}
	AgentPushes[livechat.KindThreadTagged] = tag("thread_tagged")
	AgentPushes[livechat.KindThreadUntagged] = tag("thread_untagged")
	AgentPushes[livechat.KindEventsMarkedAsSeen] = fixed("events_marked_as_seen", "3.1", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		upTo, _ := ev.Data.(time.Time)
		return M{"user_id": ev.RequesterID, "chat_id": ev.ChatID, "seen_up_to": Timestamp(upTo)}, nil
	})
	AgentPushes[livechat.KindChatFollowed] = fixed("incoming_chat", "3.2", incomingChat)
	AgentPushes[livechat.KindChatUnfollowed] = fixed("chat_unfollowed", "3.2", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		return M{"chat_id": ev.ChatID}, nil
	})
	AgentPushes[livechat.KindIncomingCustomer] = fixed("incoming_customer", "3.3", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		return Customer(ev.Data.(livechat.CustomerData).Customer), nil
	})
	AgentPushes[livechat.KindCustomerUpdated] = func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, v string) (string, any, error) {
		d := ev.Data.(livechat.CustomerData)
		if len(d.Changed) == 1 && d.Changed[0] == "banned" && d.Customer.BannedUntil != nil {
			days := int(time.Until(*d.Customer.BannedUntil).Hours()/24 + 0.5)
			return "customer_banned", M{"customer_id": d.Customer.ID, "ban": M{"days": max(days, 1)}}, nil
		}
		full := Customer(d.Customer)
		if v < "3.3" {
			return "customer_updated", M{"customer": full}, nil
		}
		p := M{"id": d.Customer.ID}
		for _, f := range d.Changed {
			if val, ok := full[f]; ok {
				p[f] = val
			}
		}
		return "customer_updated", p, nil
	}
	// The configuration pushes (agent_created, group_created, ...) are in config_pushes.go.
}

func optional(p M, k, v string) {
	if v != "" {
		p[k] = v
	}
}

func incomingChat(ctx context.Context, svc *livechat.Service, ev *livechat.DomainEvent, v string) (any, error) {
	d, ok := ev.Data.(livechat.IncomingChatData)
	if !ok || d.Chat == nil {
		return nil, nil
	}
	chat, err := Chat(ctx, svc, livechat.System(), &livechat.ChatView{Chat: d.Chat, Thread: d.Thread, Events: d.Events}, v)
	if err != nil {
		return nil, err
	}
	p := M{"chat": chat}
	optional(p, "requester_id", ev.RequesterID)
	return p, nil
}

func userAdded(ctx context.Context, svc *livechat.Service, ev *livechat.DomainEvent, v string) (any, error) {
	d := ev.Data.(livechat.UserChangeData)
	one := &livechat.Chat{Users: []livechat.ChatUser{d.User}}
	users, err := Users(ctx, svc, one, v)
	if err != nil {
		return nil, err
	}
	p := M{"chat_id": ev.ChatID, "user": users[0], "reason": d.Reason}
	optional(p, "thread_id", ev.ThreadID)
	optional(p, "requester_id", ev.RequesterID)
	return p, nil
}

// PushFrame is the RTM push envelope.
type PushFrame struct {
	Version   string `json:"version,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	Action    string `json:"action"`
	Type      string `json:"type"`
	Payload   any    `json:"payload"`
}

// EncodePush renders ev as an agent push frame for version v ("" name: none).
func EncodePush(ctx context.Context, svc *livechat.Service, table map[livechat.Kind]PushFunc, ev *livechat.DomainEvent, v, requestID string) (string, []byte, error) {
	f := table[ev.Kind]
	if f == nil {
		return "", nil, nil
	}
	name, payload, err := f(ctx, svc, ev, v)
	if err != nil || name == "" || payload == nil {
		return "", nil, err
	}
	frame := PushFrame{RequestID: requestID, Action: name, Type: "push", Payload: payload}
	if v >= "3.3" {
		frame.Version = v
	}
	b, err := json.Marshal(frame)
	return name, b, err
}
