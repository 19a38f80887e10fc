package livechat

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
)

// Group membership lives on the agents (Agent.Groups), so a group's
// agent_priorities is read from them and written to them: the router and the
// Configuration API see one truth.

// GroupChanges is an update of a group: nil fields stay.
type GroupChanges struct {
	Name         *string
	LanguageCode *string
	// AgentPriorities replaces the group's members: {agent_id: priority}.
	AgentPriorities map[string]string
}

func validateGroupName(name string) error {
	if strings.TrimSpace(name) == "" || len(name) > 180 {
		return Errorf(TypeValidation, "group name must be 1 to 180 characters")
	}
	return nil
}

func validLanguageCode(code string) bool {
	if len(code) < 2 || len(code) > 8 {
		return false
	}
	for _, r := range code {
		if !(r >= 'a' && r <= 'z') && !(r >= 'A' && r <= 'Z') && r != '-' && r != '_' {
			return false
		}
	}
	return true
}

// checkAgentPriorities checks a group's new members: known agents or bots,
// valid priorities, and (as LiveChat up to 3.5 asks) at least one agent with
// the normal priority. It returns the map with lower-cased ids.
func (s *Service) checkAgentPriorities(ctx context.Context, prio map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(prio))
	normal := false
	for id, p := range prio {
		if !slices.Contains(GroupPriorities, p) {
			return nil, Errorf(TypeValidation, "agent_priorities: priority must be one of %s", strings.Join(GroupPriorities, ", "))
		}
		id = strings.ToLower(id)
		if _, err := s.store.Agents().Get(ctx, id); err != nil {
			return nil, storeErr(err, "Agent "+id)
		}
		normal = normal || p == PriorityNormal
		out[id] = p
	}
	if !normal {
		return nil, Errorf(TypeValidation, "agent_priorities needs at least one agent with the normal priority")
	}
	return out, nil
}

// setGroupMembers makes prio the members of group id: listed agents join (or
// change priority), other members leave.
func (s *Service) setGroupMembers(ctx context.Context, id int, prio map[string]string) error {
	agents, err := s.store.Agents().Find(ctx, Query{})
	if err != nil {
		return err
	}
	for _, a := range agents {
		want, listed := prio[a.ID]
		i := slices.IndexFunc(a.Groups, func(m GroupMembership) bool { return m.ID == id })
		if (i < 0 && !listed) || (i >= 0 && listed && a.Groups[i].Priority == want) {
			continue
		}
		err := s.updateAgent(ctx, a.ID, func(a *Agent) error {
			a.Groups = slices.DeleteFunc(a.Groups, func(m GroupMembership) bool { return m.ID == id })
			if listed {
				a.Groups = append(a.Groups, GroupMembership{ID: id, Priority: want})
			}
			return nil
		})
		if err != nil && !IsType(err, TypeNotFound) { // an agent deleted meanwhile is no member
			return err
		}
	}
	return nil
}

// CreateConfigGroup creates a group with its members (create_group).
// Managers only.
func (s *Service) CreateConfigGroup(ctx context.Context, actor Actor, name, languageCode string, prio map[string]string) (*Group, error) {
	if !actor.IsManager() {
		return nil, Errorf(TypeAuthorization, "Only owners and administrators can create groups")
	}
	name = strings.TrimSpace(name)
	if err := validateGroupName(name); err != nil {
		return nil, err
	}
	if languageCode != "" && !validLanguageCode(languageCode) {
		return nil, Errorf(TypeValidation, "language_code is not a language code")
	}
	prio, err := s.checkAgentPriorities(ctx, prio)
	if err != nil {
		return nil, err
	}
	g, err := s.insertGroup(ctx, name, languageCode)
	if err != nil {
		return nil, err
	}
	if err := s.setGroupMembers(ctx, g.ID, prio); err != nil {
		return nil, err
	}
	s.emitConfig(ctx, actor, KindGroupCreated, GroupData{Group: g})
	s.routeQueuedLogged(ctx)
	return g, nil
}

// UpdateConfigGroup changes a group (update_group). Managers only.
func (s *Service) UpdateConfigGroup(ctx context.Context, actor Actor, id int, ch GroupChanges) error {
	if !actor.IsManager() {
		return Errorf(TypeAuthorization, "Only owners and administrators can change groups")
	}
	g, err := s.store.Groups().Get(ctx, id)
	if err != nil {
		return groupErr(err)
	}
	var changed []string
	if ch.Name != nil {
		name := strings.TrimSpace(*ch.Name)
		if err := validateGroupName(name); err != nil {
			return err
		}
		if name != g.Name {
			g.Name, changed = name, append(changed, "name")
		}
	}
	if ch.LanguageCode != nil {
		if !validLanguageCode(*ch.LanguageCode) {
			return Errorf(TypeValidation, "language_code is not a language code")
		}
		if *ch.LanguageCode != g.LanguageCode {
			g.LanguageCode, changed = *ch.LanguageCode, append(changed, "language_code")
		}
	}
	var prio map[string]string
	if ch.AgentPriorities != nil {
		if prio, err = s.checkAgentPriorities(ctx, ch.AgentPriorities); err != nil {
			return err
		}
		old, err := s.GroupAgentPriorities(ctx, id)
		if err != nil {
			return err
		}
		if !maps.Equal(old, prio) {
			changed = append(changed, "agent_priorities")
		}
	}
	if slices.Contains(changed, "name") || slices.Contains(changed, "language_code") {
		if err := s.store.Groups().Replace(ctx, id, g); err != nil {
			return groupErr(err)
		}
	}
	if prio != nil {
		if err := s.setGroupMembers(ctx, id, prio); err != nil {
			return err
		}
	}
	if len(changed) == 0 {
		return nil
	}
	all, err := s.GroupAgentPriorities(ctx, id)
	if err != nil {
		return err
	}
	s.emitConfig(ctx, actor, KindGroupUpdated, GroupUpdatedData{Group: g, AgentPriorities: all, Changed: changed})
	if prio != nil {
		s.routeQueuedLogged(ctx)
	}
	return nil
}

