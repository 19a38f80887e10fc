package livechat

import (
	"context"
	"slices"
	"strconv"
	"strings"
)

// Transfer target types.
const (
	TargetAgent = "agent"
	TargetGroup = "group"
)

// TransferInput describes a transfer_chat call.
type TransferInput struct {
	// TargetType is TargetAgent, TargetGroup, or "" to re-route the chat
	// within its current groups.
	TargetType string
	AgentIDs   []string
	GroupIDs   []int
	// IgnoreAgentsAvailability lets a chat nobody can take right now wait in
	// the queue, and an agent target be offline, instead of failing (3.3: force).
	IgnoreAgentsAvailability bool
	// RequirePresence refuses a requester who is not a chat user (3.4+ unless
	// ignore_requester_presence).
	RequirePresence bool
	// RequireActive refuses inactive chats (3.4+).
	RequireActive bool
}

func (in *TransferInput) validate() error {
	switch in.TargetType {
	case TargetAgent:
		if len(in.AgentIDs) == 0 || len(in.AgentIDs) > 5 {
			return Errorf(TypeValidation, "target.ids must hold 1 to 5 agent ids")
		}
		ids := make([]string, 0, len(in.AgentIDs))
		for _, id := range in.AgentIDs {
			if strings.TrimSpace(id) == "" {
				return Errorf(TypeValidation, "target.ids must not hold empty ids")
			}
			ids = addUnique(ids, strings.ToLower(id))
		}
		in.AgentIDs = ids
	case TargetGroup:
		if len(in.GroupIDs) == 0 || len(in.GroupIDs) > 200 {
			return Errorf(TypeValidation, "target.ids must hold 1 to 200 group ids")
		}
	case "":
	default:
		return Errorf(TypeValidation, "target.type must be agent or group")
	}
	return nil
}

