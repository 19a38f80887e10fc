package api

import (
	"context"
	"encoding/json"

	"github.com/chatbridge/chatbridge/livechat"
)

// The chat methods of the Customer Chat API. Authorization is the core's:
// a customer reaches only its own chats, and another customer's chat is
// not_found.

// customerChatReq is start_chat's and resume_chat's chat: a customer cannot
// name users (it is the chat's one customer; agents come from routing).
type customerChatReq struct {
	ID         string              `json:"id"`
	Properties livechat.Properties `json:"properties"`
	Access     *livechat.Access    `json:"access"`
	Users      json.RawMessage     `json:"users"` // accepted for the RTM doc's shape, ignored
	Thread     *threadReq          `json:"thread"`
}

func customerStartChat(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		Chat       *customerChatReq `json:"chat"`
		Active     *bool            `json:"active"`
		Continuous bool             `json:"continuous"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	chat := req.Chat
	if chat == nil {
		chat = &customerChatReq{}
	}
	in := livechat.StartChatInput{Access: chat.Access, Properties: chat.Properties, Thread: chat.Thread.input(),
		Active: req.Active == nil || *req.Active, Continuous: req.Continuous}
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

func customerResumeChat(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		Chat       *customerChatReq `json:"chat"`
		Active     *bool            `json:"active"`
		Continuous *bool            `json:"continuous"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.Chat != nil && req.Chat.ID != "", "chat.id"); err != nil {
		return nil, err
	}
	opts := livechat.ResumeOptions{Access: req.Chat.Access, Properties: req.Chat.Properties, Continuous: req.Continuous}
	view, err := c.Svc.ResumeChatWith(ctx, c.Actor, req.Chat.ID, opts, req.Chat.Thread.input(), req.Active == nil || *req.Active)
	if err != nil {
		return nil, err
	}
	out := M{"thread_id": view.Thread.ID}
	if len(view.Events) > 0 {
		out["event_ids"] = eventIDs(view.Events)
	}
	return out, nil
}

func customerDeactivateChat(ctx context.Context, c *Call) (any, error) {
	req, err := decode[chatIDArg](c.Payload)
	if err != nil {
		return nil, err
	}
	id, err := req.get()
	if err != nil {
		return nil, err
	}
	return empty{}, c.Svc.DeactivateChat(ctx, c.Actor, id, false)
}

func customerGetChat(ctx context.Context, c *Call) (any, error) {
	view, err := getChatView(ctx, c)
	if err != nil {
		return nil, err
	}
	return CustomerChat(ctx, c.Svc, view, c.Version)
}

func customerListChats(ctx context.Context, c *Call) (any, error) {
	req, err := decode[listArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	req.Filters = nil // the Customer Chat API has no list_chats filters
	p, err := req.resolve(10, 25)
	if err != nil {
		return nil, err
	}
	chats, total, err := c.Svc.ListChats(ctx, c.Actor, livechat.ChatFilter{IncludeInactive: true, Asc: p.Asc, Skip: p.Offset, Limit: p.Limit})
	if err != nil {
		return nil, err
	}
	summaries := make([]M, 0, len(chats))
	for i := range chats {
		s, err := customerSummary(ctx, c, &chats[i])
		if err != nil {
			return nil, err
		}
		summaries = append(summaries, s)
	}
	out := M{"chats_summary": summaries, "total_chats": total}
	p.links(out, total)
	return out, nil
}

// listThreadsPage is what a list_threads page token keeps beside the
// offset: the min_events_count of the first call.
type listThreadsPage struct {
	MinEvents int `json:"min_events_count,omitempty"`
}

func customerListThreads(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		listArgs
		ChatID         string `json:"chat_id"`
		MinEventsCount *int   `json:"min_events_count"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.ChatID != "", "chat_id"); err != nil {
		return nil, err
	}
	args := req.listArgs
	args.Filters = nil
	if m := req.MinEventsCount; m != nil {
		switch {
		case args.PageID != "":
			return nil, livechat.Errorf(livechat.TypeValidation, "page_id cannot be combined with min_events_count")
		case args.Limit != 0:
			return nil, livechat.Errorf(livechat.TypeValidation, "min_events_count cannot be combined with limit")
		case *m < 1 || *m > 100:
			return nil, livechat.Errorf(livechat.TypeValidation, "min_events_count must be 1 to 100")
		}
		args.Filters, _ = json.Marshal(listThreadsPage{MinEvents: *m})
	}
	p, err := args.resolve(3, 100)
	if err != nil {
		return nil, err
	}
	var state listThreadsPage
	if len(p.Filters) > 0 && json.Unmarshal(p.Filters, &state) != nil {
		return nil, livechat.Errorf(livechat.TypeValidation, "page_id is not valid")
	}
	var views []livechat.ChatView
	var total int64
	if state.MinEvents > 0 {
		views, total, err = threadsWithEvents(ctx, c, req.ChatID, p, state.MinEvents)
	} else {
		views, total, err = c.Svc.ListThreads(ctx, c.Actor, req.ChatID, p.Asc, p.Offset, p.Limit)
	}
	if err != nil {
		return nil, err
	}
	threads := make([]M, 0, len(views))
	for _, v := range views {
		threads = append(threads, CustomerThread(v.Chat, v.Thread, v.Events, c.Version))
	}
	out := M{"threads": threads, "found_threads": total}
	if state.MinEvents > 0 { // pages hold as many threads as it takes
		p.Limit = max(1, len(views))
	}
	p.links(out, int(total))
	return out, nil
}

// threadsWithEvents reads threads from p's offset until they hold at least
// minEvents events customers see (or the threads run out).
func threadsWithEvents(ctx context.Context, c *Call, chatID string, p page, minEvents int) ([]livechat.ChatView, int64, error) {
	const batch = 5
	var out []livechat.ChatView
	var total int64
	events := 0
	for off := p.Offset; ; off += batch {
		views, n, err := c.Svc.ListThreads(ctx, c.Actor, chatID, p.Asc, off, batch)
		if err != nil {
			return nil, 0, err
		}
		total = n
		for _, v := range views {
			out = append(out, v)
			events += len(v.Events)
			if events >= minEvents {
				return out, total, nil
			}
		}
		if len(views) < batch {
			return out, total, nil
		}
	}
}

func customerSendEvent(ctx context.Context, c *Call) (any, error) {
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
	opt := livechat.SendEventOptions{AttachToLastThread: req.AttachToLastThread, AttachAnyType: true}
	ev, err := c.Svc.SendEvent(ctx, c.Actor, req.ChatID, req.Event.event(), opt)
	if err != nil {
		return nil, err
	}
	return M{"event_id": ev.ID}, nil
}

func customerSendSneakPeek(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		ChatID        string  `json:"chat_id"`
		SneakPeekText *string `json:"sneak_peek_text"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.ChatID != "" && req.SneakPeekText != nil, "chat_id and sneak_peek_text"); err != nil {
		return nil, err
	}
	return empty{}, c.Svc.SendSneakPeek(ctx, c.Actor, req.ChatID, *req.SneakPeekText)
}
