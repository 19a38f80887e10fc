package livechat

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// customerState is the in-process state of the Customer Chat API.
//
// Lock order: groupsMu (held while a refresh reads the store and emits),
// then mu; mu is a leaf.
type customerState struct {
	mu sync.Mutex
	// sessions counts each customer's live sessions in this process; the
	// customer's visit ends with the last. Guarded by mu.
	sessions map[string]int

	// refreshPending asks for a refresh of group availability;
	// refreshRunning says a refresh goroutine is at work. Guarded by mu.
	refreshPending, refreshRunning bool
	// closed stops new refreshes (Service.Close); refreshes counts the
	// running refresh goroutine so Close can wait for it.
	closed    bool
	refreshes sync.WaitGroup

	groupsMu sync.Mutex
	// groups is the availability last announced per group (absent means
	// offline). Guarded by groupsMu, which also keeps announcements in order.
	groups map[int]string
}

func newCustomerState() *customerState {
	return &customerState{sessions: map[string]int{}, groups: map[int]string{}}
}

// availabilityKinds are the changes after which a group's availability may
// differ: presence and routing statuses, agents' chat loads, group
// memberships. The Configuration API's kinds are named by value so this file
// does not depend on where they are declared.
var availabilityKinds = map[Kind]bool{
	KindRoutingStatusSet:    true,
	KindChatAssigned:        true,
	KindChatDeactivated:     true,
	KindChatTransferred:     true,
	KindUserRemovedFromChat: true,
	KindAgentCreated:        true,
	KindAgentUpdated:        true,
	"agent_deleted":         true,
	"agent_suspended":       true,
	"agent_unsuspended":     true,
	"bot_created":           true,
	"bot_updated":           true,
	"bot_deleted":           true,
	"group_updated":         true,
	"group_deleted":         true,
}

// afterEmit runs after every domain event: changes that can move a group's
// availability ask for a refresh, which tells the customers of the groups
// that changed.
func (s *Service) afterEmit(_ context.Context, ev *DomainEvent) {
	if s.cust == nil {
		return
	}
	if availabilityKinds[ev.Kind] || (ev.Kind == KindUserAddedToChat && isManualAdd(ev)) {
		s.scheduleAvailabilityRefresh()
	}
}

// scheduleAvailabilityRefresh asks for a refresh off the caller's path: the
// request that changed something does not wait for it, and a burst of
// changes (a routing pass assigning many chats) costs one or two refreshes.
// At most one refresh goroutine runs; it ends when no refresh is asked for.
func (s *Service) scheduleAvailabilityRefresh() {
	st := s.cust
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return
	}
	st.refreshPending = true
	if !st.refreshRunning {
		st.refreshRunning = true
		st.refreshes.Add(1)
		go s.refreshLoop()
	}
}

func (s *Service) refreshLoop() {
	st := s.cust
	defer st.refreshes.Done()
	for {
		st.mu.Lock()
		if !st.refreshPending {
			st.refreshRunning = false
			st.mu.Unlock()
			return
		}
		st.refreshPending = false
		st.mu.Unlock()
		s.refreshGroupAvailability(context.Background())
	}
}

