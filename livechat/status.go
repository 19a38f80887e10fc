package livechat

import (
	"context"
	"slices"
	"sort"
	"strings"
)

// SetRoutingStatus sets an agent's routing status (set_routing_status).
// Agents may set accepting_chats or not_accepting_chats, bots also offline.
// An agent may set its own status; managers anyone's; an agent the status of
// the bots it owns. The status is stored, so it survives reconnects; a human
// agent without a live session still counts as offline for routing.
func (s *Service) SetRoutingStatus(ctx context.Context, actor Actor, agentID, status string) error {
	if !actor.IsAgent() && !actor.IsSystem() {
		return Errorf(TypeAuthorization, "Only agents can set routing statuses")
	}
	if agentID == "" {
		agentID = actor.ID
	}
	agentID = strings.ToLower(agentID)
	target, err := s.store.Agents().Get(ctx, agentID)
	if err != nil {
		return storeErr(err, "Agent")
	}
	switch status {
	case RoutingAccepting, RoutingNotAccepting:
	case RoutingOffline:
		if target.Kind != AgentKindBot {
			return Errorf(TypeValidation, "offline can be set for bots only")
		}
	default:
		return Errorf(TypeValidation, "status must be accepting_chats or not_accepting_chats (bots also offline)")
	}
	own := actor.ID == target.ID || (target.Kind == AgentKindBot && target.OwnerID != "" && target.OwnerID == actor.ID)
	if !own && !actor.IsManager() {
		return Errorf(TypeAuthorization, "Cannot set the routing status of another agent")
	}
	if err := s.updateAgent(ctx, target.ID, func(a *Agent) error { a.RoutingStatus = status; return nil }); err != nil {
		return err
	}
	target.RoutingStatus = status
	s.emit(ctx, &DomainEvent{Kind: KindRoutingStatusSet, RequesterID: actor.ID, Topics: []Topic{OrgTopic}, Data: RoutingStatusData{AgentID: target.ID, Status: status}})
	if s.EffectiveRoutingStatus(target) == RoutingAccepting {
		s.routeQueuedLogged(ctx)
	}
	return nil
}

// RoutingStatusEntry is one agent's status in list_routing_statuses.
type RoutingStatusEntry struct {
	AgentID string
	Status  string
}

// ListRoutingStatuses lists the effective routing status of every agent and
// bot (suspended ones left out), of the given groups when groupIDs is not
// empty (group 0 holds everyone), by agent id. Agents only.
func (s *Service) ListRoutingStatuses(ctx context.Context, actor Actor, groupIDs []int) ([]RoutingStatusEntry, error) {
	if !actor.IsAgent() && !actor.IsSystem() {
		return nil, Errorf(TypeAuthorization, "Only agents can list routing statuses")
	}
	if len(groupIDs) > 200 {
		return nil, Errorf(TypeValidation, "group_ids holds at most 200 groups")
	}
	agents, err := s.store.Agents().Find(ctx, Query{})
	if err != nil {
		return nil, err
	}
	out := []RoutingStatusEntry{}
	for i := range agents {
		a := &agents[i]
		if a.Suspended || (len(groupIDs) > 0 && !groupsMeet(a.GroupIDs(), groupIDs)) {
			continue
		}
		out = append(out, RoutingStatusEntry{AgentID: a.ID, Status: s.EffectiveRoutingStatus(a)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AgentID < out[j].AgentID })
	return out, nil
}

// AgentLoad is one entry of list_agents_for_transfer.
type AgentLoad struct {
	AgentID          string
	TotalActiveChats int
}

// ListAgentsForTransfer lists the agents a chat can be transferred to: online
// (accepting or not) agents with access to the chat, other than the requester
// and the chat's current agents, least loaded first (active chats with a
// customer), then by id.
func (s *Service) ListAgentsForTransfer(ctx context.Context, actor Actor, chatID string) ([]AgentLoad, error) {
	if !actor.IsAgent() && !actor.IsSystem() {
		return nil, Errorf(TypeAuthorization, "Only agents can transfer chats")
	}
	c, err := s.readChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	snap, err := s.routingSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	out := []AgentLoad{}
	for i := range snap.agents {
		a := &snap.agents[i]
		if a.ID == actor.ID || c.User(a.ID) != nil || !AgentActor(a).canReadChat(c) || s.EffectiveRoutingStatus(a) == RoutingOffline {
			continue
		}
		out = append(out, AgentLoad{AgentID: a.ID, TotalActiveChats: snap.load[a.ID]})
	}
	slices.SortFunc(out, func(x, y AgentLoad) int {
		if x.TotalActiveChats != y.TotalActiveChats {
			return x.TotalActiveChats - y.TotalActiveChats
		}
		return strings.Compare(x.AgentID, y.AgentID)
	})
	return out, nil
}
