package livechat

import (
	"context"
	"slices"
)

// validateProperties checks the namespaced shape: namespaces and names are
// non-empty, values are strings, numbers or booleans.
func validateProperties(p Properties) error {
	for ns, vals := range p {
		if ns == "" || len(ns) > 64 {
			return Errorf(TypeValidation, "property namespace must be 1 to 64 characters")
		}
		for name, v := range vals {
			if name == "" || len(name) > 64 {
				return Errorf(TypeValidation, "property name must be 1 to 64 characters")
			}
			switch x := v.(type) {
			case string:
				if len(x) > 4096 {
					return Errorf(TypeValidation, "property %s.%s is too long", ns, name)
				}
			case bool, int, int32, int64, float64:
			default:
				return Errorf(TypeValidation, "property %s.%s must be a string, number or boolean", ns, name)
			}
		}
	}
	return nil
}

func mergeProperties(dst Properties, upd Properties) Properties {
	if dst == nil {
		dst = Properties{}
	}
	for ns, vals := range upd {
		if dst[ns] == nil {
			dst[ns] = map[string]any{}
		}
		for k, v := range vals {
			dst[ns][k] = v
		}
	}
	return dst
}

func deleteProperties(dst Properties, del map[string][]string) error {
	for ns, names := range del {
		for _, n := range names {
			if _, ok := dst[ns][n]; !ok {
				return Errorf(TypeValidation, "property %s.%s is not set", ns, n)
			}
		}
	}
	for ns, names := range del {
		for _, n := range names {
			delete(dst[ns], n)
		}
		if len(dst[ns]) == 0 {
			delete(dst, ns)
		}
	}
	return nil
}

// PropertyTarget says which object a property change applies to: the chat
// (ThreadID and EventID empty), one of its threads, or one event.
type PropertyTarget struct {
	ChatID   string
	ThreadID string
	EventID  string
}

func (t PropertyTarget) kinds() (upd, del Kind) {
	switch {
	case t.EventID != "":
		return KindEventPropertiesUpdate, KindEventPropertiesDelete
	case t.ThreadID != "":
		return KindThreadPropertiesUpdate, KindThreadPropertiesDelete
	}
	return KindChatPropertiesUpdated, KindChatPropertiesDeleted
}

// UpdateProperties sets properties on a chat, thread or event. Only chat
// users (and the system) may change them.
func (s *Service) UpdateProperties(ctx context.Context, actor Actor, target PropertyTarget, props Properties) error {
	if len(props) == 0 {
		return Errorf(TypeValidation, "properties are required")
	}
	if err := validateProperties(props); err != nil {
		return err
	}
	if err := s.checkPropertyWrite(ctx, actor, target.location(), props); err != nil { // config_properties.go
		return err
	}
	kind, _ := target.kinds()
	return s.changeProperties(ctx, actor, target, func(p Properties) (Properties, error) {
		return mergeProperties(p, props), nil
	}, kind, PropertiesData{EventID: target.EventID, Properties: props})
}

// DeleteProperties removes properties from a chat, thread or event.
func (s *Service) DeleteProperties(ctx context.Context, actor Actor, target PropertyTarget, del map[string][]string) error {
	if len(del) == 0 {
		return Errorf(TypeValidation, "properties are required")
	}
	if err := s.checkPropertyDelete(ctx, actor, target.location(), del); err != nil { // config_properties.go
		return err
	}
	_, kind := target.kinds()
	return s.changeProperties(ctx, actor, target, func(p Properties) (Properties, error) {
		return p, deleteProperties(p, del)
	}, kind, PropertiesDeletedData{EventID: target.EventID, Properties: del})
}

func (s *Service) changeProperties(ctx context.Context, actor Actor, target PropertyTarget, change func(Properties) (Properties, error), kind Kind, data any) error {
	var chat *Chat
	err := s.withChat(ctx, actor, target.ChatID, func(c *Chat) error {
		chat = c
		if !actor.IsSystem() && c.User(actor.ID) == nil && !actor.IsManager() {
			return Errorf(TypeAuthorization, "Requester is not a user of this chat")
		}
		switch {
		case target.EventID != "":
			e, err := s.store.Events().Get(ctx, target.EventID)
			if err != nil || e.ChatID != c.ID || e.ThreadID != target.ThreadID || (actor.IsCustomer() && e.Visibility != VisibilityAll) {
				return notFound("Event")
			}
			if e.Properties, err = change(e.Properties); err != nil {
				return err
			}
			return s.store.Events().Replace(ctx, e.ID, e)
		case target.ThreadID != "":
			t, err := s.threadOf(ctx, c, target.ThreadID)
			if err != nil {
				return err
			}
			if t.Properties, err = change(t.Properties); err != nil {
				return err
			}
			return s.store.Threads().Replace(ctx, t.ID, t)
		}
		var err error
		c.Properties, err = change(c.Properties)
		return err
	})
	if err != nil {
		return err
	}
	s.emit(ctx, &DomainEvent{Kind: kind, ChatID: target.ChatID, ThreadID: target.ThreadID, RequesterID: actor.ID, Topics: chatTopics(chat, false), Data: data})
	return nil
}

