package livechat

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"
)

// The router. A chat a customer starts or resumes is "unassigned" while it is
// active and has no agent among its users; every unassigned chat is in the
// queue. A routing pass (RouteQueued) takes the queue oldest first (by the
// start of its active thread) and gives each chat to the best available agent
// of its access groups; chats nobody can take keep waiting, with their place
// written to their active thread (Thread.Queue). Nothing lives only in
// memory: after a restart the next pass (any trigger, or the cron job calling
// RouteQueued) finds the same queue in the store.
//
// Passes run when a customer starts or resumes a chat, when an agent becomes
// available (connects accepting, sets accepting, comes back from away), when a
// chat is deactivated or transferred, and from cron. They are serialized by
// routing.routeMu, so the load each pass counts from the store is never stale
// against another pass's assignments, and no agent exceeds its limit through
// concurrent starts. One process-wide mutex (not one per group) because agents
// belong to several groups: per-group locks alone could not keep an agent
// under its limit. A pass reads the agents and the active chats once (two
// queries) and writes only what it changes.

// queueWaitPerPosition estimates a queued chat's wait_time: this much per
// place in the queue (LiveChat does not document its estimate).
const queueWaitPerPosition = time.Minute

// errSkip says a routing step found the chat changed under it and left it alone.
var errSkip = errors.New("livechat: routing skipped a changed chat")

// routingSnapshot is what one routing decision looks at.
type routingSnapshot struct {
	agents []Agent
	active []Chat
	// load counts each agent's active chats with a customer.
	load map[string]int
}

func (s *Service) routingSnapshot(ctx context.Context) (*routingSnapshot, error) {
	agents, err := s.store.Agents().Find(ctx, Query{})
	if err != nil {
		return nil, err
	}
	active, err := s.store.Chats().Find(ctx, Where(Cond{Field: "active_thread_id", Op: OpNe, Value: ""}))
	if err != nil {
		return nil, err
	}
	snap := &routingSnapshot{agents: agents, active: active, load: map[string]int{}}
	for i := range active {
		if active[i].CustomerID == "" {
			continue
		}
		for _, id := range active[i].AgentIDs() {
			snap.load[id]++
		}
	}
	return snap, nil
}

// unassigned says whether a chat waits for the router.
func unassigned(c *Chat) bool {
	return c.Active() && c.CustomerID != "" && len(c.AgentIDs()) == 0
}

// priorityRank orders group priorities: first before normal before last;
// supervisors are never assigned chats by the router.
func priorityRank(p string) int {
	switch p {
	case "first":
		return 0
	case "last":
		return 2
	case "supervisor":
		return -1
	}
	return 1
}

// routingRank is the agent's best priority rank among groups, and whether the
// router may give it a chat of those groups at all. Group 0 holds everyone.
func routingRank(a *Agent, groups []int) (int, bool) {
	best := -1
	for _, g := range groups {
		member, prio := g == 0, ""
		for _, m := range a.Groups {
			if m.ID == g {
				member, prio = true, m.Priority
			}
		}
		if !member {
			continue
		}
		if r := priorityRank(prio); r >= 0 && (best < 0 || r < best) {
			best = r
		}
	}
	return best, best >= 0
}

// pickAgent chooses who gets a chat of groups: among agents accepting chats
// and under their limit (MaxChats; zero or less means no limit), the best
// group priority, then the least loaded, then the one longest without an
// assignment, then by id. Must hold routing.routeMu.
func (s *Service) pickAgent(snap *routingSnapshot, groups []int, exclude []string) *Agent {
	var best *Agent
	bestRank := 0
	for i := range snap.agents {
		a := &snap.agents[i]
		if slices.Contains(exclude, a.ID) {
			continue
		}
		rank, ok := routingRank(a, groups)
		if !ok || s.EffectiveRoutingStatus(a) != RoutingAccepting || (a.MaxChats > 0 && snap.load[a.ID] >= a.MaxChats) {
			continue
		}
		if best == nil || s.betterCandidate(snap, a, rank, best, bestRank) {
			best, bestRank = a, rank
		}
	}
	return best
}

func (s *Service) betterCandidate(snap *routingSnapshot, a *Agent, rank int, b *Agent, bRank int) bool {
	if rank != bRank {
		return rank < bRank
	}
	if la, lb := snap.load[a.ID], snap.load[b.ID]; la != lb {
		return la < lb
	}
	ta, tb := s.routing.lastAssigned[a.ID], s.routing.lastAssigned[b.ID]
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return a.ID < b.ID
}

