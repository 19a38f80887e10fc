package livechat

import (
	"context"
	"slices"
	"sort"
)

// chatTopics is the audience of a chat push: its agents and followers, its
// customer (unless agentsOnly) and the agents of its access groups.
func chatTopics(c *Chat, agentsOnly bool) []Topic {
	topics := make([]Topic, 0, len(c.Users)+len(c.Followers)+len(c.Access.GroupIDs))
	for _, u := range c.Users {
		if u.Type == UserAgent {
			topics = append(topics, AgentTopic(u.ID))
		} else if !agentsOnly {
			topics = append(topics, CustomerTopic(u.ID))
		}
	}
	if !agentsOnly && c.CustomerID != "" && c.User(c.CustomerID) == nil {
		topics = append(topics, CustomerTopic(c.CustomerID))
	}
	for _, f := range c.Followers {
		topics = append(topics, AgentTopic(f))
	}
	for _, g := range c.Access.GroupIDs {
		topics = append(topics, GroupTopic(g))
	}
	return topics
}

// readChat loads a chat the actor may see. A chat the actor may not see is
// reported as not found to customers (they must not learn it exists) and as
// missing access to agents.
func (s *Service) readChat(ctx context.Context, actor Actor, id string) (*Chat, error) {
	if id == "" {
		return nil, Errorf(TypeValidation, "chat id is required")
	}
	c, err := s.store.Chats().Get(ctx, id)
	if err != nil {
		return nil, storeErr(err, "Chat")
	}
	if !actor.canReadChat(c) {
		if actor.IsCustomer() {
			return nil, notFound("Chat")
		}
		return nil, Errorf(TypeMissingAccess, "Missing access to chat %s", id)
	}
	return c, nil
}

// withChat runs a read-modify-write of one chat under its lock and saves it
// when change succeeds.
func (s *Service) withChat(ctx context.Context, actor Actor, id string, change func(*Chat) error) error {
	defer s.locks.lock("chat:" + id)()
	c, err := s.readChat(ctx, actor, id)
	if err != nil {
		return err
	}
	if err := change(c); err != nil {
		return err
	}
	c.UpdatedAt = s.now()
	return s.store.Chats().Replace(ctx, c.ID, c)
}

// ThreadInput is the first content of a new thread.
type ThreadInput struct {
	Events     []Event
	Properties Properties
	Tags       []string
}

// StartChatInput describes a new chat. For agents, CustomerID names the
// customer to chat with (optional) and AgentIDs more agents to add; a
// customer always starts a chat for itself.
type StartChatInput struct {
	CustomerID string
	AgentIDs   []string
	Access     *Access
	Properties Properties
	Thread     ThreadInput
	// Active starts the first thread active (LiveChat's default); false
	// creates the chat with an inactive thread.
	Active     bool
	Continuous bool
}

// ChatView is a chat with one of its threads and that thread's events, as the
// actor may see them.
type ChatView struct {
	Chat   *Chat
	Thread *Thread
	Events []Event
}

