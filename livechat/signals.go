package livechat

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
)

// SendTypingIndicator tells a chat's other users that the requester is (or
// stopped) typing. Nothing is stored. The requester must be a chat user and
// the chat active; visibility agents keeps it from the customer.
func (s *Service) SendTypingIndicator(ctx context.Context, actor Actor, chatID, visibility string, isTyping bool) error {
	if visibility == "" {
		visibility = VisibilityAll
	}
	if visibility != VisibilityAll && visibility != VisibilityAgents {
		return Errorf(TypeValidation, "visibility must be all or agents")
	}
	c, err := s.readChat(ctx, actor, chatID)
	if err != nil {
		return err
	}
	if !actor.IsSystem() && c.User(actor.ID) == nil {
		return Errorf(TypeAuthorization, "Requester is not a user of this chat")
	}
	if !c.Active() {
		return Errorf(TypeChatInactive, "Chat is inactive")
	}
	agentsOnly := visibility == VisibilityAgents
	if actor.IsCustomer() && agentsOnly {
		return Errorf(TypeValidation, "customers cannot send typing indicators visible to agents only")
	}
	// The chat's users and followers but not its groups, and not the author.
	var topics []Topic
	self := AgentTopic(actor.ID)
	if actor.IsCustomer() {
		self = CustomerTopic(actor.ID)
	}
	for _, t := range chatTopics(c, agentsOnly) {
		if t != self && !strings.HasPrefix(string(t), "group:") {
			topics = append(topics, t)
		}
	}
	s.emit(ctx, &DomainEvent{Kind: KindIncomingTypingIndicator, ChatID: c.ID, ThreadID: c.ActiveThreadID, RequesterID: actor.ID, Topics: topics, AgentsOnly: agentsOnly,
		Data: TypingIndicatorData{AuthorID: actor.ID, Visibility: visibility, Timestamp: s.now(), IsTyping: isTyping}})
	return nil
}

// MulticastInput names the recipients and content of a multicast.
type MulticastInput struct {
	AllAgents   bool
	AgentIDs    []string
	GroupIDs    []int
	CustomerIDs []string
	// Content is any JSON value; required.
	Content json.RawMessage
	Type    string
}

// maxMulticastContent bounds a multicast's content.
const maxMulticastContent = 64 * 1024

// Multicast sends chat-unrelated content to agents (all, by id, by group)
// and customers (by id). Nothing is stored. Agents only; an agent who does not
// manage the organization may address only groups it belongs to.
func (s *Service) Multicast(ctx context.Context, actor Actor, in MulticastInput) error {
	if !actor.IsAgent() && !actor.IsSystem() {
		return Errorf(TypeAuthorization, "Only agents can multicast")
	}
	if !in.AllAgents && len(in.AgentIDs) == 0 && len(in.GroupIDs) == 0 && len(in.CustomerIDs) == 0 {
		return Errorf(TypeValidation, "recipients must name agents.all, agents.ids, agents.groups or customers.ids")
	}
	raw := strings.TrimSpace(string(in.Content))
	if raw == "" || raw == "null" {
		return Errorf(TypeValidation, "content is required")
	}
	if len(raw) > maxMulticastContent {
		return Errorf(TypeValidation, "content is larger than 64 KB")
	}
	var content any
	if err := json.Unmarshal([]byte(raw), &content); err != nil {
		return Errorf(TypeValidation, "content must be JSON")
	}
	if len(in.Type) > 256 {
		return Errorf(TypeValidation, "type is too long")
	}
	if len(in.AgentIDs)+len(in.GroupIDs)+len(in.CustomerIDs) > 1000 {
		return Errorf(TypeValidation, "too many recipients")
	}
	if actor.IsAgent() && !actor.IsManager() {
		mine := actor.Agent.GroupIDs()
		for _, g := range in.GroupIDs {
			if !slices.Contains(mine, g) {
				return Errorf(TypeMissingAccess, "Requester is not a member of group %d", g)
			}
		}
	}
	var topics []Topic
	if in.AllAgents {
		topics = append(topics, OrgTopic)
	}
	for _, id := range in.AgentIDs {
		topics = append(topics, AgentTopic(strings.ToLower(id)))
	}
	for _, g := range in.GroupIDs {
		topics = append(topics, GroupTopic(g))
	}
	for _, id := range in.CustomerIDs {
		topics = append(topics, CustomerTopic(id))
	}
	s.emit(ctx, &DomainEvent{Kind: KindIncomingMulticast, RequesterID: actor.ID, Topics: topics, Data: MulticastData{AuthorID: actor.ID, Content: content, Type: in.Type}})
	return nil
}