func (s *Service) threadOf(ctx context.Context, c *Chat, threadID string) (*Thread, error) {
	t, err := s.store.Threads().Get(ctx, threadID)
	if err != nil || t.ChatID != c.ID {
		return nil, notFound("Thread")
	}
	return t, nil
}

// TagThread adds (tag true) or removes a tag on a thread. Agents only.
func (s *Service) TagThread(ctx context.Context, actor Actor, chatID, threadID, tag string, add bool) error {
	if actor.IsCustomer() {
		return Errorf(TypeAuthorization, "Customers cannot tag threads")
	}
	if tag == "" || len(tag) > 128 {
		return Errorf(TypeValidation, "tag must be 1 to 128 characters")
	}
	var chat *Chat
	err := s.withChat(ctx, actor, chatID, func(c *Chat) error {
		chat = c
		t, err := s.threadOf(ctx, c, threadID)
		if err != nil {
			return err
		}
		has := slices.Contains(t.Tags, tag)
		if add && !has {
			if err := s.checkThreadTags(ctx, []string{tag}, t.Access); err != nil { // config_tags.go
				return err
			}
		}
		switch {
		case add && has:
			return Errorf(TypeValidation, "Thread already tagged with %q", tag)
		case !add && !has:
			return Errorf(TypeValidation, "Thread is not tagged with %q", tag)
		case add:
			t.Tags = append(t.Tags, tag)
		default:
			t.Tags = slices.DeleteFunc(t.Tags, func(x string) bool { return x == tag })
		}
		return s.store.Threads().Replace(ctx, t.ID, t)
	})
	if err != nil {
		return err
	}
	kind := KindThreadTagged
	if !add {
		kind = KindThreadUntagged
	}
	s.emit(ctx, &DomainEvent{Kind: kind, ChatID: chatID, ThreadID: threadID, RequesterID: actor.ID, Topics: chatTopics(chat, false), Data: TagData{Tag: tag}})
	return nil
}

// AddUserToChat adds an agent or the customer to a chat.
func (s *Service) AddUserToChat(ctx context.Context, actor Actor, chatID, userID, userType, visibility string, requireActive bool) error {
	if actor.IsCustomer() {
		return Errorf(TypeAuthorization, "Customers cannot add users")
	}
	if visibility == "" {
		visibility = VisibilityAll
	}
	if visibility != VisibilityAll && visibility != VisibilityAgents {
		return Errorf(TypeValidation, "visibility must be all or agents")
	}
	var chat *Chat
	var added ChatUser
	err := s.withChat(ctx, actor, chatID, func(c *Chat) error {
		chat = c
		if requireActive && !c.Active() {
			return Errorf(TypeChatInactive, "Chat is inactive")
		}
		if c.User(userID) != nil {
			return Errorf(TypeValidation, "User is already in the chat")
		}
		switch userType {
		case UserAgent:
			a, err := s.store.Agents().Get(ctx, userID)
			if err != nil {
				return storeErr(err, "Agent")
			}
			if !AgentActor(a).canReadChat(c) {
				return Errorf(TypeMissingAccess, "Agent has no access to the chat")
			}
		case UserCustomer:
			if visibility != VisibilityAll {
				return Errorf(TypeValidation, "customers must be added with visibility all")
			}
			if c.CustomerID != "" && c.CustomerID != userID {
				return Errorf(TypeValidation, "a chat holds at most one customer")
			}
			if _, err := s.store.Customers().Get(ctx, userID); err != nil {
				return storeErr(err, "Customer")
			}
			c.CustomerID = userID
		default:
			return Errorf(TypeValidation, "user_type must be agent or customer")
		}
		added = ChatUser{ID: userID, Type: userType, Present: true, Visibility: visibility}
		c.Users = append(c.Users, added)
		c.Followers = slices.DeleteFunc(c.Followers, func(x string) bool { return x == userID })
		return nil
	})
	if err != nil {
		return err
	}
	s.emit(ctx, &DomainEvent{Kind: KindUserAddedToChat, ChatID: chatID, ThreadID: chat.ActiveThreadID, RequesterID: actor.ID, Topics: chatTopics(chat, false), Data: UserChangeData{User: added, Reason: "manual"}})
	return nil
}