// StartChat creates a chat with its first thread.
func (s *Service) StartChat(ctx context.Context, actor Actor, in StartChatInput) (*ChatView, error) {
	now := s.now()
	c := &Chat{ID: NewID(), Properties: in.Properties, Followers: []string{}, Continuous: in.Continuous, CreatedAt: now, UpdatedAt: now, Access: Access{GroupIDs: []int{0}}}
	if err := validateProperties(in.Properties); err != nil {
		return nil, err
	}
	if err := s.checkPropertyWrite(ctx, actor, PropertyLocationChat, in.Properties); err != nil { // config_properties.go
		return nil, err
	}
	if c.Properties == nil {
		c.Properties = Properties{}
	}
	if in.Access != nil {
		if err := s.checkGroups(ctx, in.Access.GroupIDs); err != nil {
			return nil, err
		}
		c.Access = Access{GroupIDs: slices.Clone(in.Access.GroupIDs)}
	}
	switch {
	case actor.IsCustomer():
		cust, err := s.store.Customers().Get(ctx, actor.ID)
		if err != nil {
			return nil, storeErr(err, "Customer")
		}
		if cust.Banned(now) {
			return nil, Errorf(TypeCustomerBanned, "Customer is banned")
		}
		if in.Access == nil && len(cust.GroupIDs) > 0 {
			c.Access = Access{GroupIDs: slices.Clone(cust.GroupIDs)}
		}
		if in.Access == nil {
			if groups := s.autoAccessForCustomer(ctx, cust); groups != nil { // config_autoaccess.go
				c.Access = Access{GroupIDs: groups}
			}
		}
		c.CustomerID = actor.ID
		c.Users = append(c.Users, ChatUser{ID: actor.ID, Type: UserCustomer, Present: true, Visibility: VisibilityAll})
	case actor.IsAgent():
		if !actor.Agent.SeesAllChats() && !groupsMeet(actor.Agent.GroupIDs(), c.Access.GroupIDs) {
			return nil, Errorf(TypeMissingAccess, "Requester has no access to groups %v", c.Access.GroupIDs)
		}
		c.Users = append(c.Users, ChatUser{ID: actor.ID, Type: UserAgent, Present: true, Visibility: VisibilityAll})
	}
	if in.CustomerID != "" && c.CustomerID == "" {
		cust, err := s.store.Customers().Get(ctx, in.CustomerID)
		if err != nil {
			return nil, storeErr(err, "Customer")
		}
		if cust.Banned(now) {
			return nil, Errorf(TypeCustomerBanned, "Customer is banned")
		}
		c.CustomerID = cust.ID
		c.Users = append(c.Users, ChatUser{ID: cust.ID, Type: UserCustomer, Present: true, Visibility: VisibilityAll})
	}
	if len(in.AgentIDs) > 4 {
		return nil, Errorf(TypeValidation, "at most 4 agents can be added to a new chat")
	}
	for _, id := range in.AgentIDs {
		if c.User(id) != nil {
			continue
		}
		a, err := s.store.Agents().Get(ctx, id)
		if err != nil {
			return nil, storeErr(err, "Agent")
		}
		if !AgentActor(a).canReadChat(c) {
			return nil, Errorf(TypeMissingAccess, "Agent %s has no access to the chat's groups", id)
		}
		c.Users = append(c.Users, ChatUser{ID: a.ID, Type: UserAgent, Present: true, Visibility: VisibilityAll})
	}
	view, err := func() (*ChatView, error) {
		// The customer's chat limit is checked and the chat created under one
		// lock, so two concurrent starts cannot both pass the check.
		defer s.locks.lockPair("customer-chats:"+c.CustomerID, "chat:"+c.ID)()
		if c.CustomerID != "" && in.Active {
			if err := s.checkCustomerChatLimit(ctx, c.CustomerID, ""); err != nil {
				return nil, err
			}
		}
		return s.openThread(ctx, actor, c, in.Thread, in.Active, true)
	}()
	if err != nil {
		return nil, err
	}
	if c.CustomerID != "" {
		s.bumpCustomerStats(ctx, c.CustomerID, 1, 1)
	}
	if actor.IsCustomer() && c.Active() {
		s.routeQueuedLogged(ctx) // routing.go: the new chat gets an agent or a place in the queue
	}
	return view, nil
}

// checkCustomerChatLimit refuses a new active chat when the customer already
// holds MaxCustomerChats of them (other than except).
func (s *Service) checkCustomerChatLimit(ctx context.Context, customerID, except string) error {
	q := Where(Eq("customer_id", customerID), Cond{Field: "active_thread_id", Op: OpNe, Value: ""})
	if except != "" {
		q.Where = append(q.Where, Cond{Field: "_id", Op: OpNe, Value: except})
	}
	n, err := s.store.Chats().Count(ctx, q)
	if err != nil {
		return err
	}
	if int(n) >= s.cfg.MaxCustomerChats {
		return Errorf(TypeLimitReached, "Customer already has %d active chat(s)", n)
	}
	return nil
}

func (s *Service) checkGroups(ctx context.Context, ids []int) error {
	if len(ids) == 0 || len(ids) > 200 {
		return Errorf(TypeValidation, "access.group_ids must hold 1 to 200 groups")
	}
	for _, id := range ids {
		if _, err := s.store.Groups().Get(ctx, id); err != nil {
			if IsType(storeErr(err, "Group"), TypeNotFound) {
				return Errorf(TypeGroupNotFound, "group %d not found", id)
			}
			return err
		}
	}
	return nil
}