// SendRichMessagePostback records that the requester toggled a rich message
// button: the button's user_ids gain or lose the requester (event_updated),
// and the chat hears incoming_rich_message_postback. The thread must be
// active; the requester must be able to read the chat.
func (s *Service) SendRichMessagePostback(ctx context.Context, actor Actor, chatID, threadID, eventID, postbackID string, toggled bool) error {
	if chatID == "" || threadID == "" || eventID == "" || postbackID == "" {
		return Errorf(TypeValidation, "chat_id, thread_id, event_id and postback.id are required")
	}
	var chat *Chat
	var updated *Event
	err := s.withChat(ctx, actor, chatID, func(c *Chat) error {
		chat = c
		t, err := s.threadOf(ctx, c, threadID)
		if err != nil {
			return err
		}
		if !t.Active {
			return Errorf(TypeChatInactive, "Thread is inactive")
		}
		e, err := s.store.Events().Get(ctx, eventID)
		if err != nil || e.ChatID != c.ID || e.ThreadID != t.ID || (actor.IsCustomer() && e.Visibility != VisibilityAll) {
			return notFound("Event")
		}
		if e.Type != EventRichMessage {
			return Errorf(TypeValidation, "event %s is not a rich message", eventID)
		}
		elements, changed, err := toggleButton(e.Elements, postbackID, actor.ID, toggled)
		if err != nil {
			return err
		}
		if changed {
			e.Elements = elements
			if err := s.store.Events().Replace(ctx, e.ID, e); err != nil {
				return err
			}
			updated = e
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.emit(ctx, &DomainEvent{Kind: KindIncomingRichMessagePostback, ChatID: chatID, ThreadID: threadID, RequesterID: actor.ID, Topics: chatTopics(chat, false),
		Data: RichMessagePostbackData{UserID: actor.ID, EventID: eventID, PostbackID: postbackID, Toggled: toggled}})
	if updated != nil {
		agentsOnly := updated.Visibility == VisibilityAgents
		s.emit(ctx, &DomainEvent{Kind: KindEventUpdated, ChatID: chatID, ThreadID: threadID, RequesterID: actor.ID, Topics: chatTopics(chat, agentsOnly), AgentsOnly: agentsOnly, Data: IncomingEventData{Event: updated}})
	}
	return nil
}

// richButton is the part of a rich message button a postback reads.
type richButton struct {
	PostbackID string   `json:"postback_id"`
	UserIDs    []string `json:"user_ids"`
}

// toggleButton adds userID to (or removes it from) the user_ids of the
// buttons whose postback_id is id. The elements are stored as decoded JSON of
// whatever map type the store hands back, so they go through JSON once.
func toggleButton(elements []any, id, userID string, on bool) ([]any, bool, error) {
	b, err := json.Marshal(elements)
	if err != nil {
		return nil, false, err
	}
	var els []map[string]any
	if err := json.Unmarshal(b, &els); err != nil {
		return nil, false, Errorf(TypeValidation, "the rich message has no buttons")
	}
	found, changed := false, false
	for _, el := range els {
		buttons, _ := el["buttons"].([]any)
		for _, raw := range buttons {
			btn, ok := raw.(map[string]any)
			if !ok {
				continue
			}
			var rb richButton
			bb, _ := json.Marshal(btn)
			_ = json.Unmarshal(bb, &rb)
			if rb.PostbackID != id {
				continue
			}
			found = true
			has := slices.Contains(rb.UserIDs, userID)
			switch {
			case on && !has:
				rb.UserIDs = append(rb.UserIDs, userID)
			case !on && has:
				rb.UserIDs = slices.DeleteFunc(rb.UserIDs, func(x string) bool { return x == userID })
			default:
				continue
			}
			ids := make([]any, 0, len(rb.UserIDs))
			for _, u := range rb.UserIDs {
				ids = append(ids, u)
			}
			btn["user_ids"] = ids
			changed = true
		}
	}
	if !found {
		return nil, false, Errorf(TypeValidation, "the rich message has no button with postback id %q", id)
	}
	out := make([]any, 0, len(els))
	for _, el := range els {
		out = append(out, el)
	}
	return out, changed, nil
}