func groupErr(err error) error {
	if IsType(storeErr(err, "Group"), TypeNotFound) {
		return Errorf(TypeGroupNotFound, "Group not found")
	}
	return err
}

// DeleteConfigGroup deletes a group other than 0 (delete_group): its members
// leave it, its properties go, tags and auto access rules stop naming it.
// Chats keep their access. Managers only.
func (s *Service) DeleteConfigGroup(ctx context.Context, actor Actor, id int) error {
	if !actor.IsManager() {
		return Errorf(TypeAuthorization, "Only owners and administrators can delete groups")
	}
	if id == 0 {
		return Errorf(TypeValidation, "Group 0 cannot be deleted")
	}
	if _, err := s.store.Groups().Get(ctx, id); err != nil {
		return groupErr(err)
	}
	if err := s.setGroupMembers(ctx, id, nil); err != nil {
		return err
	}
	if err := s.store.Groups().Delete(ctx, id); err != nil {
		return groupErr(err)
	}
	if id > s.deletedGroupFloor(ctx) {
		if err := s.putSetting(ctx, deletedGroupKey, id); err != nil {
			s.log.Warn("remember deleted group id", "group_id", id, "err", err)
		}
	}
	if err := s.store.Settings().Delete(ctx, groupPropertiesKey(id)); err != nil && !errors.Is(err, ErrNotFound) {
		s.log.Warn("delete group properties", "group_id", id, "err", err)
	}
	if err := s.dropGroupFromTags(ctx, actor, id); err != nil {
		s.log.Warn("drop deleted group from tags", "group_id", id, "err", err)
	}
	if err := s.dropGroupFromAutoAccesses(ctx, actor, id); err != nil {
		s.log.Warn("drop deleted group from auto access", "group_id", id, "err", err)
	}
	s.emitConfig(ctx, actor, KindGroupDeleted, GroupIDData{ID: id})
	return nil
}

// GetConfigGroup returns a group (get_group). Agents only.
func (s *Service) GetConfigGroup(ctx context.Context, actor Actor, id int) (*Group, error) {
	if !actor.IsAgent() && !actor.IsSystem() {
		return nil, Errorf(TypeAuthorization, "Only agents can read groups")
	}
	g, err := s.store.Groups().Get(ctx, id)
	if err != nil {
		return nil, groupErr(err)
	}
	return g, nil
}

// GroupAgentPriorities lists the members of group id with their priorities
// (agent_priorities).
func (s *Service) GroupAgentPriorities(ctx context.Context, id int) (map[string]string, error) {
	agents, err := s.store.Agents().Find(ctx, Query{})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, a := range agents {
		for _, m := range a.Groups {
			if m.ID == id {
				out[a.ID] = m.Priority
			}
		}
	}
	return out, nil
}

// GroupRoutingStatus is a group's routing_status: accepting_chats when one
// of its agents (every agent, for group 0) accepts chats, not_accepting_chats
// when one is online, offline otherwise. Supervisors and suspended agents
// do not count.
func (s *Service) GroupRoutingStatus(ctx context.Context, id int) (string, error) {
	agents, err := s.store.Agents().Find(ctx, Query{})
	if err != nil {
		return "", err
	}
	status := RoutingOffline
	for i := range agents {
		a := &agents[i]
		if rank, ok := routingRank(a, []int{id}); !ok || rank < 0 {
			continue
		}
		switch s.EffectiveRoutingStatus(a) {
		case RoutingAccepting:
			return RoutingAccepting, nil
		case RoutingNotAccepting:
			status = RoutingNotAccepting
		}
	}
	return status, nil
}

// deletedGroupKey is the Setting holding the highest id of a deleted group:
// new groups get higher ids, so chats that named a deleted group never
// become visible to a new group that took its id.
const deletedGroupKey = "groups.highest_deleted_id"

func (s *Service) deletedGroupFloor(ctx context.Context) int {
	st, err := s.store.Settings().Get(ctx, deletedGroupKey)
	if err != nil {
		return 0
	}
	n, _ := numberOf(st.Value)
	return int(n)
}