// Close stops the core's background work (the group availability refresh)
// and waits for it, until ctx ends: call it before closing the store.
func (s *Service) Close(ctx context.Context) error {
	if s.cust == nil {
		return nil
	}
	st := s.cust
	st.mu.Lock()
	st.closed, st.refreshPending = true, false
	st.mu.Unlock()
	done := make(chan struct{})
	go func() {
		st.refreshes.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func isManualAdd(ev *DomainEvent) bool {
	d, ok := ev.Data.(UserChangeData)
	return ok && d.Reason == "manual" && d.User.Type == UserAgent
}

// refreshGroupAvailability compares every group's availability with the one
// last announced and emits KindGroupAvailabilityChanged for each change.
func (s *Service) refreshGroupAvailability(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st := s.cust
	st.groupsMu.Lock()
	defer st.groupsMu.Unlock()
	now, err := s.GroupAvailabilities(ctx, nil)
	if err != nil {
		s.log.Warn("group availability not refreshed", slog.Any("err", err))
		return
	}
	ids := make([]int, 0, len(now))
	for id := range now {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		old, ok := st.groups[id]
		if !ok {
			old = GroupOffline
		}
		if now[id] == old {
			continue
		}
		st.groups[id] = now[id]
		s.emit(ctx, &DomainEvent{Kind: KindGroupAvailabilityChanged, Topics: []Topic{CustomerGroupTopic(id)}, Data: GroupAvailability{GroupID: id, Status: now[id]}})
	}
	for id := range st.groups {
		if _, ok := now[id]; !ok { // the group is gone
			delete(st.groups, id)
		}
	}
}

// GroupAvailabilities returns the availability of the groups ids (every
// group when ids is nil); ids of no group are left out.
func (s *Service) GroupAvailabilities(ctx context.Context, ids []int) (map[int]string, error) {
	groups, err := s.store.Groups().Find(ctx, Query{Sort: "_id"})
	if err != nil {
		return nil, err
	}
	snap, err := s.routingSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[int]string, len(groups))
	for _, g := range groups {
		if ids == nil || slices.Contains(ids, g.ID) {
			out[g.ID] = s.groupAvailability(snap, g.ID)
		}
	}
	return out, nil
}

// groupAvailability is one group's availability in snap: online when an
// agent the router may give its chats to accepts chats below its limit,
// online_for_queue when such agents accept but all are full.
func (s *Service) groupAvailability(snap *routingSnapshot, groupID int) string {
	status := GroupOffline
	for i := range snap.agents {
		a := &snap.agents[i]
		if _, ok := routingRank(a, []int{groupID}); !ok || s.EffectiveRoutingStatus(a) != RoutingAccepting {
			continue
		}
		if a.MaxChats <= 0 || snap.load[a.ID] < a.MaxChats {
			return GroupOnline
		}
		status = GroupOnlineForQueue
	}
	return status
}

// PredictedAgent is get_predicted_agent's answer: who would get a chat of the
// group now, and whether the chat would wait in the queue first.
type PredictedAgent struct {
	Agent *Agent
	Queue bool
}

// PredictAgent tells who the router would give a new chat of groupID (nil:
// the caller's group, or group 0). An agent with room wins as the router
// picks it; when every accepting agent is full the chat would be queued for
// the best of them (Queue true). Nobody accepting: group_unavailable when
// agents of the group are online, group_offline otherwise.
func (s *Service) PredictAgent(ctx context.Context, actor Actor, groupID *int) (*PredictedAgent, error) {
	g := 0
	switch {
	case groupID != nil:
		g = *groupID
	case actor.IsCustomer() && actor.Customer != nil && len(actor.Customer.GroupIDs) > 0:
		g = actor.Customer.GroupIDs[0]
	}
	if g < 0 {
		return nil, Errorf(TypeValidation, "group_id must not be negative")
	}
	if _, err := s.store.Groups().Get(ctx, g); err != nil {
		if IsType(storeErr(err, "Group"), TypeNotFound) {
			return nil, Errorf(TypeGroupNotFound, "Group not found")
		}
		return nil, err
	}
	s.routing.routeMu.Lock()
	defer s.routing.routeMu.Unlock()
	snap, err := s.routingSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	groups := []int{g}
	if a := s.pickAgent(snap, groups, nil); a != nil {
		return &PredictedAgent{Agent: a}, nil
	}
	var best *Agent
	bestRank, online := 0, false
	for i := range snap.agents {
		a := &snap.agents[i]
		rank, ok := routingRank(a, groups)
		if !ok {
			continue
		}
		switch s.EffectiveRoutingStatus(a) {
		case RoutingAccepting:
			if best == nil || s.betterCandidate(snap, a, rank, best, bestRank) {
				best, bestRank = a, rank
			}
		case RoutingNotAccepting:
			online = true
		}
	}
	switch {
	case best != nil:
		return &PredictedAgent{Agent: best, Queue: true}, nil
	case online:
		return nil, Errorf(TypeGroupUnavailable, "No agent available for group")
	}
	return nil, Errorf(TypeGroupOffline, "Group is offline")
}
