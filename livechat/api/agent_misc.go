package api

import (
	"context"
	"encoding/json"

	"github.com/chatbridge/chatbridge/livechat"
)

func sendTypingIndicator(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		ChatID     string `json:"chat_id"`
		Visibility string `json:"visibility"`
		Recipients string `json:"recipients"`
		IsTyping   *bool  `json:"is_typing"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.ChatID != "" && req.IsTyping != nil, "chat_id and is_typing"); err != nil {
		return nil, err
	}
	vis := req.Visibility
	if vis == "" {
		vis = req.Recipients
	}
	return empty{}, c.Svc.SendTypingIndicator(ctx, c.Actor, req.ChatID, vis, *req.IsTyping)
}

func multicast(ctx context.Context, c *Call) (any, error) {
	type recipients struct {
		Agents *struct {
			All    bool     `json:"all"`
			IDs    []string `json:"ids"`
			Groups []int    `json:"groups"`
		} `json:"agents"`
		Customers *struct {
			IDs []string `json:"ids"`
		} `json:"customers"`
	}
	req, err := decode[struct {
		Recipients *recipients     `json:"recipients"`
		Scopes     *recipients     `json:"scopes"` // the 3.1 name
		Content    json.RawMessage `json:"content"`
		Type       string          `json:"type"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	r := req.Recipients
	if r == nil {
		r = req.Scopes
	}
	if err := required(r != nil, "recipients"); err != nil {
		return nil, err
	}
	in := livechat.MulticastInput{Content: req.Content, Type: req.Type}
	if a := r.Agents; a != nil {
		in.AllAgents, in.AgentIDs, in.GroupIDs = a.All, a.IDs, a.Groups
	}
	if r.Customers != nil {
		in.CustomerIDs = r.Customers.IDs
	}
	return empty{}, c.Svc.Multicast(ctx, c.Actor, in)
}

func sendRichMessagePostback(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		ChatID   string `json:"chat_id"`
		ThreadID string `json:"thread_id"`
		EventID  string `json:"event_id"`
		Postback *struct {
			ID      string `json:"id"`
			Toggled *bool  `json:"toggled"`
		} `json:"postback"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.ChatID != "" && req.ThreadID != "" && req.EventID != "", "chat_id, thread_id and event_id"); err != nil {
		return nil, err
	}
	if err := required(req.Postback != nil && req.Postback.ID != "" && req.Postback.Toggled != nil, "postback.id and postback.toggled"); err != nil {
		return nil, err
	}
	return empty{}, c.Svc.SendRichMessagePostback(ctx, c.Actor, req.ChatID, req.ThreadID, req.EventID, req.Postback.ID, *req.Postback.Toggled)
}

// uploadFile answers a JSON upload_file: the Web API serves the method with
// a multipart/form-data body (rest/upload.go), never through this handler.
func uploadFile(context.Context, *Call) (any, error) {
	return nil, livechat.Errorf(livechat.TypeValidation, "upload_file takes a multipart/form-data body with a file field")
}

func followCustomer(follow bool) Handler {
	return func(ctx context.Context, c *Call) (any, error) {
		req, err := decode[customerArgs](c.Payload)
		if err != nil {
			return nil, err
		}
		id, err := req.id()
		if err != nil {
			return nil, err
		}
		return empty{}, c.Svc.FollowCustomer(ctx, c.Actor, id, follow)
	}
}