// TransferChat moves a chat to other agents or groups (transfer_chat). An
// agent target replaces the chat's agents with the given ones, who must have
// access to the chat and (unless IgnoreAgentsAvailability) be online. A group
// target moves the chat's access to those groups; then, as for a transfer
// within the current groups (no target), the router picks an available agent
// of the groups other than the current ones, and without one the transfer
// fails unless IgnoreAgentsAvailability, in which case the chat loses its
// agents and waits in the queue.
//
// Pushes: chat_access_updated (old and new audiences) when the groups change,
// user_removed_from_chat for each agent leaving, incoming_chat with
// transferred_from to each new agent (KindChatAssigned) and user_added_to_chat,
// the transfer's system message, then chat_transferred to the old and new
// audiences, with the queue place when the chat waits.
func (s *Service) TransferChat(ctx context.Context, actor Actor, chatID string, in TransferInput) error {
	if !actor.IsAgent() && !actor.IsSystem() {
		return Errorf(TypeAuthorization, "Only agents can transfer chats")
	}
	if err := in.validate(); err != nil {
		return err
	}
	s.routing.routeMu.Lock()
	defer s.routing.routeMu.Unlock()
	c, err := s.readChat(ctx, actor, chatID)
	if err != nil {
		return err
	}
	if in.RequireActive && !c.Active() {
		return Errorf(TypeChatInactive, "Chat is inactive")
	}
	if in.RequirePresence && actor.IsAgent() && c.User(actor.ID) == nil {
		return Errorf(TypeAuthorization, "Requester is not a user of this chat")
	}
	groups := slices.Clone(c.Access.GroupIDs)
	var assignees []*Agent
	addReason := TransferAssigned
	switch in.TargetType {
	case TargetAgent:
		addReason = TransferManual
		for _, id := range in.AgentIDs {
			a, err := s.store.Agents().Get(ctx, id)
			if err != nil {
				return storeErr(err, "Agent")
			}
			if !AgentActor(a).canReadChat(c) {
				return Errorf(TypeMissingAccess, "Agent %s has no access to the chat", a.ID)
			}
			if c.User(a.ID) != nil {
				return Errorf(TypeValidation, "Agent %s is already a user of the chat", a.ID)
			}
			if !in.IgnoreAgentsAvailability && s.EffectiveRoutingStatus(a) == RoutingOffline {
				return &Error{Type: TypeAgentOffline, Message: "Agent " + a.ID + " is offline", Data: map[string]any{"agent_id": a.ID}}
			}
			assignees = append(assignees, a)
		}
	default:
		if in.TargetType == TargetGroup {
			if err := s.checkGroups(ctx, in.GroupIDs); err != nil {
				return err
			}
			groups = slices.Clone(in.GroupIDs)
		}
		if c.Active() {
			snap, err := s.routingSnapshot(ctx)
			if err != nil {
				return err
			}
			if a := s.pickAgent(snap, groups, c.AgentIDs()); a != nil {
				assignees = append(assignees, a)
			} else if !in.IgnoreAgentsAvailability {
				return Errorf(TypeAgentOffline, "No agent of groups %v can take the chat now", groups)
			}
		}
	}

	var before []Topic
	var from TransferTarget
	var removed, added []ChatUser
	var sys *Event
	accessChanged := false
	err = func() error {
		defer s.locks.lock("chat:" + chatID)()
		fresh, err := s.store.Chats().Get(ctx, chatID)
		if err != nil {
			return storeErr(err, "Chat")
		}
		c = fresh
		if in.RequireActive && !c.Active() {
			return Errorf(TypeChatInactive, "Chat is inactive")
		}
		before = chatTopics(c, false)
		from = TransferTarget{GroupIDs: slices.Clone(c.Access.GroupIDs), AgentIDs: c.AgentIDs()}
		accessChanged = !sameGroups(c.Access.GroupIDs, groups)
		c.Access = Access{GroupIDs: groups}
		if c.Active() || len(assignees) > 0 { // an archived chat moved to other groups keeps its history's agents
			for _, u := range c.Users {
				if u.Type == UserAgent {
					removed = append(removed, u)
				}
			}
			c.Users = slices.DeleteFunc(c.Users, func(u ChatUser) bool { return u.Type == UserAgent })
		}
		if c.Active() {
			if err := s.syncThreadAccess(ctx, c); err != nil {
				return err
			}
			text, vars := s.transferText(actor, assignees, groups)
			if sys, err = s.appendEvent(ctx, c, c.ActiveThreadID, System(), Event{Type: EventSystemMessage, SystemMessageType: "manual_transfer", Text: text, TextVars: vars, Visibility: VisibilityAll}); err != nil {
				return err
			}
		}
		for _, a := range assignees {
			u, _, err := s.addAssignee(ctx, c, a, "", "", nil)
			if err != nil {
				return err
			}
			added = append(added, u)
		}
		c.UpdatedAt = s.now()
		return s.store.Chats().Replace(ctx, c.ID, c)
	}()
	if err != nil {
		return err
	}
	now := s.now()
	for _, a := range assignees {
		s.routing.lastAssigned[a.ID] = now
	}
	if len(assignees) > 0 {
		delete(s.routing.queued, c.ID)
	}
	after := chatTopics(c, false)
	both := append(slices.Clone(before), after...)
	if accessChanged {
		s.emit(ctx, &DomainEvent{Kind: KindChatAccessUpdated, ChatID: c.ID, RequesterID: actor.ID, Topics: both, AgentsOnly: true, Data: AccessData{Access: c.Access}})
	}
	for _, u := range removed {
		s.emit(ctx, &DomainEvent{Kind: KindUserRemovedFromChat, ChatID: c.ID, ThreadID: c.ActiveThreadID, RequesterID: actor.ID, Topics: before, Data: UserChangeData{User: u, Reason: TransferManual}})
	}
	for _, u := range added {
		s.emitAssigned(ctx, c, u, nil, addReason, actor.ID, &from)
	}
	if sys != nil {
		s.emitEvent(ctx, System(), c, sys)
	}
	// A pass gives the capacity the old agents freed to the queue, and puts
	// this chat in its place there when nobody took it.
	if err := s.routeLocked(ctx); err != nil {
		s.log.Warn("routing pass after transfer failed", "chat_id", c.ID, "err", err)
	}
	data := ChatTransferredData{Reason: TransferManual, TransferredTo: TransferTarget{GroupIDs: slices.Clone(groups)}}
	for _, a := range assignees {
		data.TransferredTo.AgentIDs = append(data.TransferredTo.AgentIDs, a.ID)
	}
	if q, ok := s.routing.queued[c.ID]; ok && len(assignees) == 0 {
		queue := q.Queue
		data.Queue = &queue
	}
	s.emit(ctx, &DomainEvent{Kind: KindChatTransferred, ChatID: c.ID, ThreadID: c.ActiveThreadID, RequesterID: actor.ID, Topics: both, Data: data})
	return nil
}

// transferText is the system message of a transfer.
func (s *Service) transferText(actor Actor, to []*Agent, groups []int) (string, map[string]string) {
	target := ""
	if len(to) > 0 {
		names := make([]string, 0, len(to))
		for _, a := range to {
			names = append(names, agentName(a))
		}
		target = strings.Join(names, ", ")
	} else {
		ids := make([]string, 0, len(groups))
		for _, g := range groups {
			ids = append(ids, strconv.Itoa(g))
		}
		target = "group " + strings.Join(ids, ", ")
	}
	vars := map[string]string{"target": target}
	text := "Chat transferred to " + target
	if actor.IsAgent() {
		vars["agent"] = agentName(actor.Agent)
		text += " by " + vars["agent"]
	}
	return text, vars
}

// sameGroups says whether two group lists hold the same groups.
func sameGroups(a, b []int) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}
