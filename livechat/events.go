package livechat

import (
	"context"
	"slices"
	"sort"
	"time"
	"unicode/utf8"
)

// MaxMessageText is the largest message text accepted (16 KB, as LiveChat).
const MaxMessageText = 16 * 1024

// validateEvent checks an event as a client sent it and fills defaults.
func validateEvent(e *Event) error {
	if e.Visibility == "" {
		e.Visibility = VisibilityAll
	}
	if e.Visibility != VisibilityAll && e.Visibility != VisibilityAgents {
		return Errorf(TypeValidation, "event.visibility must be all or agents")
	}
	if len(e.CustomID) > 256 {
		return Errorf(TypeValidation, "event.custom_id is too long")
	}
	if err := validateProperties(e.Properties); err != nil {
		return err
	}
	switch e.Type {
	case EventMessage:
		if e.Text == "" {
			return Errorf(TypeValidation, "event.text is required for a message")
		}
		if len(e.Text) > MaxMessageText || !utf8.ValidString(e.Text) {
			return Errorf(TypeValidation, "event.text must be valid UTF-8 of at most 16 KB")
		}
	case EventSystemMessage:
		if e.SystemMessageType == "" {
			e.SystemMessageType = "custom"
		}
	case EventFile:
		if e.URL == "" {
			return Errorf(TypeValidation, "event.url is required for a file")
		}
	case EventForm, EventFilledForm:
		if e.FormID == "" || len(e.Fields) == 0 {
			return Errorf(TypeValidation, "event.form_id and event.fields are required for a %s", e.Type)
		}
	case EventRichMessage:
		if !slices.Contains([]string{"cards", "sticker", "quick_replies"}, e.TemplateID) {
			return Errorf(TypeValidation, "event.template_id must be cards, sticker or quick_replies")
		}
		if len(e.Elements) > 10 {
			return Errorf(TypeValidation, "a rich message holds at most 10 elements")
		}
	case EventCustom:
	case "":
		return Errorf(TypeValidation, "event.type is required")
	default:
		return Errorf(TypeValidation, "unknown event type %q", e.Type)
	}
	return nil
}

// SendEventOptions tunes SendEvent for the protocol versions that differ.
type SendEventOptions struct {
	// AttachToLastThread lets a system_message go to the last thread of an inactive chat.
	AttachToLastThread bool
	// JoinIfAbsent adds a non-member agent sender as a user with present false
	// (LiveChat 3.3 and earlier); otherwise non-members are refused.
	JoinIfAbsent bool
	// AttachAnyType lets any event type go to the last thread with
	// AttachToLastThread (the Customer Chat API: e.g. a post-chat form).
	AttachAnyType bool
}

// SendEvent adds an event to the chat's active thread and returns it as stored.
func (s *Service) SendEvent(ctx context.Context, actor Actor, chatID string, e Event, opt SendEventOptions) (*Event, error) {
	if err := validateEvent(&e); err != nil {
		return nil, err
	}
	if err := s.checkPropertyWrite(ctx, actor, PropertyLocationEvent, e.Properties); err != nil { // config_properties.go
		return nil, err
	}
	if actor.IsCustomer() && e.Visibility == VisibilityAgents {
		return nil, Errorf(TypeValidation, "customers cannot send events visible to agents only")
	}
	var joined *ChatUser
	var stored *Event
	var chat *Chat
	err := s.withChat(ctx, actor, chatID, func(c *Chat) error {
		chat = c
		threadID := c.ActiveThreadID
		if threadID == "" {
			if !(opt.AttachToLastThread && (e.Type == EventSystemMessage || opt.AttachAnyType) && c.LastThreadID != "") {
				return Errorf(TypeChatInactive, "Chat is inactive")
			}
			threadID = c.LastThreadID
		}
		if !actor.IsSystem() && c.User(actor.ID) == nil {
			if !actor.IsAgent() || !opt.JoinIfAbsent {
				return Errorf(TypeAuthorization, "Requester is not a user of this chat")
			}
			c.Users = append(c.Users, ChatUser{ID: actor.ID, Type: UserAgent, Present: false, Visibility: VisibilityAll})
			joined = &c.Users[len(c.Users)-1]
		}
		if u := c.User(actor.ID); u != nil && u.Visibility == VisibilityAgents && e.Visibility == VisibilityAll {
			return Errorf(TypeValidation, "a user visible to agents only cannot send events visible to all")
		}
		ev, err := s.appendEvent(ctx, c, threadID, actor, e)
		stored = ev
		return err
	})
	if err != nil {
		return nil, err
	}
	if joined != nil {
		s.emit(ctx, &DomainEvent{Kind: KindUserAddedToChat, ChatID: chatID, ThreadID: stored.ThreadID, RequesterID: actor.ID, Topics: chatTopics(chat, false), Data: UserChangeData{User: *joined, Reason: "manual"}})
	}
	s.emitEvent(ctx, actor, chat, stored)
	return stored, nil
}

