package api

import (
	"context"
	"slices"

	"github.com/chatbridge/chatbridge/livechat"
)

// The Customer Chat API's view of chats, threads, events and users. It
// differs from the agents' view: events keep the name "recipients" in every
// version (the Customer API never took the agents' 3.4 "visibility"), events
// and users visible to agents only are left out, and agents show as a
// customer may see them (no e-mail, routing status or tags).

// CustomerEvent renders an event for customers in version v.
func CustomerEvent(e *livechat.Event, v string) M {
	out := Event(e, v)
	if vis, ok := out["visibility"]; ok {
		delete(out, "visibility")
		out["recipients"] = vis
	}
	return out
}

// customerEvents renders the events customers may see, in order.
func customerEvents(events []livechat.Event, v string) []M {
	out := make([]M, 0, len(events))
	for i := range events {
		if events[i].Visibility == livechat.VisibilityAgents {
			continue
		}
		out = append(out, CustomerEvent(&events[i], v))
	}
	return out
}

// hiddenUsers are the chat's users customers do not see (added with
// visibility agents).
func hiddenUsers(c *livechat.Chat) map[string]bool {
	var out map[string]bool
	for _, u := range c.Users {
		if u.Visibility == livechat.VisibilityAgents {
			if out == nil {
				out = map[string]bool{}
			}
			out[u.ID] = true
		}
	}
	return out
}

// CustomerThread renders a thread with its events for customers of chat c.
func CustomerThread(c *livechat.Chat, t *livechat.Thread, events []livechat.Event, v string) M {
	hidden := hiddenUsers(c)
	userIDs := []string{}
	for _, id := range t.UserIDs {
		if !hidden[id] {
			userIDs = append(userIDs, id)
		}
	}
	out := M{
		"id": t.ID, "active": t.Active, "user_ids": userIDs, "events": customerEvents(events, v),
		"properties": props(t.Properties), "access": access(t.Access), "created_at": Timestamp(t.CreatedAt),
	}
	if t.PreviousThreadID != "" {
		out["previous_thread_id"] = t.PreviousThreadID
	}
	if t.NextThreadID != "" {
		out["next_thread_id"] = t.NextThreadID
	}
	if t.Queue != nil {
		out["queue"] = queue(*t.Queue)
	}
	return out
}

// customerUser renders one chat user for customers.
func customerUser(u livechat.ChatUser, agents map[string]*livechat.Agent, customers map[string]*livechat.Customer, v string) M {
	m := M{"id": u.ID, "type": u.Type, "present": u.Present, "events_seen_up_to": Timestamp(u.EventsSeenUpTo)}
	if a := agents[u.ID]; a != nil {
		m["name"], m["avatar"], m["job_title"] = a.Name, a.Avatar, jobTitle(a)
		if a.Kind == livechat.AgentKindBot {
			m["is_bot"] = true
		}
	}
	if cu := customers[u.ID]; cu != nil {
		for k, val := range customerProfile(cu, v) {
			m[k] = val
		}
	}
	return m
}

// CustomerUsers renders the users of a chat customers may see.
func CustomerUsers(ctx context.Context, svc *livechat.Service, c *livechat.Chat, v string) ([]M, error) {
	agents, customers, err := svc.ChatUsers(ctx, c)
	if err != nil {
		return nil, err
	}
	out := make([]M, 0, len(c.Users))
	for _, u := range c.Users {
		if u.Visibility != livechat.VisibilityAgents {
			out = append(out, customerUser(u, agents, customers, v))
		}
	}
	return out, nil
}

// CustomerChat renders a chat with one thread (when view has one) for customers.
func CustomerChat(ctx context.Context, svc *livechat.Service, view *livechat.ChatView, v string) (M, error) {
	users, err := CustomerUsers(ctx, svc, view.Chat, v)
	if err != nil {
		return nil, err
	}
	out := M{"id": view.Chat.ID, "users": users, "properties": props(view.Chat.Properties), "access": access(view.Chat.Access)}
	if view.Thread != nil {
		out["thread"] = CustomerThread(view.Chat, view.Thread, view.Events, v)
	}
	return out, nil
}

