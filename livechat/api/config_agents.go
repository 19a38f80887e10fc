package api

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"

	"github.com/chatbridge/chatbridge/livechat"
)

// Configuration API: agents.
//
// chatbridge extension: create_agent and update_agent take an optional
// "password" (6 to 256 characters) with which the agent signs in at
// POST /v2/token (grant_type=password); without one an agent signs in only
// with tokens issued otherwise.

// agentFields are the values of get_agent / list_agents "fields".
var agentFields = []string{"work_scheduler", "groups", "email_subscriptions", "notifications", "job_title",
	"mobile", "max_chats_count", "suspended", "awaiting_approval", "last_logout"}

// maxAgentChats is the max_chats_count limit of agents by version.
func maxAgentChats(v string) int {
	if v < "3.4" {
		return 100
	}
	return 20
}

// loginStatus names a routing status the Configuration API way.
func loginStatus(routing string) string {
	if routing == livechat.RoutingAccepting {
		return "accepting chats"
	}
	return "not accepting chats"
}

// parseLoginStatus reads a login_status ("accepting chats" or
// "not accepting chats"; the underscored routing names too).
func parseLoginStatus(s string) (string, error) {
	switch strings.ReplaceAll(s, "_", " ") {
	case "accepting chats":
		return livechat.RoutingAccepting, nil
	case "not accepting chats":
		return livechat.RoutingNotAccepting, nil
	}
	return "", livechat.Errorf(livechat.TypeValidation, "login_status must be accepting chats or not accepting chats")
}

// WorkScheduler renders a work schedule for version v: 3.5's {timezone,
// schedule: [...]}, or 3.3/3.4's {day: {start, end}} (the first enabled range
// of each day).
func WorkScheduler(w *livechat.WorkScheduler, v string) M {
	if w == nil {
		return M{}
	}
	if v >= "3.5" {
		days := make([]M, 0, len(w.Schedule))
		for _, d := range w.Schedule {
			days = append(days, M{"day": d.Day, "enabled": d.Enabled, "start": d.Start, "end": d.End})
		}
		out := M{"schedule": days}
		if w.Timezone != "" {
			out["timezone"] = w.Timezone
		}
		return out
	}
	out := M{}
	for _, d := range w.Schedule {
		if _, done := out[d.Day]; d.Enabled && !done {
			out[d.Day] = M{"start": d.Start, "end": d.End}
		}
	}
	return out
}

// parseWorkScheduler reads either shape of work_scheduler, whatever the
// version; timezone is 3.3/3.4 bots' top-level timezone.
func parseWorkScheduler(raw json.RawMessage, timezone string) (*livechat.WorkScheduler, error) {
	bad := func() error {
		return livechat.Errorf(livechat.TypeValidation, "work_scheduler must be {timezone, schedule: [{day, enabled, start, end}]} or {day: {start, end}}")
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, bad()
	}
	_, hasSchedule := probe["schedule"]
	_, hasTZ := probe["timezone"]
	if hasSchedule || hasTZ {
		var w livechat.WorkScheduler
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&w); err != nil {
			return nil, bad()
		}
		if w.Timezone == "" {
			w.Timezone = timezone
		}
		if w.Schedule == nil {
			w.Schedule = []livechat.WorkDay{}
		}
		return &w, nil
	}
	w := &livechat.WorkScheduler{Timezone: timezone, Schedule: []livechat.WorkDay{}}
	for _, day := range livechat.WeekDays { // keyed by weekday, in week order
		r, ok := probe[day]
		if !ok {
			continue
		}
		var se struct {
			Start string `json:"start"`
			End   string `json:"end"`
		}
		if err := json.Unmarshal(r, &se); err != nil {
			return nil, bad()
		}
		w.Schedule = append(w.Schedule, livechat.WorkDay{Day: day, Enabled: true, Start: se.Start, End: se.End})
		delete(probe, day)
	}
	if len(probe) > 0 {
		return nil, bad()
	}
	if len(w.Schedule) > 0 && w.Timezone == "" {
		w.Timezone = "UTC" // 3.3/3.4 agents had no time zone in the schedule
	}
	return w, nil
}

