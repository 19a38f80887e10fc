package bridge

import (
	"context"
	"time"

	"github.com/chatbridge/chatbridge/ddp"
	"github.com/chatbridge/chatbridge/livechat"
)

// Start-up methods (spec §8.1): settings, permissions, roles and presence.

// setting is a public setting record.
type setting struct {
	ID    string `json:"_id"`
	Value any    `json:"value"`
}

// publicSettingList is what a client reads at start-up. The values state
// what chatbridge does: omnichannel rooms only, no threads, discussions,
// E2E, registration or uploads over this API; messages up to LiveChat's 16 KB.
func (b *Bridge) publicSettingList() []setting {
	return []setting{
		{"Site_Name", b.cfg.SiteName},
		{"Site_Url", b.cfg.SiteURL},
		{"Language", "en"},
		{"uniqueID", b.svc.Organization().OrganizationID},
		{"Accounts_AllowAnonymousRead", false},
		{"Accounts_RegistrationForm", "Disabled"},
		{"Accounts_PasswordReset", false},
		{"Accounts_AllowUserProfileChange", false},
		{"Accounts_TwoFactorAuthentication_Enabled", false},
		{"Accounts_ShowFormLogin", true},
		{"Accounts_LoginExpiration", int(b.cfg.ResumeTokenTTL / (24 * time.Hour))},
		{"UI_Use_Real_Name", false},
		{"Message_MaxAllowedSize", livechat.MaxMessageText},
		{"Message_AllowEditing", true},
		{"Message_AllowEditing_BlockEditInMinutes", 0},
		{"Message_AllowDeleting", true},
		{"Message_AllowDeleting_BlockDeleteInMinutes", 0},
		{"Message_ShowDeletedStatus", false},
		{"Message_ShowEditedStatus", true},
		{"Message_Read_Receipt_Enabled", false},
		{"Store_Last_Message", true},
		{"Threads_enabled", false},
		{"Discussion_enabled", false},
		{"E2E_Enable", false},
		{"FileUpload_Enabled", false},
		{"API_Enable_Rate_Limiter", true},
		{"Livechat_enabled", true},
		{"Livechat_title", b.cfg.SiteName},
		{"Livechat_Routing_Method", "Auto_Selection"},
		{"Livechat_registration_form", true},
		{"Livechat_allow_switching_departments", true},
		{"Livechat_show_agent_info", true},
		{"Livechat_display_offline_form", true},
		{"Omnichannel_enable_department_removal", false},
	}
}

// deltaSince reads the optional `{$date}` parameter of the */get methods.
func deltaSince(p ddp.Params) (time.Time, bool) {
	var since *time.Time
	if len(p) == 0 || p.Decode(&since) != nil || since == nil {
		return time.Time{}, false
	}
	return *since, true
}

// delta is the `{update, remove}` answer when the client gave a date.
type delta struct {
	Update any   `json:"update"`
	Remove []any `json:"remove"`
}

func (b *Bridge) publicSettings(_ context.Context, inv *ddp.Invocation) (any, error) {
	all := b.publicSettingList()
	if since, ok := deltaSince(inv.Params); ok {
		if !since.Before(b.started) {
			all = []setting{}
		}
		return delta{Update: all, Remove: []any{}}, nil
	}
	return all, nil
}

// privateSettings: nobody has the permissions that would show any.
func (b *Bridge) privateSettings(_ context.Context, inv *ddp.Invocation) (any, error) {
	if _, ok := deltaSince(inv.Params); ok {
		return delta{Update: []any{}, Remove: []any{}}, nil
	}
	return []any{}, nil
}

type permission struct {
	ID        string    `json:"_id"`
	Roles     []string  `json:"roles"`
	UpdatedAt time.Time `json:"_updatedAt"`
}

var (
	agentRoles   = []string{"livechat-agent", "livechat-manager", "admin"}
	managerRoles = []string{"livechat-manager", "admin"}
	nobody       = []string{}
)

// permissionTable states LiveChat's rules in Rocket.Chat's permission
// names: agents see and serve omnichannel rooms, managers (owners, vice
// owners, administrators) also other agents' rooms; no channel, group or
// direct-message creation.
var permissionTable = []struct {
	id    string
	roles []string
}{
	{"view-l-room", agentRoles},
	{"view-livechat-manager", managerRoles},
	{"view-livechat-rooms", managerRoles},
	{"close-livechat-room", agentRoles},
	{"close-others-livechat-room", managerRoles},
	{"transfer-livechat-guest", agentRoles},
	{"edit-message", managerRoles},
	{"delete-message", managerRoles},
	{"force-delete-message", managerRoles},
	{"send-many-messages", []string{"bot"}},
	{"view-c-room", nobody},
	{"view-p-room", nobody},
	{"view-d-room", nobody},
	{"create-c", nobody},
	{"create-p", nobody},
	{"create-d", nobody},
	{"preview-c-room", nobody},
	{"mention-all", nobody},
	{"mention-here", nobody},
	{"start-discussion", nobody},
	{"view-other-user-channels", managerRoles},
	{"view-privileged-setting", nobody},
	{"edit-privileged-setting", nobody},
}

func (b *Bridge) permissions(_ context.Context, inv *ddp.Invocation) (any, error) {
	all := make([]permission, 0, len(permissionTable))
	for _, p := range permissionTable {
		all = append(all, permission{ID: p.id, Roles: p.roles, UpdatedAt: b.started})
	}
	if since, ok := deltaSince(inv.Params); ok {
		if !since.Before(b.started) {
			all = []permission{}
		}
		return delta{Update: all, Remove: []any{}}, nil
	}
	return all, nil
}