// openThread creates a new thread in c with its initial events and saves
// both (insert for a new chat, replace otherwise), then announces it.
// Callers hold the chat's lock.
func (s *Service) openThread(ctx context.Context, actor Actor, c *Chat, in ThreadInput, active, newChat bool) (*ChatView, error) {
	if err := validateProperties(in.Properties); err != nil {
		return nil, err
	}
	if err := s.checkPropertyWrite(ctx, actor, PropertyLocationThread, in.Properties); err != nil {
		return nil, err
	}
	for i := range in.Events {
		if err := validateEvent(&in.Events[i]); err != nil {
			return nil, err
		}
		if err := s.checkPropertyWrite(ctx, actor, PropertyLocationEvent, in.Events[i].Properties); err != nil {
			return nil, err
		}
	}
	if err := s.checkThreadTags(ctx, in.Tags, c.Access); err != nil {
		return nil, err
	}
	now := s.now()
	if u := c.User(actor.ID); u != nil && actor.IsCustomer() { // the Customer Chat API: the requester has seen everything
		u.EventsSeenUpTo = now
	}
	t := &Thread{ID: NewID(), ChatID: c.ID, Active: active, Properties: in.Properties, Access: c.Access,
		Tags: slices.Clone(in.Tags), PreviousThreadID: c.LastThreadID, CreatedAt: now, LastEventAt: now}
	if t.Properties == nil {
		t.Properties = Properties{}
	}
	if t.Tags == nil {
		t.Tags = []string{}
	}
	for _, u := range c.Users {
		t.UserIDs = append(t.UserIDs, u.ID)
	}
	if c.LastThreadID != "" {
		prev, err := s.store.Threads().Get(ctx, c.LastThreadID)
		if err != nil {
			return nil, err
		}
		prev.NextThreadID, prev.Active = t.ID, false
		if err := s.store.Threads().Replace(ctx, prev.ID, prev); err != nil {
			return nil, err
		}
	}
	if err := s.store.Threads().Insert(ctx, t); err != nil {
		return nil, err
	}
	c.LastThreadID, c.LastThreadCreatedAt, c.LastEventAt = t.ID, now, now
	c.ThreadCount++
	c.ActiveThreadID = ""
	if active {
		c.ActiveThreadID = t.ID
	}
	if newChat {
		if err := s.store.Chats().Insert(ctx, c); err != nil {
			return nil, err
		}
	}
	view := &ChatView{Chat: c, Thread: t}
	for _, e := range in.Events {
		stored, err := s.appendEvent(ctx, c, t.ID, actor, e)
		if err != nil {
			return nil, err
		}
		view.Events = append(view.Events, *stored)
	}
	if len(in.Events) > 0 { // the events moved the thread's counters and users: show it as stored
		stored, err := s.store.Threads().Get(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		view.Thread = stored
	}
	if !newChat || len(in.Events) > 0 {
		c.UpdatedAt = now
		if err := s.store.Chats().Replace(ctx, c.ID, c); err != nil {
			return nil, err
		}
	}
	s.emit(ctx, &DomainEvent{Kind: KindIncomingChat, ChatID: c.ID, ThreadID: t.ID, RequesterID: actor.ID, Topics: chatTopics(c, false), Data: IncomingChatData{Chat: c, Thread: view.Thread, Events: view.Events}})
	return view, nil
}

// ResumeChat opens a new thread in an inactive chat.
func (s *Service) ResumeChat(ctx context.Context, actor Actor, chatID string, in ThreadInput, active bool) (*ChatView, error) {
	view, err := s.resumeChat(ctx, actor, chatID, in, active)
	if err != nil {
		return nil, err
	}
	if view.Chat.CustomerID != "" {
		s.bumpCustomerStats(ctx, view.Chat.CustomerID, 0, 1)
	}
	if actor.IsCustomer() && view.Chat.Active() {
		s.routeQueuedLogged(ctx)
	}
	return view, nil
}

func (s *Service) resumeChat(ctx context.Context, actor Actor, chatID string, in ThreadInput, active bool) (*ChatView, error) {
	c, err := s.readChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	defer s.locks.lockPair("customer-chats:"+c.CustomerID, "chat:"+chatID)()
	if c, err = s.readChat(ctx, actor, chatID); err != nil { // again, under the lock
		return nil, err
	}
	if c.Active() {
		return nil, Errorf(TypeValidation, "Chat is already active")
	}
	if actor.IsCustomer() {
		if cust, err := s.store.Customers().Get(ctx, actor.ID); err == nil && cust.Banned(s.now()) {
			return nil, Errorf(TypeCustomerBanned, "Customer is banned")
		}
	}
	if actor.IsAgent() && c.User(actor.ID) == nil {
		c.Users = append(c.Users, ChatUser{ID: actor.ID, Type: UserAgent, Present: true, Visibility: VisibilityAll})
	}
	if c.CustomerID != "" && active {
		if err := s.checkCustomerChatLimit(ctx, c.CustomerID, c.ID); err != nil {
			return nil, err
		}
	}
	return s.openThread(ctx, actor, c, in, active, false)
}

// DeactivateChat closes the chat's active thread; the chat stays for the next
// one. A system message says who closed it. The system actor (idle close,
// routing) leaves UserID empty in the push.
func (s *Service) DeactivateChat(ctx context.Context, actor Actor, chatID string, requirePresence bool) error {
	return s.deactivateChat(ctx, actor, chatID, requirePresence, nil)
}

// deactivateChat is DeactivateChat with a precondition checked under the
// chat's lock (the idle close uses it to be sure no event came in between).
func (s *Service) deactivateChat(ctx context.Context, actor Actor, chatID string, requirePresence bool, pre func(*Chat) error) error {
	var chat *Chat
	var closedThread string
	var sys *Event
	err := s.withChat(ctx, actor, chatID, func(c *Chat) error {
		if pre != nil {
			if err := pre(c); err != nil {
				return err
			}
		}
		if !c.Active() {
			return Errorf(TypeChatInactive, "Chat is inactive")
		}
		if requirePresence && actor.IsAgent() && c.User(actor.ID) == nil {
			return Errorf(TypeAuthorization, "Requester is not a user of this chat")
		}
		msgType, text := "manual_archived_agent", "Chat closed by agent"
		switch {
		case actor.IsCustomer():
			msgType, text = "manual_archived_customer", "Chat closed by customer"
		case actor.IsSystem():
			msgType, text = "routing.archived_inactive", "Chat archived due to inactivity"
		case actor.Agent != nil && actor.Agent.Name != "":
			text = "Chat closed by " + actor.Agent.Name
		}
		ev, err := s.appendEvent(ctx, c, c.ActiveThreadID, System(), Event{Type: EventSystemMessage, SystemMessageType: msgType, Text: text, Visibility: VisibilityAll})
		if err != nil {
			return err
		}
		sys = ev
		t, err := s.store.Threads().Get(ctx, c.ActiveThreadID)
		if err != nil {
			return err
		}
		now := s.now()
		t.Active, t.ClosedAt, t.Queue = false, &now, nil
		if err := s.store.Threads().Replace(ctx, t.ID, t); err != nil {
			return err
		}
		closedThread = t.ID
		c.ActiveThreadID = ""
		chat = c
		return nil
	})
	if err != nil {
		return err
	}
	s.emitEvent(ctx, System(), chat, sys)
	s.emit(ctx, &DomainEvent{Kind: KindChatDeactivated, ChatID: chatID, ThreadID: closedThread, RequesterID: actor.ID, Topics: chatTopics(chat, false), Data: ChatDeactivatedData{UserID: actor.ID}})
	if chat.CustomerID != "" && len(chat.AgentIDs()) > 0 {
		s.routeQueuedLogged(ctx) // the chat's agents have room for a queued chat
	}
	return nil
}

// GetChat returns a chat with one thread (the newest when threadID is empty).
func (s *Service) GetChat(ctx context.Context, actor Actor, chatID, threadID string) (*ChatView, error) {
	c, err := s.readChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	if threadID == "" {
		threadID = c.LastThreadID
	}
	view := &ChatView{Chat: c}
	if threadID == "" {
		return view, nil
	}
	t, err := s.store.Threads().Get(ctx, threadID)
	if err != nil || t.ChatID != c.ID {
		return nil, notFound("Thread")
	}
	view.Thread = t
	if view.Events, err = s.threadEvents(ctx, actor, t.ID); err != nil {
		return nil, err
	}
	return view, nil
}

// ListThreads returns a chat's threads with their events, newest first
// unless asc, skipping skip and returning at most limit.
func (s *Service) ListThreads(ctx context.Context, actor Actor, chatID string, asc bool, skip, limit int) ([]ChatView, int64, error) {
	c, err := s.readChat(ctx, actor, chatID)
	if err != nil {
		return nil, 0, err
	}
	// By creation: chatbridge's ids sort by time, imported ones need not.
	q := Query{Where: []Cond{Eq("chat_id", c.ID)}, Sort: "created_at", Desc: !asc, Skip: skip, Limit: limit}
	threads, err := s.store.Threads().Find(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	total, err := s.store.Threads().Count(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	views := make([]ChatView, 0, len(threads))
	for i := range threads {
		evs, err := s.threadEvents(ctx, actor, threads[i].ID)
		if err != nil {
			return nil, 0, err
		}
		views = append(views, ChatView{Chat: c, Thread: &threads[i], Events: evs})
	}
	return views, total, nil
}

// ChatFilter selects chats for ListChats.
type ChatFilter struct {
	// IncludeInactive also lists chats without an active thread.
	IncludeInactive bool
	// GroupIDs keeps chats whose access meets these groups.
	GroupIDs []int
	// Asc sorts oldest first by last thread creation; default newest first.
	Asc   bool
	Skip  int
	Limit int
}

// ListChats returns the chats the actor may see, by last thread creation.
func (s *Service) ListChats(ctx context.Context, actor Actor, f ChatFilter) ([]Chat, int, error) {
	var queries []Query
	base := []Cond{}
	if !f.IncludeInactive {
		base = append(base, Cond{Field: "active_thread_id", Op: OpNe, Value: ""})
	}
	if len(f.GroupIDs) > 0 {
		base = append(base, Cond{Field: "access.group_ids", Op: OpIn, Value: f.GroupIDs})
	}
	with := func(c ...Cond) Query { return Query{Where: append(slices.Clone(base), c...)} }
	switch {
	case actor.IsCustomer():
		queries = append(queries, with(Eq("customer_id", actor.ID)))
	case actor.IsSystem() || (actor.IsAgent() && actor.Agent.SeesAllChats()):
		queries = append(queries, with())
	case actor.IsAgent():
		queries = append(queries,
			with(Cond{Field: "access.group_ids", Op: OpIn, Value: actor.Agent.GroupIDs()}),
			with(Eq("users.id", actor.ID)),
			with(Eq("followers", actor.ID)))
	default:
		return nil, 0, Errorf(TypeAuthorization, "Not allowed")
	}
	seen := map[string]bool{}
	var out []Chat
	for _, q := range queries {
		chats, err := s.store.Chats().Find(ctx, q)
		if err != nil {
			return nil, 0, err
		}
		for _, c := range chats {
			if !seen[c.ID] {
				seen[c.ID] = true
				out = append(out, c)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if f.Asc {
			return out[i].LastThreadCreatedAt.Before(out[j].LastThreadCreatedAt)
		}
		return out[i].LastThreadCreatedAt.After(out[j].LastThreadCreatedAt)
	})
	total := len(out)
	if f.Skip > 0 {
		out = out[min(f.Skip, len(out)):]
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, total, nil
}

// bumpCustomerStats adds to a customer's chat and thread counters.
func (s *Service) bumpCustomerStats(ctx context.Context, id string, chats, threads int) {
	if _, err := s.updateCustomer(ctx, id, func(c *Customer) error {
		c.ChatsCount += chats
		c.ThreadsCount += threads
		return nil
	}); err != nil {
		s.log.Warn("customer statistics not updated", "customer_id", id, "err", err)
	}
}

// ChatUsers loads the agent and customer records behind a chat's users, for
// showing names and avatars to whoever may read the chat.
func (s *Service) ChatUsers(ctx context.Context, c *Chat) (map[string]*Agent, map[string]*Customer, error) {
	agents, customers := map[string]*Agent{}, map[string]*Customer{}
	for _, u := range c.Users {
		switch u.Type {
		case UserAgent:
			a, err := s.store.Agents().Get(ctx, u.ID)
			if err != nil && !IsType(storeErr(err, ""), TypeNotFound) {
				return nil, nil, err
			}
			if a != nil {
				agents[u.ID] = a
			}
		case UserCustomer:
			cu, err := s.store.Customers().Get(ctx, u.ID)
			if err != nil && !IsType(storeErr(err, ""), TypeNotFound) {
				return nil, nil, err
			}
			if cu != nil {
				customers[u.ID] = cu
			}
		}
	}
	return agents, customers, nil
}