// RemoveUserFromChat removes an agent from a chat; the customer never leaves.
func (s *Service) RemoveUserFromChat(ctx context.Context, actor Actor, chatID, userID string) error {
	if actor.IsCustomer() {
		return Errorf(TypeAuthorization, "Customers cannot remove users")
	}
	var chat *Chat
	var removed ChatUser
	var before []Topic
	err := s.withChat(ctx, actor, chatID, func(c *Chat) error {
		u := c.User(userID)
		if u == nil {
			return Errorf(TypeNotFound, "User is not in the chat")
		}
		if u.Type == UserCustomer {
			return Errorf(TypeValidation, "the customer cannot be removed from a chat")
		}
		removed = *u
		before = chatTopics(c, false) // the removed agent hears of it too
		c.Users = slices.DeleteFunc(c.Users, func(x ChatUser) bool { return x.ID == userID })
		chat = c
		return nil
	})
	if err != nil {
		return err
	}
	s.emit(ctx, &DomainEvent{Kind: KindUserRemovedFromChat, ChatID: chatID, ThreadID: chat.ActiveThreadID, RequesterID: actor.ID, Topics: before, Data: UserChangeData{User: removed, Reason: "manual"}})
	return nil
}

// FollowChat makes an agent a follower of a chat it can see; unfollow stops it.
func (s *Service) FollowChat(ctx context.Context, actor Actor, chatID string, follow bool) (*Chat, error) {
	if !actor.IsAgent() {
		return nil, Errorf(TypeAuthorization, "Only agents follow chats")
	}
	var chat *Chat
	changed := false
	err := s.withChat(ctx, actor, chatID, func(c *Chat) error {
		chat = c
		has := slices.Contains(c.Followers, actor.ID)
		switch {
		case follow && !has && c.User(actor.ID) == nil:
			c.Followers = append(c.Followers, actor.ID)
			changed = true
		case !follow && has:
			c.Followers = slices.DeleteFunc(c.Followers, func(x string) bool { return x == actor.ID })
			changed = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if changed {
		ev := &DomainEvent{Kind: KindChatUnfollowed, ChatID: chatID, RequesterID: actor.ID, Topics: []Topic{AgentTopic(actor.ID)}}
		if follow { // the new follower gets the chat as LiveChat's incoming_chat
			view, err := s.GetChat(ctx, actor, chatID, "")
			if err != nil {
				return nil, err
			}
			ev.Kind, ev.ThreadID = KindChatFollowed, chat.LastThreadID
			ev.Data = IncomingChatData{Chat: view.Chat, Thread: view.Thread, Events: view.Events}
		}
		s.emit(ctx, ev)
	}
	return chat, nil
}

// SetChatAccess replaces a chat's access groups (the core of transfer_chat
// to groups). The thread's access follows.
func (s *Service) SetChatAccess(ctx context.Context, actor Actor, chatID string, groupIDs []int) error {
	if actor.IsCustomer() {
		return Errorf(TypeAuthorization, "Customers cannot change chat access")
	}
	if err := s.checkGroups(ctx, groupIDs); err != nil {
		return err
	}
	var before []Topic
	var chat *Chat
	err := s.withChat(ctx, actor, chatID, func(c *Chat) error {
		before = chatTopics(c, true)
		c.Access = Access{GroupIDs: slices.Clone(groupIDs)}
		chat = c
		return s.syncThreadAccess(ctx, c)
	})
	if err != nil {
		return err
	}
	topics := append(before, chatTopics(chat, true)...) // old and new audiences both hear of it
	s.emit(ctx, &DomainEvent{Kind: KindChatAccessUpdated, ChatID: chatID, RequesterID: actor.ID, Topics: topics, AgentsOnly: true, Data: AccessData{Access: chat.Access}})
	return nil
}

// syncThreadAccess gives the chat's active thread the chat's access. It runs
// inside withChat.
func (s *Service) syncThreadAccess(ctx context.Context, c *Chat) error {
	if c.ActiveThreadID == "" {
		return nil
	}
	t, err := s.threadOf(ctx, c, c.ActiveThreadID)
	if err != nil {
		return err
	}
	t.Access = c.Access
	return s.store.Threads().Replace(ctx, t.ID, t)
}
