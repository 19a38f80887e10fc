package api

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/chatbridge/chatbridge/livechat"
)

// Configuration API: tags, auto access and the organization look-ups.

// ConfigTag renders a tag for list_tags and the tag pushes.
func ConfigTag(t *livechat.Tag) M {
	ids := t.GroupIDs
	if ids == nil {
		ids = []int{}
	}
	return M{"name": t.ID, "group_ids": ids, "author_id": t.AuthorID, "created_at": Timestamp(t.CreatedAt)}
}

type tagArgs struct {
	Name     string `json:"name"`
	GroupIDs []int  `json:"group_ids"`
}

func createTag(ctx context.Context, c *Call) (any, error) {
	req, err := decode[tagArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.Name != "", "name"); err != nil {
		return nil, err
	}
	_, err = c.Svc.CreateTag(ctx, c.Actor, req.Name, req.GroupIDs)
	return empty{}, err
}

func updateTag(ctx context.Context, c *Call) (any, error) {
	req, err := decode[tagArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.Name != "", "name"); err != nil {
		return nil, err
	}
	_, err = c.Svc.UpdateTag(ctx, c.Actor, req.Name, req.GroupIDs)
	return empty{}, err
}

func deleteTag(ctx context.Context, c *Call) (any, error) {
	req, err := decode[tagArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.Name != "", "name"); err != nil {
		return nil, err
	}
	return empty{}, c.Svc.DeleteTag(ctx, c.Actor, req.Name)
}

func listTags(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		Filters struct {
			GroupIDs []int `json:"group_ids"`
		} `json:"filters"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	tags, err := c.Svc.ListTags(ctx, c.Actor, req.Filters.GroupIDs)
	if err != nil {
		return nil, err
	}
	out := make([]M, 0, len(tags))
	for i := range tags {
		out = append(out, ConfigTag(&tags[i]))
	}
	return out, nil
}

// AutoAccess renders an auto access rule.
func AutoAccess(r *livechat.AutoAccess) M {
	out := M{"id": r.ID, "description": r.Description, "access": M{"groups": r.Access.Groups}, "next_id": r.NextID}
	var cond M
	b, _ := json.Marshal(r.Conditions)
	_ = json.Unmarshal(b, &cond)
	out["conditions"] = cond
	return out
}

type autoAccessArgs struct {
	ID          string                         `json:"id"`
	Description *string                        `json:"description"`
	Access      *livechat.AutoAccessGroups     `json:"access"`
	Conditions  *livechat.AutoAccessConditions `json:"conditions"`
	NextID      *string                        `json:"next_id"`
}

func addAutoAccess(ctx context.Context, c *Call) (any, error) {
	req, err := decode[autoAccessArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.Access != nil && req.Conditions != nil, "access and conditions"); err != nil {
		return nil, err
	}
	r := livechat.AutoAccess{Description: deref(req.Description), Access: *req.Access, Conditions: *req.Conditions}
	id, err := c.Svc.AddAutoAccess(ctx, c.Actor, r, deref(req.NextID))
	if err != nil {
		return nil, err
	}
	return M{"id": id}, nil
}

func updateAutoAccess(ctx context.Context, c *Call) (any, error) {
	req, err := decode[autoAccessArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.ID != "", "id"); err != nil {
		return nil, err
	}
	return empty{}, c.Svc.UpdateAutoAccess(ctx, c.Actor, req.ID, livechat.AutoAccessUpdate{
		Description: req.Description, Access: req.Access, Conditions: req.Conditions, NextID: req.NextID})
}

func deleteAutoAccess(ctx context.Context, c *Call) (any, error) {
	req, err := decode[autoAccessArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.ID != "", "id"); err != nil {
		return nil, err
	}
	return empty{}, c.Svc.DeleteAutoAccess(ctx, c.Actor, req.ID)
}

func listAutoAccesses(ctx context.Context, c *Call) (any, error) {
	rules, err := c.Svc.ListAutoAccesses(ctx, c.Actor)
	if err != nil {
		return nil, err
	}
	out := make([]M, 0, len(rules))
	for i := range rules {
		out = append(out, AutoAccess(&rules[i]))
	}
	return out, nil
}

// getOrganizationID answers 3.4's look-up of the organization by license id.
func getOrganizationID(_ context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		LicenseID json.RawMessage `json:"license_id"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(rawSet(req.LicenseID), "license_id"); err != nil {
		return nil, err
	}
	org := c.Svc.Organization()
	var id int64
	if json.Unmarshal(req.LicenseID, &id) != nil { // a number, or a number in a string (query strings)
		var s string
		if json.Unmarshal(req.LicenseID, &s) != nil {
			return nil, livechat.Errorf(livechat.TypeValidation, "license_id must be a number")
		}
		if id, err = strconv.ParseInt(s, 10, 64); err != nil {
			return nil, livechat.Errorf(livechat.TypeValidation, "license_id must be a number")
		}
	}
	if id != org.LicenseID {
		return nil, livechat.Errorf(livechat.TypeNotFound, "License not found")
	}
	return M{"organization_id": org.OrganizationID}, nil
}

// getLicenseID answers 3.4's look-up of the license by organization id.
func getLicenseID(_ context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		OrganizationID string `json:"organization_id"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.OrganizationID != "", "organization_id"); err != nil {
		return nil, err
	}
	org := c.Svc.Organization()
	if req.OrganizationID != org.OrganizationID {
		return nil, livechat.Errorf(livechat.TypeNotFound, "Organization not found")
	}
	return M{"license_id": org.LicenseID}, nil
}

// listChannels lists where chats come from: chatbridge knows one channel,
// the chat widget code ("code"), active since the first chat.
func listChannels(ctx context.Context, c *Call) (any, error) {
	first, err := c.Svc.FirstChatAt(ctx, c.Actor)
	if err != nil {
		return nil, err
	}
	if first.IsZero() {
		return []M{}, nil
	}
	return []M{{"channel_type": "code", "channel_subtype": "", "first_activity_timestamp": Timestamp(first)}}, nil
}