// RouteQueued runs a routing pass: queued chats are assigned oldest first to
// the agents that can take them, and the others get their queue positions.
// Cron calls it to pick up work left by a restart; the core calls it whenever
// agents may have become available.
func (s *Service) RouteQueued(ctx context.Context) error {
	s.routing.routeMu.Lock()
	defer s.routing.routeMu.Unlock()
	return s.routeLocked(ctx)
}

// routeQueuedLogged runs a routing pass for an operation that already
// succeeded: a routing failure is logged, and the cron job retries it.
func (s *Service) routeQueuedLogged(ctx context.Context) {
	if err := s.RouteQueued(ctx); err != nil {
		s.log.Warn("routing pass failed", "err", err)
	}
}

// routeLocked is RouteQueued; must hold routing.routeMu and no chat lock.
func (s *Service) routeLocked(ctx context.Context) error {
	snap, err := s.routingSnapshot(ctx)
	if err != nil {
		return err
	}
	var queue []*Chat
	for i := range snap.active {
		if unassigned(&snap.active[i]) {
			queue = append(queue, &snap.active[i])
		}
	}
	sort.Slice(queue, func(i, j int) bool {
		if !queue[i].LastThreadCreatedAt.Equal(queue[j].LastThreadCreatedAt) {
			return queue[i].LastThreadCreatedAt.Before(queue[j].LastThreadCreatedAt)
		}
		return queue[i].ID < queue[j].ID
	})
	var waiting []*Chat
	var firstErr error
	for _, c := range queue {
		a := s.pickAgent(snap, c.Access.GroupIDs, nil)
		if a == nil {
			waiting = append(waiting, c)
			continue
		}
		err := s.assignQueued(ctx, c.ID, a)
		switch {
		case errors.Is(err, errSkip):
		case err != nil:
			s.log.Warn("routing: chat not assigned", "chat_id", c.ID, "agent_id", a.ID, "err", err)
			if firstErr == nil {
				firstErr = err
			}
			waiting = append(waiting, c)
		default:
			snap.load[a.ID]++
		}
	}
	if err := s.writeQueue(ctx, waiting); err != nil && firstErr == nil {
		firstErr = err
	}
	return firstErr
}

// assignQueued gives an unassigned chat to agent a. Must hold routeMu.
func (s *Service) assignQueued(ctx context.Context, chatID string, a *Agent) error {
	var chat *Chat
	var user ChatUser
	var sys *Event
	err := func() error {
		defer s.locks.lock("chat:" + chatID)()
		c, err := s.store.Chats().Get(ctx, chatID)
		if err != nil {
			return storeErr(err, "Chat")
		}
		if !unassigned(c) {
			return errSkip
		}
		name := agentName(a)
		if user, sys, err = s.addAssignee(ctx, c, a, "routing.assigned", name+" joined the chat", map[string]string{"agent": name}); err != nil {
			return err
		}
		c.UpdatedAt = s.now()
		chat = c
		return s.store.Chats().Replace(ctx, c.ID, c)
	}()
	if err != nil {
		return err
	}
	s.routing.lastAssigned[a.ID] = s.now()
	delete(s.routing.queued, chatID)
	s.emitAssigned(ctx, chat, user, sys, TransferAssigned, "", nil)
	return nil
}

// addAssignee makes agent a a user of chat c (held under its lock, saved by
// the caller) and, when sysType is set, writes that system message into its
// active thread, which leaves the queue.
func (s *Service) addAssignee(ctx context.Context, c *Chat, a *Agent, sysType, text string, vars map[string]string) (ChatUser, *Event, error) {
	user := ChatUser{ID: a.ID, Type: UserAgent, Present: true, Visibility: VisibilityAll}
	c.Users = append(c.Users, user)
	c.Followers = slices.DeleteFunc(c.Followers, func(x string) bool { return x == a.ID })
	if !c.Active() {
		return user, nil, nil
	}
	var sys *Event
	if sysType != "" {
		var err error
		if sys, err = s.appendEvent(ctx, c, c.ActiveThreadID, System(), Event{Type: EventSystemMessage, SystemMessageType: sysType, Text: text, TextVars: vars, Visibility: VisibilityAll}); err != nil {
			return user, nil, err
		}
	}
	t, err := s.store.Threads().Get(ctx, c.ActiveThreadID)
	if err != nil {
		return user, nil, err
	}
	t.UserIDs = addUnique(t.UserIDs, a.ID)
	t.Queue = nil
	return user, sys, s.store.Threads().Replace(ctx, t.ID, t)
}

