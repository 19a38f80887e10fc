package api

import (
	"context"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

// CustomerPushes maps domain event kinds to Customer Chat API pushes. Kinds
// not in it never reach customers; events marked AgentsOnly never reach
// them either (the session refuses them), and the encoders below drop what
// is visible to agents only inside an event they do pass (events and users
// added with visibility agents).
//
// Never sent, by design: incoming_greeting, greeting_accepted and
// greeting_canceled (chatbridge has no greetings engine),
// customer_side_storage_updated (chatbridge keeps nothing on the customer's
// side) and customer_page_updated (removed from every version of the
// docs in 2024).
var CustomerPushes = map[livechat.Kind]PushFunc{}

func init() {
	// Pushes about customers that agents receive.
	AgentPushes[livechat.KindIncomingSneakPeek] = fixed("incoming_sneak_peek", "3.1", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		d := ev.Data.(livechat.SneakPeekData)
		return M{"chat_id": ev.ChatID, "thread_id": ev.ThreadID,
			"sneak_peek": M{"author_id": d.AuthorID, "text": d.Text, "timestamp": d.Timestamp.Unix()}}, nil
	})
	AgentPushes[livechat.KindCustomerPageUpdated] = fixed("customer_page_updated", "3.1", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		d := ev.Data.(livechat.CustomerPageData)
		p := M{"customer_id": d.CustomerID, "visit_id": d.VisitID, "opened_at": Timestamp(d.Page.OpenedAt), "url": d.Page.URL}
		optional(p, "title", d.Page.Title)
		return p, nil
	})

	c := CustomerPushes
	c[livechat.KindIncomingChat] = fixed("incoming_chat", "3.1", customerIncomingChat)
	c[livechat.KindChatDeactivated] = fixed("chat_deactivated", "3.1", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		p := M{"chat_id": ev.ChatID, "thread_id": ev.ThreadID}
		if d, ok := ev.Data.(livechat.ChatDeactivatedData); ok {
			optional(p, "user_id", d.UserID)
		}
		return p, nil
	})
	c[livechat.KindIncomingEvent] = fixed("incoming_event", "3.1", customerEventPush)
	c[livechat.KindEventUpdated] = fixed("event_updated", "3.1", customerEventPush)
	c[livechat.KindUserAddedToChat] = fixed("user_added_to_chat", "3.1", func(ctx context.Context, svc *livechat.Service, ev *livechat.DomainEvent, v string) (any, error) {
		d := ev.Data.(livechat.UserChangeData)
		if d.User.Visibility == livechat.VisibilityAgents {
			return nil, nil
		}
		users, err := CustomerUsers(ctx, svc, &livechat.Chat{Users: []livechat.ChatUser{d.User}}, v)
		if err != nil {
			return nil, err
		}
		p := M{"chat_id": ev.ChatID, "user": users[0], "reason": d.Reason}
		optional(p, "thread_id", ev.ThreadID)
		optional(p, "requester_id", ev.RequesterID)
		return p, nil
	})
	c[livechat.KindUserRemovedFromChat] = fixed("user_removed_from_chat", "3.1", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		d := ev.Data.(livechat.UserChangeData)
		if d.User.Visibility == livechat.VisibilityAgents {
			return nil, nil
		}
		p := M{"chat_id": ev.ChatID, "user_id": d.User.ID, "reason": d.Reason}
		optional(p, "thread_id", ev.ThreadID)
		optional(p, "requester_id", ev.RequesterID)
		return p, nil
	})
	// The property pushes: chat_id, thread_id below the chat, event_id on
	// events, and the properties changed (or the names deleted).
	for k, name := range map[livechat.Kind]string{
		livechat.KindChatPropertiesUpdated: "chat_properties_updated", livechat.KindChatPropertiesDeleted: "chat_properties_deleted",
		livechat.KindThreadPropertiesUpdate: "thread_properties_updated", livechat.KindThreadPropertiesDelete: "thread_properties_deleted",
		livechat.KindEventPropertiesUpdate: "event_properties_updated", livechat.KindEventPropertiesDelete: "event_properties_deleted",
	} {
		c[k] = fixed(name, "3.1", customerPropertiesPush)
	}
	c[livechat.KindIncomingRichMessagePostback] = fixed("incoming_rich_message_postback", "3.1", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		d := ev.Data.(livechat.RichMessagePostbackData)
		return M{"user_id": d.UserID, "chat_id": ev.ChatID, "thread_id": ev.ThreadID, "event_id": d.EventID,
			"postback": M{"id": d.PostbackID, "toggled": d.Toggled}}, nil
	})
	c[livechat.KindEventsMarkedAsSeen] = fixed("events_marked_as_seen", "3.1", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		upTo, _ := ev.Data.(time.Time)
		return M{"user_id": ev.RequesterID, "chat_id": ev.ChatID, "seen_up_to": Timestamp(upTo)}, nil
	})
	c[livechat.KindIncomingTypingIndicator] = fixed("incoming_typing_indicator", "3.1", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		d := ev.Data.(livechat.TypingIndicatorData)
		if d.Visibility == livechat.VisibilityAgents {
			return nil, nil
		}
		return M{"chat_id": ev.ChatID, "thread_id": ev.ThreadID, "typing_indicator": M{"author_id": d.AuthorID,
			"recipients": d.Visibility, "timestamp": d.Timestamp.Unix(), "is_typing": d.IsTyping}}, nil
	})
	c[livechat.KindChatTransferred] = fixed("chat_transferred", "3.1", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		d := ev.Data.(livechat.ChatTransferredData)
		to := M{}
		if len(d.TransferredTo.GroupIDs) > 0 {
			to["group_ids"] = d.TransferredTo.GroupIDs
		}
		if len(d.TransferredTo.AgentIDs) > 0 {
			to["agent_ids"] = d.TransferredTo.AgentIDs
		}
		p := M{"chat_id": ev.ChatID, "reason": d.Reason, "transferred_to": to}
		optional(p, "thread_id", ev.ThreadID)
		if d.Reason == livechat.TransferManual {
			optional(p, "requester_id", ev.RequesterID)
		}
		if d.Queue != nil {
			p["queue"] = queue(*d.Queue)
		}
		return p, nil
	})
	c[livechat.KindQueuePositionsUpdated] = fixed("queue_position_updated", "3.1", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		for _, p := range ev.Data.(livechat.QueuePositionsData).Positions {
			if p.ChatID == ev.ChatID {
				return M{"chat_id": p.ChatID, "thread_id": p.ThreadID, "queue": M{"position": p.Queue.Position, "wait_time": p.Queue.WaitTime}}, nil
			}
		}
		return nil, nil
	})
	c[livechat.KindIncomingMulticast] = fixed("incoming_multicast", "3.1", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		d := ev.Data.(livechat.MulticastData)
		p := M{"content": d.Content}
		optional(p, "author_id", d.AuthorID)
		optional(p, "type", d.Type)
		return p, nil
	})
	c[livechat.KindCustomerUpdated] = fixed("customer_updated", "3.1", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, v string) (any, error) {
		d := ev.Data.(livechat.CustomerData)
		full := customerProfile(d.Customer, v)
		if v < "3.3" {
			return M{"customer": full}, nil
		}
		p := M{"id": d.Customer.ID}
		for _, f := range d.Changed {
			if val, ok := full[f]; ok {
				p[f] = val
			}
		}
		if len(p) == 1 { // nothing a customer sees changed (a ban, its groups)
			return nil, nil
		}
		return p, nil
	})
	c[livechat.KindGroupAvailabilityChanged] = func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, v string) (string, any, error) {
		d := ev.Data.(livechat.GroupAvailability)
		if v >= "3.5" {
			return "groups_status_updated", M{"groups": []M{{"id": d.GroupID, "status": d.Status}}}, nil
		}
		// Before 3.5 the group status came as a system multicast.
		return "incoming_multicast", M{"type": "lc2", "content": M{"name": "groups_update",
			"groups": []M{{"id": d.GroupID, "status": d.Status}}}}, nil
	}
}

