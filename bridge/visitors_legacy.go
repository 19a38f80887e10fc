package bridge

import (
	"context"
	"errors"

	"github.com/chatbridge/chatbridge/ddp"
	"github.com/chatbridge/chatbridge/livechat"
)

// The legacy livechat visitor methods older widgets and SDKs still call
// (spec §8.5), each the same logic as its REST endpoint (rest_widget.go).

// getAgentData is livechat:getAgentData [{roomId, token}]: the agent
// serving the visitor's room, or null while nobody does.
func (b *Bridge) getAgentData(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var req struct {
		RoomID string `json:"roomId"`
		Token  string `json:"token"`
	}
	if err := inv.Params.Decode(&req); err != nil {
		return nil, err
	}
	a, err := b.VisitorAgent(ctx, req.Token, req.RoomID)
	var de *ddp.Error
	if errors.As(err, &de) && de.Code == codeInvalidAgent {
		return nil, nil
	}
	return a, err
}

// getNextAgent is livechat:getNextAgent [{token, department}].
func (b *Bridge) getNextAgent(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var req struct {
		Token      string `json:"token"`
		Department string `json:"department"`
	}
	if err := inv.Params.Decode(&req); err != nil {
		return nil, err
	}
	return b.NextAgent(ctx, req.Token, req.Department)
}

// pageVisited is livechat:pageVisited [token, roomId, pageInfo].
func (b *Bridge) pageVisited(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var token, rid string
	var page struct {
		Change   string `json:"change"`
		Title    string `json:"title"`
		Location struct {
			Href string `json:"href"`
		} `json:"location"`
	}
	if err := inv.Params.Decode(&token, &rid, &page); err != nil {
		return nil, err
	}
	return b.PageVisited(ctx, token, page.Change, page.Title, page.Location.Href)
}

// setCustomField is livechat:setCustomField [token, key, value, overwrite=true].
func (b *Bridge) setCustomField(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var token, key, value string
	overwrite := true
	if err := inv.Params.Decode(&token, &key, &value, &overwrite); err != nil {
		return nil, err
	}
	if key == "" {
		return nil, newErr(codeInvalidParams, "A key is required", inv.Method)
	}
	if err := b.SetCustomFields(ctx, token, []livechat.SessionField{{Key: key, Value: value, Overwrite: overwrite}}); err != nil {
		return nil, err
	}
	return true, nil
}

// loginByToken is livechat:loginByToken [token]: {_id} of the visitor.
func (b *Bridge) loginByToken(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var token string
	if err := inv.Params.Decode(&token); err != nil {
		return nil, err
	}
	actor, err := b.visitorActor(ctx, token, inv.Method)
	if err != nil {
		return nil, err
	}
	return map[string]any{"_id": actor.ID}, nil
}
