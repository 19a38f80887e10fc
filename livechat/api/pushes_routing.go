package api

import (
	"context"

	"github.com/chatbridge/chatbridge/livechat"
)

// Agent pushes of routing, presence and the chat-unrelated signals.
func init() {
	for _, k := range []livechat.Kind{livechat.KindChatTransferred, livechat.KindQueuePositionsUpdated,
		livechat.KindChatAccessGranted, livechat.KindChatAccessRevoked} {
		GroupReach[k] = true
	}
	AgentPushes[livechat.KindRoutingStatusSet] = fixed("routing_status_set", "3.2", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		d := ev.Data.(livechat.RoutingStatusData)
		return M{"agent_id": d.AgentID, "status": d.Status}, nil
	})
	AgentPushes[livechat.KindQueuePositionsUpdated] = fixed("queue_positions_updated", "3.2", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		d := ev.Data.(livechat.QueuePositionsData)
		out := make([]M, 0, len(d.Positions))
		for _, p := range d.Positions {
			out = append(out, M{"chat_id": p.ChatID, "thread_id": p.ThreadID, "queue": queue(p.Queue)})
		}
		return out, nil
	})
	AgentPushes[livechat.KindChatTransferred] = fixed("chat_transferred", "3.2", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		d := ev.Data.(livechat.ChatTransferredData)
		p := M{"chat_id": ev.ChatID, "reason": d.Reason, "transferred_to": transferTarget(d.TransferredTo)}
		optional(p, "thread_id", ev.ThreadID)
		optional(p, "requester_id", ev.RequesterID)
		if d.Queue != nil {
			p["queue"] = queue(*d.Queue)
		}
		return p, nil
	})
	AgentPushes[livechat.KindChatAssigned] = fixed("incoming_chat", "3.2", func(ctx context.Context, svc *livechat.Service, ev *livechat.DomainEvent, v string) (any, error) {
		d := ev.Data.(livechat.ChatAssignedData)
		plain := *ev
		plain.Data = d.IncomingChatData
		p, err := incomingChat(ctx, svc, &plain, v)
		if m, ok := p.(M); ok && d.TransferredFrom != nil {
			m["transferred_from"] = transferTarget(*d.TransferredFrom)
		}
		return p, err
	})
	AgentPushes[livechat.KindIncomingTypingIndicator] = fixed("incoming_typing_indicator", "3.2", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, v string) (any, error) {
		d := ev.Data.(livechat.TypingIndicatorData)
		ti := M{"author_id": d.AuthorID, "timestamp": d.Timestamp.Unix(), "is_typing": d.IsTyping}
		if v < "3.4" {
			ti["recipients"] = d.Visibility
		} else {
			ti["visibility"] = d.Visibility
		}
		return M{"chat_id": ev.ChatID, "thread_id": ev.ThreadID, "typing_indicator": ti}, nil
	})
	AgentPushes[livechat.KindIncomingMulticast] = fixed("incoming_multicast", "3.1", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		d := ev.Data.(livechat.MulticastData)
		p := M{"content": d.Content}
		optional(p, "author_id", d.AuthorID)
		optional(p, "type", d.Type)
		return p, nil
	})
	AgentPushes[livechat.KindIncomingRichMessagePostback] = fixed("incoming_rich_message_postback", "3.1", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		d := ev.Data.(livechat.RichMessagePostbackData)
		return M{"user_id": d.UserID, "chat_id": ev.ChatID, "thread_id": ev.ThreadID, "event_id": d.EventID,
			"postback": M{"id": d.PostbackID, "toggled": d.Toggled}}, nil
	})
	AgentPushes[livechat.KindCustomerUnfollowed] = func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, v string) (string, any, error) {
		if v < "3.3" || v > "3.5" {
			return "", nil, nil
		}
		return "customer_unfollowed", M{"id": ev.Data.(livechat.CustomerData).Customer.ID}, nil
	}
	accessChange := func(name string) PushFunc {
		return func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, v string) (string, any, error) {
			if v > "3.3" { // 3.4+ hears chat_access_updated instead
				return "", nil, nil
			}
			return name, M{"id": ev.ChatID, "access": access(ev.Data.(livechat.AccessData).Access)}, nil
		}
	}
	AgentPushes[livechat.KindChatAccessGranted] = accessChange("chat_access_granted")
	AgentPushes[livechat.KindChatAccessRevoked] = accessChange("chat_access_revoked")
}

func queue(q livechat.Queue) M {
	return M{"position": q.Position, "wait_time": q.WaitTime, "queued_at": Timestamp(q.QueuedAt)}
}

func transferTarget(t livechat.TransferTarget) M {
	groups, agents := t.GroupIDs, t.AgentIDs
	if groups == nil {
		groups = []int{}
	}
	if agents == nil {
		agents = []string{}
	}
	return M{"group_ids": groups, "agent_ids": agents}
}
