package livechat

import (
	"context"
	"slices"
	"strings"
)

// Group priorities of an agent in a group (GroupMembership.Priority, a bot's
// default_group_priority, a group's agent_priorities). The router never gives
// chats to supervisors.
const (
	PriorityFirst      = "first"
	PriorityNormal     = "normal"
	PriorityLast       = "last"
	PrioritySupervisor = "supervisor"
)

// GroupPriorities lists the valid group priorities.
var GroupPriorities = []string{PriorityFirst, PriorityNormal, PriorityLast, PrioritySupervisor}

// AgentNotifications lists the values of an agent's notifications.
var AgentNotifications = []string{"new_visitor", "incoming_chat", "returning_visitor", "queued_visitor",
	"visitor_is_typing", "new_goal", "unassigned_chats", "unassigned_chat_messages", "ticket",
	"inactive_notifications", "mute_all_sounds", "repeat_sound_notifications", "ticket_notifications",
	"incoming_message_for_focused_chat"}

// AgentEmailSubscriptions lists the values of an agent's email_subscriptions.
var AgentEmailSubscriptions = []string{"daily_summary", "weekly_summary"}

// WeekDays are the days of a work schedule, Monday first.
var WeekDays = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

// WorkDay is one working range of a work schedule (LiveChat 3.5 shape; a
// day may have several ranges).
type WorkDay struct {
	Day     string `bson:"day" json:"day"`
	Enabled bool   `bson:"enabled" json:"enabled"`
	Start   string `bson:"start" json:"start"`
	End     string `bson:"end" json:"end"`
}

// WorkScheduler is an agent's or bot's working hours. chatbridge keeps it
// for clients; it does not change routing.
type WorkScheduler struct {
	Timezone string    `bson:"timezone,omitempty" json:"timezone,omitempty"`
	Schedule []WorkDay `bson:"schedule" json:"schedule"`
}

// AgentProfile is what the Configuration API keeps about an agent or bot
// beyond what chat routing needs. It is embedded (inline) in Agent.
type AgentProfile struct {
	JobTitle           string         `bson:"job_title,omitempty" json:"job_title,omitempty"`
	Mobile             string         `bson:"mobile,omitempty" json:"mobile,omitempty"`
	AwaitingApproval   bool           `bson:"awaiting_approval,omitempty" json:"awaiting_approval,omitempty"`
	Notifications      []string       `bson:"notifications,omitempty" json:"notifications,omitempty"`
	EmailSubscriptions []string       `bson:"email_subscriptions,omitempty" json:"email_subscriptions,omitempty"`
	WorkScheduler      *WorkScheduler `bson:"work_scheduler,omitempty" json:"work_scheduler,omitempty"`
	// DefaultGroupPriority is a bot's priority in groups given without one.
	DefaultGroupPriority string `bson:"default_group_priority,omitempty" json:"default_group_priority,omitempty"`
	// BotSecretHash is the SHA-256 of the bot's secret (issue_bot_token).
	BotSecretHash string `bson:"bot_secret_hash,omitempty" json:"-"`
	// BotTemplate marks a bot made by create_bot_template (its id is the template id).
	BotTemplate bool `bson:"bot_template,omitempty" json:"bot_template,omitempty"`
}

func validateProfile(p *AgentProfile) error {
	if len(p.JobTitle) > 256 || len(p.Mobile) > 64 {
		return Errorf(TypeValidation, "job_title or mobile is too long")
	}
	if err := checkEnum("notifications", p.Notifications, AgentNotifications); err != nil {
		return err
	}
	if err := checkEnum("email_subscriptions", p.EmailSubscriptions, AgentEmailSubscriptions); err != nil {
		return err
	}
	if p.DefaultGroupPriority != "" && !slices.Contains(GroupPriorities, p.DefaultGroupPriority) {
		return Errorf(TypeValidation, "default_group_priority must be one of %s", strings.Join(GroupPriorities, ", "))
	}
	return validateWorkScheduler(p.WorkScheduler)
}

func checkEnum(field string, got, allowed []string) error {
	for _, v := range got {
		if !slices.Contains(allowed, v) {
			return Errorf(TypeValidation, "%s: unknown value %q", field, v)
		}
	}
	return nil
}

