package livechat

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"sort"
	"time"
	"unicode/utf8"
)

// Core helpers for the Rocket.Chat realtime API (package bridge): events
// with client-chosen ids, and the message edits, deletions and reactions
// Rocket.Chat clients make, which LiveChat has no methods for. They are
// kept on the event itself, so every protocol sees them:
//
//   - an edit replaces the message's text and records properties
//     rocketchat.edited_at (RFC 3339) and rocketchat.edited_by (agent or
//     customer id); it is announced as KindEventUpdated (LiveChat
//     event_updated);
//   - a deletion empties the text (and drops any file, form or rich content)
//     and records rocketchat.deleted = true with deleted_at and deleted_by;
//     announced as KindEventUpdated too, so LiveChat clients see the event
//     emptied while Rocket.Chat clients get <rid>/deleteMessage;
//   - reactions are one property, rocketchat.reactions, holding the JSON
//     object {":emoji:": ["username", ...]}; announced as
//     KindEventPropertiesUpdate (LiveChat event_properties_updated).

// Event property names the Rocket.Chat helpers write, in namespace RCNamespace.
const (
	RCNamespace     = "rocketchat"
	RCEditedAt      = "edited_at"
	RCEditedBy      = "edited_by"
	RCDeleted       = "deleted"
	RCDeletedAt     = "deleted_at"
	RCDeletedBy     = "deleted_by"
	RCReactions     = "reactions"
	maxRCReactions  = 64
	maxRCReactionBy = 256
)

// rcIDRe is the shape of ids Rocket.Chat clients choose (Meteor's Random.id
// is 17 characters of [2-9A-Za-z] without look-alikes).
var rcIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidClientID says whether id may be used as a client-chosen event or chat id.
func ValidClientID(id string) bool { return rcIDRe.MatchString(id) }