// appendEvent writes e into thread threadID of chat c. It must run inside
// withChat (which holds the chat's lock and saves c afterwards). The event is
// written first, so an acknowledged event is stored even if the bookkeeping
// after it fails.
func (s *Service) appendEvent(ctx context.Context, c *Chat, threadID string, actor Actor, e Event) (*Event, error) {
	now := s.now()
	e.ID, e.ChatID, e.ThreadID, e.CreatedAt = NewID(), c.ID, threadID, now
	s.describeFile(ctx, &e) // uploads.go: name, type and size of our own file URLs
	if e.Type != EventSystemMessage || actor.IsAgent() || actor.IsCustomer() {
		e.AuthorID = actor.ID
	}
	if e.Type == EventSystemMessage && actor.IsSystem() {
		e.AuthorID = ""
	}
	if err := s.store.Events().Insert(ctx, &e); err != nil {
		return nil, err
	}
	t, err := s.store.Threads().Get(ctx, threadID)
	if err != nil {
		return nil, err
	}
	t.EventCount++
	t.LastEventAt = now
	if e.AuthorID != "" {
		t.UserIDs = addUnique(t.UserIDs, e.AuthorID)
	}
	if err := s.store.Threads().Replace(ctx, t.ID, t); err != nil {
		return nil, err
	}
	c.LastEventAt = now
	if u := c.User(e.AuthorID); u != nil {
		u.EventsSeenUpTo = now
	}
	return &e, nil
}

// emitEvent publishes an added event to the chat's audience.
func (s *Service) emitEvent(ctx context.Context, actor Actor, c *Chat, e *Event) {
	agentsOnly := e.Visibility == VisibilityAgents
	s.emit(ctx, &DomainEvent{Kind: KindIncomingEvent, ChatID: c.ID, ThreadID: e.ThreadID, RequesterID: actor.ID,
		Topics: chatTopics(c, agentsOnly), AgentsOnly: agentsOnly, Data: IncomingEventData{Event: e}})
}

// ListEvents returns the events of a thread the actor may see, oldest first.
func (s *Service) threadEvents(ctx context.Context, actor Actor, threadID string) ([]Event, error) {
	q := Query{Where: []Cond{Eq("thread_id", threadID)}}
	if actor.IsCustomer() {
		q.Where = append(q.Where, Eq("visibility", VisibilityAll))
	}
	evs, err := s.store.Events().Find(ctx, q)
	if err != nil {
		return nil, err
	}
	// Oldest first: the store's natural order is insertion order, which an
	// import does not promise; ties keep it.
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].CreatedAt.Before(evs[j].CreatedAt) })
	return evs, nil
}

// MarkEventsAsSeen moves the actor's seen marker in a chat forward.
func (s *Service) MarkEventsAsSeen(ctx context.Context, actor Actor, chatID string, upTo time.Time) error {
	var chat *Chat
	err := s.withChat(ctx, actor, chatID, func(c *Chat) error {
		chat = c
		u := c.User(actor.ID)
		if u == nil {
			return Errorf(TypeAuthorization, "Requester is not a user of this chat")
		}
		if upTo.After(u.EventsSeenUpTo) {
			u.EventsSeenUpTo = upTo.UTC()
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.emit(ctx, &DomainEvent{Kind: KindEventsMarkedAsSeen, ChatID: chatID, RequesterID: actor.ID, Topics: chatTopics(chat, false), Data: upTo})
	return nil
}
