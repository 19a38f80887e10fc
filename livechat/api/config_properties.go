package api

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/chatbridge/chatbridge/livechat"
)

// Configuration API: property definitions and license and group property values.

func registerProperty(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		Name          string                  `json:"name"`
		OwnerClientID string                  `json:"owner_client_id"`
		Type          string                  `json:"type"`
		Access        livechat.PropertyAccess `json:"access"`
		Description   string                  `json:"description"`
		Domain        []any                   `json:"domain"`
		Range         *livechat.PropertyRange `json:"range"`
		DefaultValue  any                     `json:"default_value"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.Name != "" && req.OwnerClientID != "" && req.Type != "" && req.Access != nil,
		"name, owner_client_id, type and access"); err != nil {
		return nil, err
	}
	return empty{}, c.Svc.RegisterProperty(ctx, c.Actor, livechat.PropertyDefinition{
		OwnerClientID: req.OwnerClientID, Name: req.Name, Type: req.Type, Access: req.Access,
		Description: req.Description, Domain: req.Domain, Range: req.Range, DefaultValue: req.DefaultValue,
	})
}

type propertyNameArgs struct {
	Name          string   `json:"name"`
	OwnerClientID string   `json:"owner_client_id"`
	AccessType    []string `json:"access_type"`
}

func unregisterProperty(ctx context.Context, c *Call) (any, error) {
	req, err := decode[propertyNameArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.Name != "" && req.OwnerClientID != "", "name and owner_client_id"); err != nil {
		return nil, err
	}
	return empty{}, c.Svc.UnregisterProperty(ctx, c.Actor, req.OwnerClientID, req.Name)
}

func publishProperty(ctx context.Context, c *Call) (any, error) {
	req, err := decode[propertyNameArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.Name != "" && req.OwnerClientID != "" && len(req.AccessType) > 0, "name, owner_client_id and access_type"); err != nil {
		return nil, err
	}
	return empty{}, c.Svc.PublishProperty(ctx, c.Actor, req.OwnerClientID, req.Name, req.AccessType)
}

// PropertyDefinition renders a definition for list_properties.
func PropertyDefinition(d *livechat.PropertyDefinition) M {
	access := M{}
	for loc, users := range d.Access {
		u := M{}
		for kind, rights := range users {
			u[kind] = stringsOut(rights)
		}
		access[loc] = u
	}
	out := M{"type": d.Type, "description": d.Description, "access": access}
	if len(d.PublicAccess) > 0 {
		out["public_access"] = d.PublicAccess
	}
	if len(d.Domain) > 0 {
		out["domain"] = d.Domain
	}
	if d.Range != nil {
		out["range"] = M{"from": d.Range.From, "to": d.Range.To}
	}
	if d.DefaultValue != nil {
		out["default_value"] = d.DefaultValue
	}
	return out
}

func listProperties(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		OwnerClientID string `json:"owner_client_id"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.OwnerClientID != "", "owner_client_id"); err != nil {
		return nil, err
	}
	defs, err := c.Svc.ListPropertyDefinitions(ctx, c.Actor, req.OwnerClientID)
	if err != nil {
		return nil, err
	}
	out := M{}
	for _, d := range defs {
		out[d.Name] = PropertyDefinition(d)
	}
	return out, nil
}

// valueArgs is the payload of the license and group value methods.
type valueArgs struct {
	ID         *int            `json:"id"`
	GroupID    *int            `json:"group_id"`
	GroupIDs   []int           `json:"group_ids"`
	Properties json.RawMessage `json:"properties"`
	Namespace  string          `json:"namespace"`
	NamePrefix string          `json:"name_prefix"`
	// NamespacePrefix is what @livechat/lc-sdk-js 4.0.2 sends instead of namespace.
	NamespacePrefix string `json:"namespace_prefix"`
}

// filter keeps the namespaces starting with namespace_prefix.
func (a *valueArgs) filter(p livechat.Properties) livechat.Properties {
	out := livechat.Properties{}
	for ns, vals := range p {
		if strings.HasPrefix(ns, a.NamespacePrefix) {
			out[ns] = vals
		}
	}
	return out
}