// emitAssigned announces that agent user got chat c: the assignee gets the
// whole chat as incoming_chat first (KindChatAssigned on its own topic; it
// may not be subscribed to the chat's groups), then the chat's audience,
// the assignee included, hears user_added_to_chat and the system message.
func (s *Service) emitAssigned(ctx context.Context, c *Chat, user ChatUser, sys *Event, reason, requesterID string, from *TransferTarget) {
	data := ChatAssignedData{IncomingChatData: IncomingChatData{Chat: c}, TransferredFrom: from}
	if c.Active() {
		if t, err := s.store.Threads().Get(ctx, c.ActiveThreadID); err == nil {
			data.Thread = t
			data.Events, _ = s.threadEvents(ctx, System(), t.ID)
		}
	}
	s.emit(ctx, &DomainEvent{Kind: KindChatAssigned, ChatID: c.ID, ThreadID: c.ActiveThreadID, RequesterID: requesterID, Topics: []Topic{AgentTopic(user.ID)}, Data: data})
	s.emit(ctx, &DomainEvent{Kind: KindUserAddedToChat, ChatID: c.ID, ThreadID: c.ActiveThreadID, RequesterID: requesterID, Topics: chatTopics(c, false), Data: UserChangeData{User: user, Reason: reason}})
	if sys != nil {
		s.emitEvent(ctx, System(), c, sys)
	}
}

// writeQueue stores the queue places of the chats still waiting (in queue
// order) and announces those that moved; a chat's place counts the waiting
// chats ahead of it that share one of its groups. Chats that left the queue
// by other means (an agent added by hand) lose their stale place. Must hold
// routeMu.
func (s *Service) writeQueue(ctx context.Context, waiting []*Chat) error {
	r := s.routing
	now := s.now()
	still := make(map[string]bool, len(waiting))
	var firstErr error
	for i, c := range waiting {
		still[c.ID] = true
		pos := 1
		for _, ahead := range waiting[:i] {
			if groupsMeet(ahead.Access.GroupIDs, c.Access.GroupIDs) {
				pos++
			}
		}
		q := Queue{Position: pos, WaitTime: pos * int(queueWaitPerPosition/time.Second), QueuedAt: now}
		if old, ok := r.queued[c.ID]; ok && old.ThreadID == c.ActiveThreadID {
			if old.Queue.Position == q.Position && old.Queue.WaitTime == q.WaitTime {
				continue
			}
			q.QueuedAt = old.Queue.QueuedAt
		}
		stored, changed, err := s.setThreadQueue(ctx, c.ID, c.ActiveThreadID, &q)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		entry := QueuePosition{ChatID: c.ID, ThreadID: c.ActiveThreadID, Queue: *stored}
		r.queued[c.ID] = entry
		if changed {
			s.emit(ctx, &DomainEvent{Kind: KindQueuePositionsUpdated, ChatID: c.ID, ThreadID: c.ActiveThreadID, Topics: chatTopics(c, false), Data: QueuePositionsData{Positions: []QueuePosition{entry}}})
		}
	}
	for id, old := range r.queued {
		if still[id] {
			continue
		}
		delete(r.queued, id)
		if _, _, err := s.setThreadQueue(ctx, id, old.ThreadID, nil); err != nil && !IsType(err, TypeNotFound) && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// setThreadQueue writes a thread's queue place (nil: not queued) under its
// chat's lock, keeping the first queued_at of a thread already queued. It
// returns the place as stored and whether it changed.
func (s *Service) setThreadQueue(ctx context.Context, chatID, threadID string, q *Queue) (*Queue, bool, error) {
	defer s.locks.lock("chat:" + chatID)()
	t, err := s.store.Threads().Get(ctx, threadID)
	if err != nil {
		return nil, false, storeErr(err, "Thread")
	}
	if q != nil && !t.Active {
		return q, false, nil
	}
	if q != nil && t.Queue != nil {
		q.QueuedAt = t.Queue.QueuedAt
	}
	if sameQueue(t.Queue, q) {
		return q, false, nil
	}
	t.Queue = q
	return q, true, s.store.Threads().Replace(ctx, t.ID, t)
}

func sameQueue(a, b *Queue) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Position == b.Position && a.WaitTime == b.WaitTime && a.QueuedAt.Equal(b.QueuedAt)
}

// agentName is the name a routing system message shows for an agent id.
func agentName(a *Agent) string {
	if a == nil {
		return ""
	}
	if strings.TrimSpace(a.Name) != "" {
		return a.Name
	}
	return a.ID
}
