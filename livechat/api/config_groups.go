package api

import (
	"context"

	"github.com/chatbridge/chatbridge/livechat"
)

// Configuration API: groups.

// groupFields are the values of list_groups / get_group "fields".
var groupFields = []string{"agent_priorities", "routing_status"}

// ConfigGroup renders a group with the requested fields.
func ConfigGroup(ctx context.Context, svc *livechat.Service, g *livechat.Group, fields map[string]bool) (M, error) {
	out := M{"id": g.ID, "name": g.Name, "language_code": g.LanguageCode}
	if fields["agent_priorities"] {
		p, err := svc.GroupAgentPriorities(ctx, g.ID)
		if err != nil {
			return nil, err
		}
		out["agent_priorities"] = p
	}
	if fields["routing_status"] {
		st, err := svc.GroupRoutingStatus(ctx, g.ID)
		if err != nil {
			return nil, err
		}
		out["routing_status"] = st
	}
	return out, nil
}

type groupIDArg struct {
	ID *int `json:"id"`
}

func (a groupIDArg) get() (int, error) {
	if a.ID == nil {
		return 0, livechat.Errorf(livechat.TypeValidation, "id is required")
	}
	return *a.ID, nil
}

func createGroup(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		Name            string            `json:"name"`
		LanguageCode    string            `json:"language_code"`
		AgentPriorities map[string]string `json:"agent_priorities"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.Name != "" && req.AgentPriorities != nil, "name and agent_priorities"); err != nil {
		return nil, err
	}
	g, err := c.Svc.CreateConfigGroup(ctx, c.Actor, req.Name, req.LanguageCode, req.AgentPriorities)
	if err != nil {
		return nil, err
	}
	return M{"id": g.ID}, nil
}

func updateGroup(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		groupIDArg
		Name            *string           `json:"name"`
		LanguageCode    *string           `json:"language_code"`
		AgentPriorities map[string]string `json:"agent_priorities"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	id, err := req.get()
	if err != nil {
		return nil, err
	}
	return empty{}, c.Svc.UpdateConfigGroup(ctx, c.Actor, id, livechat.GroupChanges{Name: req.Name, LanguageCode: req.LanguageCode, AgentPriorities: req.AgentPriorities})
}

func deleteGroup(ctx context.Context, c *Call) (any, error) {
	req, err := decode[groupIDArg](c.Payload)
	if err != nil {
		return nil, err
	}
	id, err := req.get()
	if err != nil {
		return nil, err
	}
	return empty{}, c.Svc.DeleteConfigGroup(ctx, c.Actor, id)
}

func getGroup(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		groupIDArg
		Fields []string `json:"fields"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	id, err := req.get()
	if err != nil {
		return nil, err
	}
	fields, err := fieldSet(req.Fields, groupFields...)
	if err != nil {
		return nil, err
	}
	g, err := c.Svc.GetConfigGroup(ctx, c.Actor, id)
	if err != nil {
		return nil, err
	}
	return ConfigGroup(ctx, c.Svc, g, fields)
}

func listGroups(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		Fields []string `json:"fields"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	fields, err := fieldSet(req.Fields, groupFields...)
	if err != nil {
		return nil, err
	}
	groups, err := c.Svc.ListGroups(ctx, c.Actor)
	if err != nil {
		return nil, err
	}
	out := make([]M, 0, len(groups))
	for i := range groups {
		g, err := ConfigGroup(ctx, c.Svc, &groups[i], fields)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}