// groupsOut renders group memberships.
func groupsOut(gs []livechat.GroupMembership) []M {
	out := make([]M, 0, len(gs))
	for _, g := range gs {
		out = append(out, M{"id": g.ID, "priority": g.Priority})
	}
	return out
}

func stringsOut(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

// ConfigAgent renders an agent for get_agent / list_agents in version v:
// id, name, avatar, role, login_status (and account_id from 3.5), plus
// the requested fields.
func ConfigAgent(a *livechat.Agent, v string, fields map[string]bool) M {
	out := M{"id": a.ID, "name": a.Name, "role": a.Role, "login_status": loginStatus(a.RoutingStatus)}
	if v < "3.4" {
		out["avatar_path"] = a.Avatar
	} else {
		out["avatar"] = a.Avatar
	}
	if v >= "3.5" {
		out["account_id"] = a.AccountID
	}
	for f := range fields {
		switch f {
		case "work_scheduler":
			out[f] = WorkScheduler(a.WorkScheduler, v)
		case "groups":
			out[f] = groupsOut(a.Groups)
		case "email_subscriptions":
			out[f] = stringsOut(a.EmailSubscriptions)
		case "notifications":
			out[f] = stringsOut(a.Notifications)
		case "job_title":
			out[f] = a.JobTitle
		case "mobile":
			out[f] = a.Mobile
		case "max_chats_count":
			out[f] = a.MaxChats
		case "suspended":
			out[f] = a.Suspended
		case "awaiting_approval":
			out[f] = a.AwaitingApproval
		case "last_logout": // chatbridge keeps no logout time: omitted, as for agents who never logged out
		}
	}
	return out
}

// agentArgs is the payload of create_agent and update_agent.
type agentArgs struct {
	ID                 string          `json:"id"`
	Name               *string         `json:"name"`
	Role               *string         `json:"role"`
	Avatar             *string         `json:"avatar"`
	AvatarPath         *string         `json:"avatar_path"`
	LoginStatus        *string         `json:"login_status"`
	JobTitle           *string         `json:"job_title"`
	Mobile             *string         `json:"mobile"`
	MaxChatsCount      *int            `json:"max_chats_count"`
	AwaitingApproval   *bool           `json:"awaiting_approval"`
	Groups             *[]groupArg     `json:"groups"`
	Notifications      *[]string       `json:"notifications"`
	EmailSubscriptions *[]string       `json:"email_subscriptions"`
	WorkScheduler      json.RawMessage `json:"work_scheduler"`
	Password           *string         `json:"password"` // chatbridge extension
}

type groupArg struct {
	ID       *int   `json:"id"`
	Priority string `json:"priority"`
}

func memberships(gs []groupArg) ([]livechat.GroupMembership, error) {
	out := make([]livechat.GroupMembership, 0, len(gs))
	for _, g := range gs {
		if g.ID == nil {
			return nil, livechat.Errorf(livechat.TypeValidation, "groups[].id is required")
		}
		out = append(out, livechat.GroupMembership{ID: *g.ID, Priority: g.Priority})
	}
	return out, nil
}

// changes turns the payload into core changes, checking the limits that
// depend on the version.
func (a *agentArgs) changes(v string, chatLimit int) (livechat.AgentChanges, error) {
	ch := livechat.AgentChanges{Name: a.Name, Role: a.Role, Avatar: a.Avatar, JobTitle: a.JobTitle, Mobile: a.Mobile,
		MaxChats: a.MaxChatsCount, Notifications: a.Notifications, EmailSubscriptions: a.EmailSubscriptions, Password: a.Password}
	if ch.Avatar == nil {
		ch.Avatar = a.AvatarPath
	}
	if a.MaxChatsCount != nil && (*a.MaxChatsCount < 1 || *a.MaxChatsCount > chatLimit) {
		return ch, livechat.Errorf(livechat.TypeValidation, "max_chats_count must be 1 to %d", chatLimit)
	}
	if a.LoginStatus != nil {
		st, err := parseLoginStatus(*a.LoginStatus)
		if err != nil {
			return ch, err
		}
		ch.RoutingStatus = &st
	}
	if a.Groups != nil {
		gs, err := memberships(*a.Groups)
		if err != nil {
			return ch, err
		}
		ch.Groups = &gs
	}
	if rawSet(a.WorkScheduler) {
		w, err := parseWorkScheduler(a.WorkScheduler, "")
		if err != nil {
			return ch, err
		}
		ch.WorkScheduler = w
	}
	return ch, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func createAgent(ctx context.Context, c *Call) (any, error) {
	req, err := decode[agentArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.ID != "" && req.Name != nil && *req.Name != "", "id and name"); err != nil {
		return nil, err
	}
	ch, err := req.changes(c.Version, maxAgentChats(c.Version))
	if err != nil {
		return nil, err
	}
	if err := ch.Validate(); err != nil {
		return nil, err
	}
	in := livechat.AgentInput{Email: req.ID, Name: *req.Name, Role: deref(ch.Role), Avatar: deref(ch.Avatar),
		Password: deref(req.Password), MaxChats: deref(ch.MaxChats), RoutingStatus: deref(ch.RoutingStatus),
		Profile: livechat.AgentProfile{JobTitle: deref(ch.JobTitle), Mobile: deref(ch.Mobile), AwaitingApproval: deref(req.AwaitingApproval),
			Notifications: deref(ch.Notifications), EmailSubscriptions: deref(ch.EmailSubscriptions), WorkScheduler: ch.WorkScheduler}}
	if ch.Groups != nil {
		in.Groups = *ch.Groups
	}
	if req.Password != nil && *req.Password == "" {
		return nil, livechat.Errorf(livechat.TypeValidation, "password must be 6 to 256 characters")
	}
	a, err := c.Svc.CreateAgent(ctx, c.Actor, in)
	if err != nil {
		return nil, err
	}
	return M{"id": a.ID}, nil
}

func getAgent(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		ID     string   `json:"id"`
		Fields []string `json:"fields"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.ID != "", "id"); err != nil {
		return nil, err
	}
	fields, err := fieldSet(req.Fields, agentFields...)
	if err != nil {
		return nil, err
	}
	a, err := c.Svc.GetConfigAgent(ctx, c.Actor, req.ID)
	if err != nil {
		return nil, err
	}
	return ConfigAgent(a, c.Version, fields), nil
}

func listAgents(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		Filters struct {
			GroupIDs  []int `json:"group_ids"`
			Suspended *bool `json:"suspended"`
		} `json:"filters"`
		Fields []string `json:"fields"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	fields, err := fieldSet(req.Fields, agentFields...)
	if err != nil {
		return nil, err
	}
	agents, err := c.Svc.ListConfigAgents(ctx, c.Actor, req.Filters.GroupIDs, req.Filters.Suspended)
	if err != nil {
		return nil, err
	}
	out := make([]M, 0, len(agents))
	for i := range agents {
		out = append(out, ConfigAgent(&agents[i], c.Version, fields))
	}
	return out, nil
}

func updateAgent(ctx context.Context, c *Call) (any, error) {
	req, err := decode[agentArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.ID != "", "id"); err != nil {
		return nil, err
	}
	if req.AwaitingApproval != nil {
		return nil, livechat.Errorf(livechat.TypeValidation, "awaiting_approval cannot be updated; use approve_agent")
	}
	ch, err := req.changes(c.Version, maxAgentChats(c.Version))
	if err != nil {
		return nil, err
	}
	_, err = c.Svc.UpdateConfigAgent(ctx, c.Actor, req.ID, ch)
	return empty{}, err
}

// agentByID serves the methods that take only an agent id.
func agentByID(op func(*livechat.Service, context.Context, livechat.Actor, string) error) Handler {
	return func(ctx context.Context, c *Call) (any, error) {
		req, err := decode[struct {
			ID string `json:"id"`
		}](c.Payload)
		if err != nil {
			return nil, err
		}
		if err := required(req.ID != "", "id"); err != nil {
			return nil, err
		}
		return empty{}, op(c.Svc, ctx, c.Actor, req.ID)
	}
}

func requestAgentUnsuspension(ctx context.Context, c *Call) (any, error) {
	return empty{}, c.Svc.RequestAgentUnsuspension(ctx, c.Actor)
}