// SendEventWithID is SendEvent with the event id chosen by the client
// (Rocket.Chat's sendMessage and sendMessageLivechat: the client generates
// the message _id). Sending the same id again into the same chat by the same
// author returns the stored event with created false, so a retried call is
// harmless; an id taken by another event is already_exists.
func (s *Service) SendEventWithID(ctx context.Context, actor Actor, chatID, id string, e Event, opt SendEventOptions) (*Event, bool, error) {
	if id == "" {
		ev, err := s.SendEvent(ctx, actor, chatID, e, opt)
		return ev, err == nil, err
	}
	if !ValidClientID(id) {
		return nil, false, Errorf(TypeValidation, "event id must be 1 to 64 characters of letters, digits, '_' and '-'")
	}
	if err := validateEvent(&e); err != nil {
		return nil, false, err
	}
	if err := s.checkPropertyWrite(ctx, actor, PropertyLocationEvent, e.Properties); err != nil {
		return nil, false, err
	}
	if actor.IsCustomer() && e.Visibility == VisibilityAgents {
		return nil, false, Errorf(TypeValidation, "customers cannot send events visible to agents only")
	}
	var stored *Event
	var chat *Chat
	created := false
	err := s.withChat(ctx, actor, chatID, func(c *Chat) error {
		chat = c
		if old, err := s.store.Events().Get(ctx, id); err == nil {
			if old.ChatID == c.ID && old.AuthorID == actor.ID {
				stored = old
				return errUnchanged
			}
			return Errorf(TypeAlreadyExists, "event id %s is taken", id)
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		threadID := c.ActiveThreadID
		if threadID == "" {
			return Errorf(TypeChatInactive, "Chat is inactive")
		}
		if !actor.IsSystem() && c.User(actor.ID) == nil {
			return Errorf(TypeAuthorization, "Requester is not a user of this chat")
		}
		if u := c.User(actor.ID); u != nil && u.Visibility == VisibilityAgents && e.Visibility == VisibilityAll {
			return Errorf(TypeValidation, "a user visible to agents only cannot send events visible to all")
		}
		e.ID = id
		ev, err := s.insertEvent(ctx, c, threadID, actor, e)
		stored, created = ev, err == nil
		return err
	})
	if errors.Is(err, errUnchanged) {
		return stored, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	s.emitEvent(ctx, actor, chat, stored)
	return stored, created, nil
}

// errUnchanged ends a withChat early without saving and without an error
// for the caller.
var errUnchanged = errors.New("livechat: unchanged")

// insertEvent is appendEvent keeping e.ID (set by the caller). It must run
// inside withChat.
func (s *Service) insertEvent(ctx context.Context, c *Chat, threadID string, actor Actor, e Event) (*Event, error) {
	now := s.now()
	e.ChatID, e.ThreadID, e.CreatedAt = c.ID, threadID, now
	s.describeFile(ctx, &e)
	if e.Type != EventSystemMessage || actor.IsAgent() || actor.IsCustomer() {
		e.AuthorID = actor.ID
	}
	if err := s.store.Events().Insert(ctx, &e); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, Errorf(TypeAlreadyExists, "event id %s is taken", e.ID)
		}
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

// changeEvent runs a read-modify-write of one event of a chat the actor may
// read, under the chat's lock, and announces it with kind (KindEventUpdated
// with the event, or KindEventPropertiesUpdate with the changed
// properties).
func (s *Service) changeEvent(ctx context.Context, actor Actor, chatID, eventID string, change func(c *Chat, e *Event) (Properties, error), kind Kind) (*Event, error) {
	if eventID == "" {
		return nil, Errorf(TypeValidation, "event id is required")
	}
	var chat *Chat
	var ev *Event
	var props Properties
	err := s.withChat(ctx, actor, chatID, func(c *Chat) error {
		chat = c
		e, err := s.store.Events().Get(ctx, eventID)
		if err != nil || e.ChatID != c.ID || (actor.IsCustomer() && e.Visibility != VisibilityAll) {
			return notFound("Event")
		}
		ev = e
		if props, err = change(c, e); err != nil {
			return err
		}
		return s.store.Events().Replace(ctx, e.ID, e)
	})
	if errors.Is(err, errUnchanged) {
		return ev, nil // nothing to store or announce
	}
	if err != nil {
		return nil, err
	}
	agentsOnly := ev.Visibility == VisibilityAgents
	de := &DomainEvent{Kind: kind, ChatID: chat.ID, ThreadID: ev.ThreadID, RequesterID: actor.ID, Topics: chatTopics(chat, agentsOnly), AgentsOnly: agentsOnly}
	if kind == KindEventPropertiesUpdate {
		de.Data = PropertiesData{EventID: ev.ID, Properties: props}
	} else {
		de.Data = IncomingEventData{Event: ev}
	}
	s.emit(ctx, de)
	return ev, nil
}

func setRCProperty(e *Event, vals map[string]any) Properties {
	if e.Properties == nil {
		e.Properties = Properties{}
	}
	if e.Properties[RCNamespace] == nil {
		e.Properties[RCNamespace] = map[string]any{}
	}
	for k, v := range vals {
		e.Properties[RCNamespace][k] = v
	}
	return Properties{RCNamespace: vals}
}

// EventDeleted says whether e was deleted through RetractEvent.
func EventDeleted(e *Event) bool {
	d, _ := e.Properties[RCNamespace][RCDeleted].(bool)
	return d
}

// EditEventText replaces the text of a message event (Rocket.Chat's
// updateMessage). Only its author may edit it, and not once deleted.
func (s *Service) EditEventText(ctx context.Context, actor Actor, chatID, eventID, text string) (*Event, error) {
	if text == "" || len(text) > MaxMessageText || !utf8.ValidString(text) {
		return nil, Errorf(TypeValidation, "text must be valid UTF-8 of 1 byte to 16 KB")
	}
	return s.changeEvent(ctx, actor, chatID, eventID, func(_ *Chat, e *Event) (Properties, error) {
		if actor.IsSystem() || e.AuthorID != actor.ID {
			return nil, Errorf(TypeAuthorization, "Only the author may edit an event")
		}
		if e.Type != EventMessage || EventDeleted(e) {
			return nil, Errorf(TypeValidation, "Only messages can be edited")
		}
		e.Text = text
		return setRCProperty(e, map[string]any{RCEditedAt: s.now().Format(time.RFC3339Nano), RCEditedBy: actor.ID}), nil
	}, KindEventUpdated)
}

// RetractEvent deletes an event's content (Rocket.Chat's deleteMessage):
// its author or a manager may. The event stays, emptied and marked deleted,
// so ids and counters keep their meaning.
func (s *Service) RetractEvent(ctx context.Context, actor Actor, chatID, eventID string) (*Event, error) {
	return s.changeEvent(ctx, actor, chatID, eventID, func(_ *Chat, e *Event) (Properties, error) {
		if !actor.IsManager() && (e.AuthorID == "" || e.AuthorID != actor.ID) {
			return nil, Errorf(TypeAuthorization, "Only the author or a manager may delete an event")
		}
		if EventDeleted(e) {
			return nil, Errorf(TypeValidation, "Event already deleted")
		}
		e.Text, e.URL, e.Name, e.ThumbnailURL, e.Thumbnail2xURL = "", "", "", "", ""
		e.Fields, e.Elements, e.Content, e.Postback, e.TextVars = nil, nil, nil, nil, nil
		return setRCProperty(e, map[string]any{RCDeleted: true, RCDeletedAt: s.now().Format(time.RFC3339Nano), RCDeletedBy: actor.ID}), nil
	}, KindEventUpdated)
}

// EventReactions decodes the reactions stored on e: emoji → usernames.
func EventReactions(e *Event) map[string][]string {
	raw, _ := e.Properties[RCNamespace][RCReactions].(string)
	if raw == "" {
		return nil
	}
	var r map[string][]string
	if json.Unmarshal([]byte(raw), &r) != nil {
		return nil
	}
	return r
}

// ReactToEvent adds (react true) or removes username's reaction emoji on
// an event (Rocket.Chat's setReaction; react nil toggles). Anyone who may
// read the chat may react. It returns the event as stored.
func (s *Service) ReactToEvent(ctx context.Context, actor Actor, chatID, eventID, emoji, username string, react *bool) (*Event, error) {
	if emoji == "" || len(emoji) > 64 || username == "" {
		return nil, Errorf(TypeValidation, "emoji and username are required")
	}
	return s.changeEvent(ctx, actor, chatID, eventID, func(_ *Chat, e *Event) (Properties, error) {
		if EventDeleted(e) {
			return nil, Errorf(TypeValidation, "Event deleted")
		}
		r := EventReactions(e)
		if r == nil {
			r = map[string][]string{}
		}
		has := slices.Contains(r[emoji], username)
		on := !has
		if react != nil {
			on = *react
		}
		switch {
		case on && !has:
			if len(r) >= maxRCReactions && r[emoji] == nil || len(r[emoji]) >= maxRCReactionBy {
				return nil, Errorf(TypeLimitReached, "Too many reactions")
			}
			r[emoji] = append(r[emoji], username)
		case !on && has:
			r[emoji] = slices.DeleteFunc(r[emoji], func(u string) bool { return u == username })
			if len(r[emoji]) == 0 {
				delete(r, emoji)
			}
		default:
			return nil, errUnchanged
		}
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		return setRCProperty(e, map[string]any{RCReactions: string(b)}), nil
	}, KindEventPropertiesUpdate)
}

// EventRange selects events of one chat for ListChatEvents: created strictly
// after After and strictly before Before (zero: unbounded), at most Limit
// (0: no limit), newest first when Desc.
type EventRange struct {
	After, Before time.Time
	Limit         int
	Desc          bool
}

// ListChatEvents returns the events of a chat, across its threads, that the
// actor may see (customers only events visible to all).
func (s *Service) ListChatEvents(ctx context.Context, actor Actor, chatID string, r EventRange) ([]Event, error) {
	c, err := s.readChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	q := Query{Where: []Cond{Eq("chat_id", c.ID)}, Sort: "created_at", Desc: r.Desc, Limit: r.Limit}
	if !r.After.IsZero() {
		q.Where = append(q.Where, Cond{Field: "created_at", Op: OpGt, Value: r.After})
	}
	if !r.Before.IsZero() {
		q.Where = append(q.Where, Cond{Field: "created_at", Op: OpLt, Value: r.Before})
	}
	if actor.IsCustomer() {
		q.Where = append(q.Where, Eq("visibility", VisibilityAll))
	}
	evs, err := s.store.Events().Find(ctx, q)
	if err != nil {
		return nil, err
	}
	// Events of one millisecond keep their insertion order (ids sort by
	// creation for server ids; client ids do not, so sort stably by time).
	sort.SliceStable(evs, func(i, j int) bool {
		if r.Desc {
			return evs[i].CreatedAt.After(evs[j].CreatedAt)
		}
		return evs[i].CreatedAt.Before(evs[j].CreatedAt)
	})
	return evs, nil
}

// GetChatEvent returns one event of a chat the actor may read.
func (s *Service) GetChatEvent(ctx context.Context, actor Actor, eventID string) (*Event, *Chat, error) {
	if eventID == "" {
		return nil, nil, Errorf(TypeValidation, "event id is required")
	}
	e, err := s.store.Events().Get(ctx, eventID)
	if err != nil {
		return nil, nil, storeErr(err, "Event")
	}
	c, err := s.readChat(ctx, actor, e.ChatID)
	if err != nil {
		return nil, nil, err
	}
	if actor.IsCustomer() && e.Visibility != VisibilityAll {
		return nil, nil, notFound("Event")
	}
	return e, c, nil
}
