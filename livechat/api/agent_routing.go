package api

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/chatbridge/chatbridge/livechat"
)

func setRoutingStatus(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		Status  string `json:"status"`
		AgentID string `json:"agent_id"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.Status != "", "status"); err != nil {
		return nil, err
	}
	return empty{}, c.Svc.SetRoutingStatus(ctx, c.Actor, req.AgentID, req.Status)
}

func listRoutingStatuses(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		Filters struct {
			GroupIDs []int `json:"group_ids"`
		} `json:"filters"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	list, err := c.Svc.ListRoutingStatuses(ctx, c.Actor, req.Filters.GroupIDs)
	if err != nil {
		return nil, err
	}
	out := make([]M, 0, len(list))
	for _, e := range list {
		out = append(out, M{"agent_id": e.AgentID, "status": e.Status})
	}
	return out, nil
}

// setAwayStatus marks the calling RTM connection away or back; the session
// is the one whose request carries the origin.
func setAwayStatus(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		Away *bool `json:"away"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.Away != nil, "away"); err != nil {
		return nil, err
	}
	if !c.Actor.IsAgent() {
		return nil, livechat.Errorf(livechat.TypeAuthorization, "Only agents set away statuses")
	}
	o, ok := livechat.OriginFrom(ctx)
	if !ok || o.SessionID == 0 {
		return nil, livechat.Errorf(livechat.TypeValidation, "set_away_status needs an RTM connection")
	}
	return empty{}, c.Svc.SetAway(ctx, c.Actor.ID, livechat.SessionKey(o.SessionID), *req.Away)
}

// changePushNotifications validates and accepts the mobile push settings
// (≤3.4; 3.5 clients still send it, accepted as a no-op). Chatbridge sends no
// mobile notifications.
func changePushNotifications(_ context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		FirebaseToken string `json:"firebase_token"`
		Platform      string `json:"platform"`
		Enabled       *bool  `json:"enabled"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.FirebaseToken != "" && req.Enabled != nil, "firebase_token and enabled"); err != nil {
		return nil, err
	}
	if req.Platform != "ios" && req.Platform != "android" {
		return nil, livechat.Errorf(livechat.TypeValidation, "platform must be ios or android")
	}
	if !c.Actor.IsAgent() {
		return nil, livechat.Errorf(livechat.TypeAuthorization, "Only agents have push notifications")
	}
	return empty{}, nil
}

func transferChat(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		chatIDArg
		Target *struct {
			Type string          `json:"type"`
			IDs  json.RawMessage `json:"ids"`
		} `json:"target"`
		IgnoreAgentsAvailability bool `json:"ignore_agents_availability"`
		Force                    bool `json:"force"`
		IgnoreRequesterPresence  bool `json:"ignore_requester_presence"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	id, err := req.get()
	if err != nil {
		return nil, err
	}
	in := livechat.TransferInput{
		IgnoreAgentsAvailability: req.IgnoreAgentsAvailability || req.Force,
		RequireActive:            c.Version >= "3.4",
		RequirePresence:          c.Version >= "3.4" && !req.IgnoreRequesterPresence,
	}
	if t := req.Target; t != nil {
		in.TargetType = t.Type
		if err := required(len(t.IDs) > 0 && string(t.IDs) != "null", "target.ids"); err != nil {
			return nil, err
		}
		switch t.Type {
		case livechat.TargetAgent:
			if json.Unmarshal(t.IDs, &in.AgentIDs) != nil {
				return nil, livechat.Errorf(livechat.TypeValidation, "target.ids must be agent ids (strings)")
			}
		case livechat.TargetGroup:
			if in.GroupIDs, err = groupIDs(t.IDs); err != nil {
				return nil, err
			}
		default:
			return nil, livechat.Errorf(livechat.TypeValidation, "target.type must be agent or group")
		}
	}
	return empty{}, c.Svc.TransferChat(ctx, c.Actor, id, in)
}

// groupIDs reads group ids given as numbers or numeric strings.
func groupIDs(raw json.RawMessage) ([]int, error) {
	var ids []json.Number
	if err := json.Unmarshal(raw, &ids); err != nil {
		var strs []string
		if json.Unmarshal(raw, &strs) != nil {
			return nil, livechat.Errorf(livechat.TypeValidation, "target.ids must be group ids (numbers)")
		}
		for _, s := range strs {
			ids = append(ids, json.Number(s))
		}
	}
	out := make([]int, 0, len(ids))
	for _, n := range ids {
		g, err := strconv.Atoi(string(n))
		if err != nil || g < 0 {
			return nil, livechat.Errorf(livechat.TypeValidation, "target.ids must be group ids (numbers)")
		}
		out = append(out, g)
	}
	return out, nil
}

func listAgentsForTransfer(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		ChatID string `json:"chat_id"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.ChatID != "", "chat_id"); err != nil {
		return nil, err
	}
	list, err := c.Svc.ListAgentsForTransfer(ctx, c.Actor, req.ChatID)
	if err != nil {
		return nil, err
	}
	out := make([]M, 0, len(list))
	for _, a := range list {
		out = append(out, M{"agent_id": a.AgentID, "total_active_chats": a.TotalActiveChats})
	}
	return out, nil
}

// chatAccess serves grant_chat_access and revoke_chat_access (3.2–3.3).
func chatAccess(grant bool) Handler {
	return func(ctx context.Context, c *Call) (any, error) {
		req, err := decode[struct {
			chatIDArg
			Access *struct {
				Type string          `json:"type"`
				ID   json.RawMessage `json:"id"`
			} `json:"access"`
		}](c.Payload)
		if err != nil {
			return nil, err
		}
		id, err := req.get()
		if err != nil {
			return nil, err
		}
		if err := required(req.Access != nil && req.Access.Type != "" && len(req.Access.ID) > 0, "access.type and access.id"); err != nil {
			return nil, err
		}
		target := strings.Trim(string(req.Access.ID), `"`)
		if grant {
			if req.Access.Type != livechat.TargetGroup {
				return nil, livechat.Errorf(livechat.TypeValidation, "access.type must be group")
			}
			g, err := strconv.Atoi(target)
			if err != nil || g < 0 {
				return nil, livechat.Errorf(livechat.TypeValidation, "access.id must be a group id")
			}
			return empty{}, c.Svc.GrantChatAccess(ctx, c.Actor, id, g)
		}
		return empty{}, c.Svc.RevokeChatAccess(ctx, c.Actor, id, req.Access.Type, target)
	}
}