func validateWorkScheduler(w *WorkScheduler) error {
	if w == nil {
		return nil
	}
	if len(w.Schedule) > 0 && w.Timezone == "" {
		return Errorf(TypeValidation, "work_scheduler.timezone is required with a schedule")
	}
	if len(w.Timezone) > 64 || strings.ContainsAny(w.Timezone, " \t\n") {
		return Errorf(TypeValidation, "work_scheduler.timezone is not a time zone name")
	}
	if len(w.Schedule) > 7*24 {
		return Errorf(TypeValidation, "work_scheduler.schedule is too long")
	}
	for _, d := range w.Schedule {
		if !slices.Contains(WeekDays, d.Day) {
			return Errorf(TypeValidation, "work_scheduler: unknown day %q", d.Day)
		}
		if !validClock(d.Start) || !validClock(d.End) {
			return Errorf(TypeValidation, "work_scheduler: start and end must be HH:MM")
		}
	}
	return nil
}

// validClock says whether s is a 24-hour HH:MM time (24:00 allowed as an end).
func validClock(s string) bool {
	if len(s) != 5 || s[2] != ':' {
		return false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	h, m := int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
	return m < 60 && (h < 24 || (h == 24 && m == 0))
}

// normalizeMemberships checks group priorities, filling def where empty, and
// refuses a group listed twice.
func normalizeMemberships(gs []GroupMembership, def string) error {
	seen := map[int]bool{}
	for i := range gs {
		if gs[i].Priority == "" {
			gs[i].Priority = def
		}
		if !slices.Contains(GroupPriorities, gs[i].Priority) {
			return Errorf(TypeValidation, "groups[].priority must be one of %s", strings.Join(GroupPriorities, ", "))
		}
		if gs[i].ID < 0 || seen[gs[i].ID] {
			return Errorf(TypeValidation, "groups[].id must be distinct group ids")
		}
		seen[gs[i].ID] = true
	}
	return nil
}

func (s *Service) checkMembershipGroups(ctx context.Context, gs []GroupMembership) error {
	for _, g := range gs {
		if _, err := s.store.Groups().Get(ctx, g.ID); err != nil {
			if IsType(storeErr(err, "Group"), TypeNotFound) {
				return Errorf(TypeGroupNotFound, "group %d not found", g.ID)
			}
			return err
		}
	}
	return nil
}

// AgentChanges is an update of an agent or bot: nil fields stay as they are.
type AgentChanges struct {
	Name               *string
	Role               *string
	Avatar             *string
	JobTitle           *string
	Mobile             *string
	MaxChats           *int
	RoutingStatus      *string // login_status, as a routing status
	Groups             *[]GroupMembership
	Notifications      *[]string
	EmailSubscriptions *[]string
	WorkScheduler      *WorkScheduler // non-nil replaces (an empty one clears)
	// DefaultGroupPriority applies to bots.
	DefaultGroupPriority *string
	// Password is chatbridge's extension of update_agent: a new sign-in password.
	Password *string
}

// personalOnly says whether the changes touch only what an agent may change
// about itself (LiveChat's agents--my:rw).
func (ch *AgentChanges) personalOnly() bool {
	return ch.Role == nil && ch.MaxChats == nil && ch.Groups == nil && ch.DefaultGroupPriority == nil
}

// Validate checks the values of the changes (not who may make them).
func (ch *AgentChanges) Validate() error {
	if ch.Name != nil && (strings.TrimSpace(*ch.Name) == "" || len(*ch.Name) > 256) {
		return Errorf(TypeValidation, "name must be 1 to 256 characters")
	}
	if ch.Role != nil && !slices.Contains([]string{RoleOwner, RoleViceOwner, RoleAdministrator, RoleNormal}, *ch.Role) {
		return Errorf(TypeValidation, "role must be one of owner, viceowner, administrator, normal")
	}
	if ch.MaxChats != nil && *ch.MaxChats < 0 {
		return Errorf(TypeValidation, "max_chats_count must not be negative")
	}
	if ch.RoutingStatus != nil && *ch.RoutingStatus != RoutingAccepting && *ch.RoutingStatus != RoutingNotAccepting {
		return Errorf(TypeValidation, "login_status must be accepting chats or not accepting chats")
	}
	p := AgentProfile{WorkScheduler: ch.WorkScheduler}
	if ch.JobTitle != nil {
		p.JobTitle = *ch.JobTitle
	}
	if ch.Mobile != nil {
		p.Mobile = *ch.Mobile
	}
	if ch.Notifications != nil {
		p.Notifications = *ch.Notifications
	}
	if ch.EmailSubscriptions != nil {
		p.EmailSubscriptions = *ch.EmailSubscriptions
	}
	if ch.DefaultGroupPriority != nil {
		p.DefaultGroupPriority = *ch.DefaultGroupPriority
	}
	return validateProfile(&p)
}

// apply writes the changes into a and names the changed fields by their
// Configuration API names.
func (ch *AgentChanges) apply(a *Agent) []string {
	var changed []string
	set := func(name string, dst *string, v *string) {
		if v != nil && *dst != *v {
			*dst = *v
			changed = append(changed, name)
		}
	}
	set("name", &a.Name, ch.Name)
	set("role", &a.Role, ch.Role)
	set("avatar", &a.Avatar, ch.Avatar)
	set("job_title", &a.JobTitle, ch.JobTitle)
	set("mobile", &a.Mobile, ch.Mobile)
	set("login_status", &a.RoutingStatus, ch.RoutingStatus)
	set("default_group_priority", &a.DefaultGroupPriority, ch.DefaultGroupPriority)
	if ch.MaxChats != nil && a.MaxChats != *ch.MaxChats {
		a.MaxChats = *ch.MaxChats
		changed = append(changed, "max_chats_count")
	}
	if ch.Groups != nil && !slices.Equal(a.Groups, *ch.Groups) {
		a.Groups = slices.Clone(*ch.Groups)
		changed = append(changed, "groups")
	}
	if ch.Notifications != nil && !slices.Equal(a.Notifications, *ch.Notifications) {
		a.Notifications = slices.Clone(*ch.Notifications)
		changed = append(changed, "notifications")
	}
	if ch.EmailSubscriptions != nil && !slices.Equal(a.EmailSubscriptions, *ch.EmailSubscriptions) {
		a.EmailSubscriptions = slices.Clone(*ch.EmailSubscriptions)
		changed = append(changed, "email_subscriptions")
	}
	if ch.WorkScheduler != nil {
		w := *ch.WorkScheduler
		a.WorkScheduler = &w
		changed = append(changed, "work_scheduler")
	}
	return changed
}

// configTarget loads the agent (bot false) or bot (bot true) with id; the
// other kind is not found, as LiveChat keeps the two apart.
func (s *Service) configTarget(ctx context.Context, id string, bot bool) (*Agent, error) {
	what := "Agent"
	if bot {
		what = "Bot"
	}
	if id == "" {
		return nil, Errorf(TypeValidation, "id is required")
	}
	a, err := s.store.Agents().Get(ctx, strings.ToLower(id))
	if err != nil {
		return nil, storeErr(err, what)
	}
	if (a.Kind == AgentKindBot) != bot {
		return nil, notFound(what)
	}
	return a, nil
}

// GetConfigAgent returns a human agent (get_agent). Any agent may read any agent.
func (s *Service) GetConfigAgent(ctx context.Context, actor Actor, id string) (*Agent, error) {
	if !actor.IsAgent() && !actor.IsSystem() {
		return nil, Errorf(TypeAuthorization, "Only agents can read agents")
	}
	return s.configTarget(ctx, id, false)
}

// ListConfigAgents lists human agents (list_agents), oldest first: of any of
// groupIDs when given (group 0 holds everyone), suspended or not when
// suspended is set.
func (s *Service) ListConfigAgents(ctx context.Context, actor Actor, groupIDs []int, suspended *bool) ([]Agent, error) {
	if !actor.IsAgent() && !actor.IsSystem() {
		return nil, Errorf(TypeAuthorization, "Only agents can list agents")
	}
	all, err := s.store.Agents().Find(ctx, Query{Where: []Cond{Eq("kind", AgentKindHuman)}, Sort: "created_at"})
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, a := range all {
		if (len(groupIDs) > 0 && !groupsMeet(a.GroupIDs(), groupIDs)) || (suspended != nil && a.Suspended != *suspended) {
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

// UpdateConfigAgent changes a human agent (update_agent). Managers may change
// anyone (only owners make or unmake owners, and the last owner stays one);
// an agent may change its own personal fields (name, avatar, job title,
// mobile, login status, notifications, e-mail subscriptions, work schedule,
// password).
func (s *Service) UpdateConfigAgent(ctx context.Context, actor Actor, id string, ch AgentChanges) (*Agent, error) {
	target, err := s.configTarget(ctx, id, false)
	if err != nil {
		return nil, err
	}
	if !actor.IsManager() && !(actor.IsAgent() && actor.ID == target.ID && ch.personalOnly()) {
		return nil, Errorf(TypeAuthorization, "Only owners and administrators can change other agents, roles, groups and limits")
	}
	if ch.Role != nil && *ch.Role != target.Role && (*ch.Role == RoleOwner || target.Role == RoleOwner) {
		if !actor.IsSystem() && actor.Agent.Role != RoleOwner {
			return nil, Errorf(TypeAuthorization, "Only owners can make or unmake owners")
		}
		if target.Role == RoleOwner {
			if err := s.keepAnOwner(ctx, target.ID); err != nil {
				return nil, err
			}
		}
	}
	return s.changeAgent(ctx, actor, target, ch, KindAgentUpdated)
}

// keepAnOwner refuses a change that would leave the organization without an
// owner other than id.
func (s *Service) keepAnOwner(ctx context.Context, id string) error {
	owners, err := s.store.Agents().Find(ctx, Where(Eq("role", RoleOwner)))
	if err != nil {
		return err
	}
	for _, o := range owners {
		if o.ID != id && !o.Suspended {
			return nil
		}
	}
	return Errorf(TypeValidation, "The organization must keep an owner")
}

// changeAgent validates and applies ch to target and announces the change.
func (s *Service) changeAgent(ctx context.Context, actor Actor, target *Agent, ch AgentChanges, kind Kind) (*Agent, error) {
	if err := ch.Validate(); err != nil {
		return nil, err
	}
	if ch.Groups != nil {
		def := PriorityNormal
		if target.Kind == AgentKindBot {
			def = cmpOr(target.DefaultGroupPriority, PriorityFirst)
			if ch.DefaultGroupPriority != nil {
				def = *ch.DefaultGroupPriority
			}
		}
		gs := slices.Clone(*ch.Groups)
		if err := normalizeMemberships(gs, def); err != nil {
			return nil, err
		}
		if err := s.checkMembershipGroups(ctx, gs); err != nil {
			return nil, err
		}
		ch.Groups = &gs
	}
	var hash string
	if ch.Password != nil {
		h, err := s.hashPassword(*ch.Password)
		if err != nil {
			return nil, err
		}
		hash = h
	}
	var after *Agent
	var changed []string
	err := s.updateAgent(ctx, target.ID, func(a *Agent) error {
		changed = ch.apply(a)
		if hash != "" {
			a.PasswordHash = hash
		}
		after = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(changed) > 0 {
		s.emitConfig(ctx, actor, kind, AgentUpdatedData{Agent: after, Changed: changed})
	}
	if slices.ContainsFunc(changed, func(f string) bool { return f == "groups" || f == "max_chats_count" || f == "login_status" }) {
		s.routeQueuedLogged(ctx) // the agent may now take queued chats
	}
	return after, nil
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// agentStateChange runs a manager-only change of a human agent's state.
func (s *Service) agentStateChange(ctx context.Context, actor Actor, id string, change func(*Agent) error) (*Agent, error) {
	if !actor.IsManager() {
		return nil, Errorf(TypeAuthorization, "Only owners and administrators can do this")
	}
	target, err := s.configTarget(ctx, id, false)
	if err != nil {
		return nil, err
	}
	if actor.IsAgent() && target.ID == actor.ID {
		return nil, Errorf(TypeValidation, "Agents cannot do this to themselves")
	}
	if target.Role == RoleOwner && !actor.IsSystem() && actor.Agent.Role != RoleOwner {
		return nil, Errorf(TypeAuthorization, "Only owners can do this to owners")
	}
	var after *Agent
	err = s.updateAgent(ctx, target.ID, func(a *Agent) error {
		after = a
		return change(a)
	})
	return after, err
}

// DeleteConfigAgent deletes a human agent (delete_agent) and revokes its
// tokens. Managers only; owners only by owners; never the last owner. The
// agent's chats and events stay.
func (s *Service) DeleteConfigAgent(ctx context.Context, actor Actor, id string) error {
	target, err := s.agentStateChange(ctx, actor, id, func(a *Agent) error {
		if a.Role == RoleOwner {
			return s.keepAnOwner(ctx, a.ID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.store.Agents().Delete(ctx, target.ID); err != nil {
		return storeErr(err, "Agent")
	}
	s.revokeAgentTokens(ctx, target.ID)
	s.emitConfig(ctx, actor, KindAgentDeleted, AgentIDData{ID: target.ID})
	return nil
}

// revokeAgentTokens deletes every credential of agent id, so the next Web
// API request of its sessions fails authentication.
func (s *Service) revokeAgentTokens(ctx context.Context, id string) {
	if _, err := s.store.Tokens().DeleteWhere(ctx, Where(Eq("subject", id))); err != nil {
		s.log.Warn("revoke agent tokens", "agent_id", id, "err", err)
	}
}

// SuspendAgent suspends a human agent (suspend_agent): it can no longer sign
// in, its tokens are revoked and the router treats it as offline. Managers
// only; owners cannot be suspended.
func (s *Service) SuspendAgent(ctx context.Context, actor Actor, id string) error {
	target, err := s.agentStateChange(ctx, actor, id, func(a *Agent) error {
		if a.Role == RoleOwner {
			return Errorf(TypeValidation, "Owners cannot be suspended")
		}
		if a.Suspended {
			return Errorf(TypeValidation, "Agent is already suspended")
		}
		a.Suspended = true
		return nil
	})
	if err != nil {
		return err
	}
	s.revokeAgentTokens(ctx, target.ID)
	s.emitConfig(ctx, actor, KindAgentSuspended, AgentIDData{ID: target.ID})
	return nil
}

// UnsuspendAgent lifts a suspension (unsuspend_agent). Managers only.
func (s *Service) UnsuspendAgent(ctx context.Context, actor Actor, id string) error {
	target, err := s.agentStateChange(ctx, actor, id, func(a *Agent) error {
		if !a.Suspended {
			return Errorf(TypeValidation, "Agent is not suspended")
		}
		a.Suspended = false
		return nil
	})
	if err != nil {
		return err
	}
	s.emitConfig(ctx, actor, KindAgentUnsuspended, AgentIDData{ID: target.ID})
	return nil
}

// ApproveAgent approves an agent created awaiting approval (approve_agent),
// which may then sign in. Managers only.
func (s *Service) ApproveAgent(ctx context.Context, actor Actor, id string) error {
	target, err := s.agentStateChange(ctx, actor, id, func(a *Agent) error {
		if !a.AwaitingApproval {
			return Errorf(TypeValidation, "Agent is not awaiting approval")
		}
		a.AwaitingApproval = false
		return nil
	})
	if err != nil {
		return err
	}
	s.emitConfig(ctx, actor, KindAgentApproved, AgentIDData{ID: target.ID})
	return nil
}

// RequestAgentUnsuspension records that an agent asks to be unsuspended
// (request_agent_unsuspension). LiveChat e-mails the owners; chatbridge sends
// no e-mail and only logs the request.
func (s *Service) RequestAgentUnsuspension(_ context.Context, actor Actor) error {
	if !actor.IsAgent() {
		return Errorf(TypeAuthorization, "Only agents can request unsuspension")
	}
	s.log.Info("agent asks to be unsuspended", "agent_id", actor.ID)
	return nil
}

// groupPriorityDefault is the priority of a group membership given without
// one: normal for agents, the bot's default_group_priority (first) for bots.
func groupPriorityDefault(a *Agent) string {
	if a.Kind == AgentKindBot {
		return cmpOr(a.DefaultGroupPriority, PriorityFirst)
	}
	return PriorityNormal
}
