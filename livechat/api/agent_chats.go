package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

// eventReq is an event as clients send it (3.3 names visibility "recipients").
type eventReq struct {
	livechat.Event
	Recipients string `json:"recipients"`
}

func (e eventReq) event() livechat.Event {
	ev := e.Event
	if ev.Visibility == "" {
		ev.Visibility = e.Recipients
	}
	ev.ID, ev.AuthorID, ev.CreatedAt = "", "", time.Time{}
	return ev
}

type threadReq struct {
	Events     []eventReq          `json:"events"`
	Properties livechat.Properties `json:"properties"`
	Tags       []string            `json:"tags"`
}

func (t *threadReq) input() livechat.ThreadInput {
	if t == nil {
		return livechat.ThreadInput{}
	}
	in := livechat.ThreadInput{Properties: t.Properties, Tags: t.Tags}
	for _, e := range t.Events {
		in.Events = append(in.Events, e.event())
	}
	return in
}

type userRef struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

type chatReq struct {
	ID         string              `json:"id"`
	Properties livechat.Properties `json:"properties"`
	Access     *livechat.Access    `json:"access"`
	Users      []userRef           `json:"users"`
	Thread     *threadReq          `json:"thread"`
}

func eventIDs(evs []livechat.Event) []string {
	ids := make([]string, 0, len(evs))
	for _, e := range evs {
		ids = append(ids, e.ID)
	}
	return ids
}

func startChat(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		Chat       chatReq `json:"chat"`
		Active     *bool   `json:"active"`
		Continuous bool    `json:"continuous"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	in := livechat.StartChatInput{Access: req.Chat.Access, Properties: req.Chat.Properties, Thread: req.Chat.Thread.input(),
		Active: req.Active == nil || *req.Active, Continuous: req.Continuous}
	for _, u := range req.Chat.Users {
		switch u.Type {
		case livechat.UserCustomer:
			in.CustomerID = u.ID
		case livechat.UserAgent:
			if u.ID != c.Actor.ID {
				in.AgentIDs = append(in.AgentIDs, u.ID)
			}
		default:
			return nil, livechat.Errorf(livechat.TypeValidation, "chat.users[].type must be agent or customer")
		}
	}
	view, err := c.Svc.StartChat(ctx, c.Actor, in)
	if err != nil {
		return nil, err
	}
	out := M{"chat_id": view.Chat.ID, "thread_id": view.Thread.ID}
	if len(view.Events) > 0 {
		out["event_ids"] = eventIDs(view.Events)
	}
	return out, nil
}

func resumeChat(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		Chat   chatReq `json:"chat"`
		Active *bool   `json:"active"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.Chat.ID != "", "chat.id"); err != nil {
		return nil, err
	}
	if req.Chat.Access != nil {
		if err := c.Svc.SetChatAccess(ctx, c.Actor, req.Chat.ID, req.Chat.Access.GroupIDs); err != nil {
			return nil, err
		}
	}
	view, err := c.Svc.ResumeChat(ctx, c.Actor, req.Chat.ID, req.Chat.Thread.input(), req.Active == nil || *req.Active)
	if err != nil {
		return nil, err
	}
	out := M{"thread_id": view.Thread.ID}
	if len(view.Events) > 0 {
		out["event_ids"] = eventIDs(view.Events)
	}
	return out, nil
}

// chatIDArg reads the chat id of the methods that renamed chat_id to id in 3.3.
type chatIDArg struct {
	ID     string `json:"id"`
	ChatID string `json:"chat_id"`
}

func (a chatIDArg) get() (string, error) {
	id := a.ID
	if id == "" {
		id = a.ChatID
	}
	return id, required(id != "", "id")
}

func deactivateChat(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		chatIDArg
		IgnoreRequesterPresence bool `json:"ignore_requester_presence"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	id, err := req.get()
	if err != nil {
		return nil, err
	}
	requirePresence := c.Version >= "3.4" && !req.IgnoreRequesterPresence
	return empty{}, c.Svc.DeactivateChat(ctx, c.Actor, id, requirePresence)
}

func followChat(follow bool) Handler {
	return func(ctx context.Context, c *Call) (any, error) {
		req, err := decode[chatIDArg](c.Payload)
		if err != nil {
			return nil, err
		}
		id, err := req.get()
		if err != nil {
			return nil, err
		}
		_, err = c.Svc.FollowChat(ctx, c.Actor, id, follow)
		return empty{}, err
	}
}

func getChat(ctx context.Context, c *Call) (any, error) {
	view, err := getChatView(ctx, c)
	if err != nil {
		return nil, err
	}
	return Chat(ctx, c.Svc, c.Actor, view, c.Version)
}

func listThreads(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		listArgs
		ChatID string `json:"chat_id"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.ChatID != "", "chat_id"); err != nil {
		return nil, err
	}
	p, err := req.resolve(3, 100)
	if err != nil {
		return nil, err
	}
	views, total, err := c.Svc.ListThreads(ctx, c.Actor, req.ChatID, p.Asc, p.Offset, p.Limit)
	if err != nil {
		return nil, err
	}
	threads := make([]M, 0, len(views))
	for _, v := range views {
		threads = append(threads, Thread(v.Thread, v.Events, c.Version))
	}
	out := M{"threads": threads, "found_threads": total}
	p.links(out, int(total))
	return out, nil
}

type chatFilters struct {
	IncludeActive *bool `json:"include_active"`
	GroupIDs      []int `json:"group_ids"`
}