func customerIncomingChat(ctx context.Context, svc *livechat.Service, ev *livechat.DomainEvent, v string) (any, error) {
	d, ok := ev.Data.(livechat.IncomingChatData)
	if !ok || d.Chat == nil || d.Thread == nil {
		return nil, nil
	}
	chat, err := CustomerChat(ctx, svc, &livechat.ChatView{Chat: d.Chat, Thread: d.Thread, Events: d.Events}, v)
	if err != nil {
		return nil, err
	}
	p := M{"chat": chat}
	optional(p, "requester_id", ev.RequesterID)
	return p, nil
}

func customerPropertiesPush(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
	p := M{"chat_id": ev.ChatID}
	optional(p, "thread_id", ev.ThreadID)
	switch d := ev.Data.(type) {
	case livechat.PropertiesData:
		p["properties"] = d.Properties
		optional(p, "event_id", d.EventID)
	case livechat.PropertiesDeletedData:
		p["properties"] = d.Properties
		optional(p, "event_id", d.EventID)
	default:
		return nil, nil
	}
	return p, nil
}

func customerEventPush(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, v string) (any, error) {
	d := ev.Data.(livechat.IncomingEventData)
	if d.Event == nil || d.Event.Visibility == livechat.VisibilityAgents {
		return nil, nil
	}
	return M{"chat_id": ev.ChatID, "thread_id": ev.ThreadID, "event": CustomerEvent(d.Event, v)}, nil
}

// CustomerRequestCopy says whether a customer's own copy of a push carries
// its request's request_id: only for the customer's own changes. The
// customer SDK resolves start_chat, resume_chat and send_event with the
// incoming_chat / incoming_event that carries the request's id, and fails on
// a second one; what the router does while the request runs (the agent it
// assigns, the system message) is not the requester's answer.
func CustomerRequestCopy(actor livechat.Actor, ev *livechat.DomainEvent) bool {
	return ev.RequesterID != "" && ev.RequesterID == actor.ID
}

// CustomerDisconnectOn closes a customer's sessions when the customer is
// banned (customer_disconnected with reason customer_banned).
func CustomerDisconnectOn(actor livechat.Actor, ev *livechat.DomainEvent) string {
	if ev.Kind != livechat.KindCustomerUpdated || !actor.IsCustomer() {
		return ""
	}
	d, ok := ev.Data.(livechat.CustomerData)
	if !ok || d.Customer == nil || d.Customer.ID != actor.ID {
		return ""
	}
	for _, f := range d.Changed {
		if f == "banned" {
			return "customer_banned"
		}
	}
	return ""
}