// getUserRoles lists the agents with roles beyond "user".
func (b *Bridge) getUserRoles(ctx context.Context, inv *ddp.Invocation) (any, error) {
	actor, _, ok := b.connOf(inv.Session).agent()
	if !ok {
		return []any{}, nil
	}
	agents, err := b.svc.ListAgents(ctx, actor)
	if err != nil {
		return nil, rcError(err, inv.Method, "")
	}
	type userRoles struct {
		ID       string   `json:"_id"`
		Username string   `json:"username"`
		Roles    []string `json:"roles"`
	}
	out := make([]userRoles, 0, len(agents))
	for i := range agents {
		a := &agents[i]
		var roles []string
		for _, r := range rolesOf(a) {
			if r != "user" {
				roles = append(roles, r)
			}
		}
		out = append(out, userRoles{ID: a.AccountID, Username: a.Username, Roles: roles})
	}
	return out, nil
}

// Presence. Rocket.Chat's user status maps onto LiveChat presence: the
// session's away flag (set_away_status) for online/away/busy/offline, and
// the stored routing status for the omnichannel availability
// (livechat:changeLivechatStatus).

func (b *Bridge) setAway(ctx context.Context, inv *ddp.Invocation, away bool) error {
	c := b.connOf(inv.Session)
	actor, _, ok := c.agent()
	if !ok {
		return errInvalidUser(inv.Method)
	}
	return rcError(b.svc.SetAway(ctx, actor.ID, livechat.SessionKey(c.id), away), inv.Method, "")
}

func (b *Bridge) presenceAway(away bool) ddp.MethodHandler {
	return func(ctx context.Context, inv *ddp.Invocation) (any, error) {
		if err := b.setAway(ctx, inv, away); err != nil {
			return nil, err
		}
		return true, nil
	}
}

func (b *Bridge) presenceConnect(context.Context, *ddp.Invocation) (any, error) { return nil, nil }

// statusParam reads [status] or the newer [userId, status].
func statusParam(p ddp.Params) (string, bool) {
	var a, c string
	if p.Decode(&a, &c) != nil {
		return "", false
	}
	switch {
	case c != "":
		a = c
	case a == "":
		return "", false
	}
	switch a {
	case "online", "away", "busy", "offline":
		return a, true
	}
	return "", false
}

func (b *Bridge) setDefaultStatus(ctx context.Context, inv *ddp.Invocation) (any, error) {
	status, ok := statusParam(inv.Params)
	if !ok {
		return nil, &ddp.Error{Code: 400, Reason: "Match failed"}
	}
	if err := b.setAway(ctx, inv, status != "online"); err != nil {
		return nil, err
	}
	return true, nil
}

func (b *Bridge) setUserStatus(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var status, text string
	if err := inv.Params.Decode(&status, &text); err != nil {
		return nil, err
	}
	switch status {
	case "online", "away", "busy", "offline":
	default:
		return nil, &ddp.Error{Code: 400, Reason: "Match failed"}
	}
	return nil, b.setAway(ctx, inv, status != "online")
}

func (b *Bridge) changeLivechatStatus(ctx context.Context, inv *ddp.Invocation) (any, error) {
	actor, _, ok := b.connOf(inv.Session).agent()
	if !ok {
		return nil, errInvalidUser(inv.Method)
	}
	var req struct {
		Status  string `json:"status"`
		AgentID string `json:"agentId"`
	}
	if err := inv.Params.Decode(&req); err != nil {
		return nil, err
	}
	target := actor.Agent
	if req.AgentID != "" {
		a, err := b.agentByUID(ctx, req.AgentID)
		if err != nil {
			return nil, rcError(err, inv.Method, codeInvalidUser)
		}
		target = a
	}
	status := livechat.RoutingNotAccepting
	switch req.Status {
	case "available":
		status = livechat.RoutingAccepting
	case "not-available":
	case "": // toggle, as Rocket.Chat does
		if target.RoutingStatus != livechat.RoutingAccepting {
			status = livechat.RoutingAccepting
		}
	default:
		return nil, &ddp.Error{Code: 400, Reason: "Match failed"}
	}
	return nil, rcError(b.svc.SetRoutingStatus(ctx, actor, target.ID, status), inv.Method, codeInvalidUser)
}

// Small handlers shared by the tables.

func emptyList(context.Context, *ddp.Invocation) (any, error) { return []any{}, nil }

func ignoreStreamEvent(context.Context, *ddp.Invocation) (any, error) { return nil, nil }

// readyAtOnce publishes nothing: Meteor's login service configuration (no
// OAuth services), the autoupdate versions (no client bundle to reload),
// and Rocket.Chat's old named publications.
func readyAtOnce(_ context.Context, sub *ddp.Subscription) error {
	sub.Ready()
	return nil
}

var readyOnlyPublications = []string{
	"meteor.loginServiceConfiguration", "meteor_autoupdate_clientVersions",
	"userData", "activeUsers", "roles", "room", "roomFiles", "spotlight", "settings",
}

// unsupportedMethods are Rocket.Chat methods about what chatbridge does not
// have (channels, private groups, direct messages, pins, stars, account
// management); they answer error-not-allowed saying so, rather than 404.
var unsupportedMethods = []string{
	"createChannel", "createPrivateGroup", "createDirectMessage", "joinRoom", "leaveRoom",
	"archiveRoom", "unarchiveRoom", "eraseRoom", "saveRoomSettings", "toggleFavorite",
	"pinMessage", "unpinMessage", "starMessage", "registerUser", "setUserPassword", "messageSearch",
}

func notSupported(name string) ddp.MethodHandler {
	return func(context.Context, *ddp.Invocation) (any, error) {
		return nil, &ddp.Error{Code: codeNotAllowed, Reason: "Not allowed: chatbridge serves omnichannel (LiveChat) rooms only",
			Details: map[string]any{"method": name}}
	}
}