// customerProfile is a customer's own fields as the Customer Chat API shows
// them (no agent-side data: groups, followers, visits).
func customerProfile(cu *livechat.Customer, v string) M {
	fields := cu.SessionFields
	if fields == nil {
		fields = []map[string]string{}
	}
	out := M{"id": cu.ID, "type": livechat.UserCustomer, "session_fields": fields}
	if v >= "3.3" {
		out["email_verified"] = cu.EmailVerified
	}
	for k, val := range map[string]string{"name": cu.Name, "email": cu.Email, "avatar": cu.Avatar} {
		if val != "" {
			out[k] = val
		}
	}
	return out
}

// CustomerSelf renders the customer for itself (login, get_customer): its
// profile and statistics.
func CustomerSelf(cu *livechat.Customer, v string) M {
	out := customerProfile(cu, v)
	out["statistics"] = M{"chats_count": cu.ChatsCount, "threads_count": cu.ThreadsCount, "visits_count": cu.VisitsCount,
		"page_views_count": cu.PageViewsCount, "greetings_shown_count": 0, "greetings_accepted_count": 0}
	return out
}

// customerSummary is a chat of the customer's list_chats.
func customerSummary(ctx context.Context, c *Call, ch *livechat.Chat) (M, error) {
	view, err := c.Svc.GetChat(ctx, c.Actor, ch.ID, "")
	if err != nil {
		return nil, err
	}
	users, err := CustomerUsers(ctx, c.Svc, ch, c.Version)
	if err != nil {
		return nil, err
	}
	out := M{"id": ch.ID, "users": users, "properties": props(ch.Properties), "access": access(ch.Access), "active": ch.Active()}
	if t := view.Thread; t != nil {
		out["last_thread_id"] = t.ID
		out["last_thread_created_at"] = Timestamp(t.CreatedAt)
		last := M{}
		for i := range view.Events {
			e := &view.Events[i]
			if e.Visibility == livechat.VisibilityAgents {
				continue
			}
			last[e.Type] = M{"thread_id": t.ID, "thread_created_at": Timestamp(t.CreatedAt), "event": CustomerEvent(e, c.Version)}
		}
		out["last_event_per_type"] = last
	}
	return out, nil
}

// CustomerLogin renders the answer of a customer's login: the customer with
// statistics, its chats, and the private dynamic configuration the customer
// SDK reads its availability from (online_groups_ids, left out when every
// group is offline, and the customer's group as customer_groups.monitoring).
func CustomerLogin(ctx context.Context, svc *livechat.Service, actor livechat.Actor, cu *livechat.Customer, groupID int, v string) (M, error) {
	chats, err := svc.CustomerChats(ctx, actor)
	if err != nil {
		return nil, err
	}
	list := make([]M, 0, len(chats))
	anyActive := false
	for _, ch := range chats {
		list = append(list, M{"chat_id": ch.ChatID, "has_active_thread": ch.Active, "has_unread_events": ch.HasUnreadEvents})
		anyActive = anyActive || ch.Active
	}
	avail, err := svc.GroupAvailabilities(ctx, nil)
	if err != nil {
		return nil, err
	}
	dyn := M{"customer_groups": M{"monitoring": M{
		"id":                  groupID,
		"static_config_url":   staticConfigURL(v, groupID),
		"language_config_url": languageConfigURL(v, groupID),
	}}}
	if online := onlineGroups(avail); len(online) > 0 {
		dyn["online_groups_ids"] = online
	}
	return M{"customer": CustomerSelf(cu, v), "has_active_thread": anyActive, "chats": list, "__priv_dynamic_config": dyn}, nil
}

// onlineGroups lists the groups a customer can chat with now, by id.
func onlineGroups(avail map[int]string) []int {
	out := []int{}
	for id, st := range avail {
		if st != livechat.GroupOffline {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}