func listChats(ctx context.Context, c *Call) (any, error) {
	req, err := decode[listArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	p, err := req.resolve(10, 100)
	if err != nil {
		return nil, err
	}
	var f chatFilters
	if len(p.Filters) > 0 {
		if err := json.Unmarshal(p.Filters, &f); err != nil {
			return nil, livechat.Errorf(livechat.TypeValidation, "filters are not valid")
		}
	}
	if len(f.GroupIDs) > 200 {
		return nil, livechat.Errorf(livechat.TypeValidation, "filters.group_ids holds at most 200 groups")
	}
	// include_active (default true) lists active chats too; inactive chats are always listed.
	chats, total, err := c.Svc.ListChats(ctx, c.Actor, livechat.ChatFilter{IncludeInactive: true, GroupIDs: f.GroupIDs, Asc: p.Asc})
	if err != nil {
		return nil, err
	}
	if f.IncludeActive != nil && !*f.IncludeActive {
		kept := chats[:0]
		for _, ch := range chats {
			if !ch.Active() {
				kept = append(kept, ch)
			}
		}
		chats, total = kept, len(kept)
	}
	if p.Offset < len(chats) {
		chats = chats[p.Offset:min(len(chats), p.Offset+p.Limit)]
	} else {
		chats = nil
	}
	summaries := make([]M, 0, len(chats))
	for i := range chats {
		s, err := chatSummary(ctx, c, &chats[i])
		if err != nil {
			return nil, err
		}
		summaries = append(summaries, s)
	}
	out := M{"chats_summary": summaries, "found_chats": total, "total_chats": total}
	p.links(out, total)
	return out, nil
}

// chatSummary is the list_chats / login shape of a chat.
func chatSummary(ctx context.Context, c *Call, ch *livechat.Chat) (M, error) {
	view, err := c.Svc.GetChat(ctx, c.Actor, ch.ID, "")
	if err != nil {
		return nil, err
	}
	users, err := Users(ctx, c.Svc, ch, c.Version)
	if err != nil {
		return nil, err
	}
	out := M{"id": ch.ID, "users": users, "properties": props(ch.Properties), "access": access(ch.Access), "is_followed": isFollowed(ch, c.Actor.ID)}
	if t := view.Thread; t != nil {
		userIDs := t.UserIDs
		if userIDs == nil {
			userIDs = []string{}
		}
		lts := M{"id": t.ID, "created_at": Timestamp(t.CreatedAt), "user_ids": userIDs, "properties": props(t.Properties), "active": t.Active, "access": access(t.Access)}
		if len(t.Tags) > 0 {
			lts["tags"] = t.Tags
		}
		out["last_thread_summary"] = lts
		last := M{}
		for i := range view.Events {
			e := &view.Events[i]
			last[e.Type] = M{"thread_id": t.ID, "thread_created_at": Timestamp(t.CreatedAt), "event": Event(e, c.Version)}
		}
		out["last_event_per_type"] = last
	}
	return out, nil
}

func sendEvent(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		ChatID             string    `json:"chat_id"`
		Event              *eventReq `json:"event"`
		AttachToLastThread bool      `json:"attach_to_last_thread"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.ChatID != "", "chat_id"); err != nil {
		return nil, err
	}
	if err := required(req.Event != nil, "event"); err != nil {
		return nil, err
	}
	opt := livechat.SendEventOptions{AttachToLastThread: req.AttachToLastThread, JoinIfAbsent: c.Version < "3.4"}
	ev, err := c.Svc.SendEvent(ctx, c.Actor, req.ChatID, req.Event.event(), opt)
	if err != nil {
		return nil, err
	}
	return M{"event_id": ev.ID}, nil
}

func markEventsAsSeen(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		ChatID   string `json:"chat_id"`
		SeenUpTo string `json:"seen_up_to"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.ChatID != "" && req.SeenUpTo != "", "chat_id and seen_up_to"); err != nil {
		return nil, err
	}
	t, err := time.Parse(time.RFC3339Nano, req.SeenUpTo)
	if err != nil {
		return nil, livechat.Errorf(livechat.TypeValidation, "seen_up_to must be an RFC 3339 time")
	}
	return empty{}, c.Svc.MarkEventsAsSeen(ctx, c.Actor, req.ChatID, t)
}

// ChatsSummary lists the active chats the actor is a user of, in the
// list_chats summary shape (the agent login response's chats_summary).
func ChatsSummary(ctx context.Context, svc *livechat.Service, actor livechat.Actor, v string) ([]M, error) {
	chats, _, err := svc.ListChats(ctx, actor, livechat.ChatFilter{})
	if err != nil {
		return nil, err
	}
	c := &Call{Svc: svc, Actor: actor, Version: v}
	out := []M{}
	for i := range chats {
		if chats[i].User(actor.ID) == nil {
			continue
		}
		s, err := chatSummary(ctx, c, &chats[i])
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// getChatView is get_chat's request (chat_id, thread_id?) and the chat with
// that thread as the caller may read it; the agent and customer methods
// differ only in how they render it.
func getChatView(ctx context.Context, c *Call) (*livechat.ChatView, error) {
	req, err := decode[struct {
		ChatID   string `json:"chat_id"`
		ThreadID string `json:"thread_id"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.ChatID != "", "chat_id"); err != nil {
		return nil, err
	}
	return c.Svc.GetChat(ctx, c.Actor, req.ChatID, req.ThreadID)
}