// group is the group named by group_id or id (update takes the first,
// delete and list the second; both are accepted).
func (a *valueArgs) group() (int, error) {
	switch {
	case a.GroupID != nil:
		return *a.GroupID, nil
	case a.ID != nil:
		return *a.ID, nil
	}
	return 0, livechat.Errorf(livechat.TypeValidation, "group_id is required")
}

func (a *valueArgs) values() (livechat.Properties, error) {
	var p livechat.Properties
	if !rawSet(a.Properties) || json.Unmarshal(a.Properties, &p) != nil || len(p) == 0 {
		return nil, livechat.Errorf(livechat.TypeValidation, "properties must be {namespace: {name: value}}")
	}
	return p, nil
}

func (a *valueArgs) names() (map[string][]string, error) {
	var n map[string][]string
	if !rawSet(a.Properties) || json.Unmarshal(a.Properties, &n) != nil || len(n) == 0 {
		return nil, livechat.Errorf(livechat.TypeValidation, "properties must be {namespace: [names]}")
	}
	return n, nil
}

func updateLicenseProperties(ctx context.Context, c *Call) (any, error) {
	req, err := decode[valueArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	p, err := req.values()
	if err != nil {
		return nil, err
	}
	return empty{}, c.Svc.UpdateLicenseProperties(ctx, c.Actor, p)
}

func deleteLicenseProperties(ctx context.Context, c *Call) (any, error) {
	req, err := decode[valueArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	n, err := req.names()
	if err != nil {
		return nil, err
	}
	return empty{}, c.Svc.DeleteLicenseProperties(ctx, c.Actor, n)
}

func listLicenseProperties(ctx context.Context, c *Call) (any, error) {
	req, err := decode[valueArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	p, err := c.Svc.ListLicenseProperties(ctx, c.Actor, req.Namespace, req.NamePrefix)
	if err != nil {
		return nil, err
	}
	return req.filter(p), nil
}

func updateGroupProperties(ctx context.Context, c *Call) (any, error) {
	req, err := decode[valueArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	id, err := req.group()
	if err != nil {
		return nil, err
	}
	p, err := req.values()
	if err != nil {
		return nil, err
	}
	return empty{}, c.Svc.UpdateGroupProperties(ctx, c.Actor, id, p)
}

func deleteGroupProperties(ctx context.Context, c *Call) (any, error) {
	req, err := decode[valueArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	id, err := req.group()
	if err != nil {
		return nil, err
	}
	n, err := req.names()
	if err != nil {
		return nil, err
	}
	return empty{}, c.Svc.DeleteGroupProperties(ctx, c.Actor, id, n)
}

// listGroupProperties is 3.3/3.4's one-group form.
func listGroupProperties(ctx context.Context, c *Call) (any, error) {
	req, err := decode[valueArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	id, err := req.group()
	if err != nil {
		return nil, err
	}
	p, err := c.Svc.ListGroupProperties(ctx, c.Actor, id, req.Namespace, req.NamePrefix)
	if err != nil {
		return nil, err
	}
	return req.filter(p), nil
}

// listGroupsProperties is 3.5's many-group form (no group_ids: every group).
func listGroupsProperties(ctx context.Context, c *Call) (any, error) {
	req, err := decode[valueArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	ids := slices.Clone(req.GroupIDs)
	if len(ids) == 0 {
		groups, err := c.Svc.ListGroups(ctx, c.Actor)
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			ids = append(ids, g.ID)
		}
	}
	out := make([]M, 0, len(ids))
	for _, id := range ids {
		p, err := c.Svc.ListGroupProperties(ctx, c.Actor, id, req.Namespace, req.NamePrefix)
		if err != nil {
			return nil, err
		}
		out = append(out, M{"id": id, "properties": req.filter(p)})
	}
	return out, nil
}
