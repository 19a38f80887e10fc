package api

import (
	"context"
	"encoding/json"

	"github.com/chatbridge/chatbridge/livechat"
)

// Configuration API: bots and bot templates.

// maxBotChats is LiveChat's max_chats_count limit of bots.
const maxBotChats = 500

// botFields are the values of list_bots / get_bot "fields".
var botFields = []string{"groups", "work_scheduler", "job_title", "max_chats_count", "timezone", "default_group_priority", "owner_client_id"}

// ConfigBot renders a bot: id, name, avatar, plus the requested fields.
func ConfigBot(a *livechat.Agent, v string, fields map[string]bool) M {
	out := M{"id": a.ID, "name": a.Name, "avatar": a.Avatar}
	for f := range fields {
		switch f {
		case "groups":
			out[f] = groupsOut(a.Groups)
		case "work_scheduler":
			out[f] = WorkScheduler(a.WorkScheduler, v)
		case "job_title":
			out[f] = a.JobTitle
		case "max_chats_count":
			out[f] = a.MaxChats
		case "timezone":
			if a.WorkScheduler != nil && a.WorkScheduler.Timezone != "" {
				out[f] = a.WorkScheduler.Timezone
			}
		case "default_group_priority":
			out[f] = a.DefaultGroupPriority
		case "owner_client_id":
			out[f] = a.OwnerClientID
		}
	}
	return out
}

// botArgs is the payload of create_bot, update_bot and the template methods.
type botArgs struct {
	ID                   string          `json:"id"`
	Name                 *string         `json:"name"`
	Avatar               *string         `json:"avatar"`
	MaxChatsCount        *int            `json:"max_chats_count"`
	DefaultGroupPriority *string         `json:"default_group_priority"`
	JobTitle             *string         `json:"job_title"`
	Groups               *[]groupArg     `json:"groups"`
	WorkScheduler        json.RawMessage `json:"work_scheduler"`
	Timezone             string          `json:"timezone"` // 3.3/3.4
	OwnerClientID        string          `json:"owner_client_id"`
	// AffectExistingInstallations (templates) changes nothing here: the
	// server's one installation is always affected.
	AffectExistingInstallations bool `json:"affect_existing_installations"`
}

func (b *botArgs) changes() (livechat.AgentChanges, error) {
	ch := livechat.AgentChanges{Name: b.Name, Avatar: b.Avatar, MaxChats: b.MaxChatsCount,
		DefaultGroupPriority: b.DefaultGroupPriority, JobTitle: b.JobTitle}
	if b.MaxChatsCount != nil && (*b.MaxChatsCount < 1 || *b.MaxChatsCount > maxBotChats) {
		return ch, livechat.Errorf(livechat.TypeValidation, "max_chats_count must be 1 to %d", maxBotChats)
	}
	if b.Groups != nil {
		gs, err := memberships(*b.Groups)
		if err != nil {
			return ch, err
		}
		ch.Groups = &gs
	}
	if rawSet(b.WorkScheduler) {
		w, err := parseWorkScheduler(b.WorkScheduler, b.Timezone)
		if err != nil {
			return ch, err
		}
		ch.WorkScheduler = w
	} else if b.Timezone != "" {
		ch.WorkScheduler = &livechat.WorkScheduler{Timezone: b.Timezone, Schedule: []livechat.WorkDay{}}
	}
	return ch, ch.Validate()
}

func (b *botArgs) input() (livechat.AgentInput, error) {
	if err := required(b.Name != nil && *b.Name != "", "name"); err != nil {
		return livechat.AgentInput{}, err
	}
	ch, err := b.changes()
	if err != nil {
		return livechat.AgentInput{}, err
	}
	in := livechat.AgentInput{Name: *b.Name, Avatar: deref(ch.Avatar), MaxChats: deref(ch.MaxChats), OwnerClientID: b.OwnerClientID,
		Profile: livechat.AgentProfile{JobTitle: deref(ch.JobTitle), DefaultGroupPriority: deref(ch.DefaultGroupPriority), WorkScheduler: ch.WorkScheduler}}
	if ch.Groups != nil {
		in.Groups = *ch.Groups
	}
	return in, nil
}

// withSecret answers a creation: 3.5 gives the secret, older versions only the id.
func withSecret(id, secret, v string) M {
	if v < "3.5" {
		return M{"id": id}
	}
	return M{"id": id, "secret": secret}
}

func createBot(ctx context.Context, c *Call) (any, error) {
	req, err := decode[botArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	in, err := req.input()
	if err != nil {
		return nil, err
	}
	bot, secret, err := c.Svc.CreateBot(ctx, c.Actor, in)
	if err != nil {
		return nil, err
	}
	return withSecret(bot.ID, secret, c.Version), nil
}

func getBot(ctx context.Context, c *Call) (any, error) {
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
	fields, err := fieldSet(req.Fields, botFields...)
	if err != nil {
		return nil, err
	}
	for _, f := range []string{"default_group_priority", "owner_client_id", "max_chats_count", "groups"} {
		fields[f] = true // get_bot answers these always
	}
	bot, err := c.Svc.GetBot(ctx, c.Actor, req.ID)
	if err != nil {
		return nil, err
	}
	return ConfigBot(bot, c.Version, fields), nil
}

func listBots(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		All    bool     `json:"all"`
		Fields []string `json:"fields"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	fields, err := fieldSet(req.Fields, botFields...)
	if err != nil {
		return nil, err
	}
	bots, err := c.Svc.ListBots(ctx, c.Actor, req.All)
	if err != nil {
		return nil, err
	}
	out := make([]M, 0, len(bots))
	for i := range bots {
		out = append(out, ConfigBot(&bots[i], c.Version, fields))
	}
	return out, nil
}

func updateBot(ctx context.Context, c *Call) (any, error) {
	req, err := decode[botArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.ID != "", "id"); err != nil {
		return nil, err
	}
	ch, err := req.changes()
	if err != nil {
		return nil, err
	}
	_, err = c.Svc.UpdateBot(ctx, c.Actor, req.ID, ch)
	return empty{}, err
}

func deleteBot(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		ID string `json:"id"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.ID != "", "id"); err != nil {
		return nil, err
	}
	return empty{}, c.Svc.DeleteBot(ctx, c.Actor, req.ID)
}

// issueBotToken needs no credential: the bot proves itself with its secret.
func issueBotToken(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		BotID          string `json:"bot_id"`
		ClientID       string `json:"client_id"`
		BotSecret      string `json:"bot_secret"`
		OrganizationID string `json:"organization_id"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.BotID != "" && req.ClientID != "" && req.BotSecret != "" && req.OrganizationID != "",
		"bot_id, client_id, bot_secret and organization_id"); err != nil {
		return nil, err
	}
	token, err := c.Svc.IssueBotTokenWithSecret(ctx, req.BotID, req.ClientID, req.BotSecret, req.OrganizationID)
	if err != nil {
		return nil, err
	}
	return M{"token": token}, nil
}

func resetBotSecret(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		ID            string `json:"id"`
		OwnerClientID string `json:"owner_client_id"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.ID != "", "id"); err != nil {
		return nil, err
	}
	secret, err := c.Svc.ResetBotSecret(ctx, c.Actor, req.ID)
	if err != nil {
		return nil, err
	}
	return M{"secret": secret}, nil
}

func createBotTemplate(ctx context.Context, c *Call) (any, error) {
	req, err := decode[botArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.OwnerClientID != "", "owner_client_id"); err != nil {
		return nil, err
	}
	if req.Groups != nil || rawSet(req.WorkScheduler) {
		return nil, livechat.Errorf(livechat.TypeValidation, "bot templates take no groups or work_scheduler")
	}
	in, err := req.input()
	if err != nil {
		return nil, err
	}
	bot, secret, err := c.Svc.CreateBotTemplate(ctx, c.Actor, in)
	if err != nil {
		return nil, err
	}
	return M{"id": bot.ID, "secret": secret}, nil
}

// templateArgs reads a template method's id and owner_client_id.
func templateArgs(c *Call) (*botArgs, error) {
	req, err := decode[botArgs](c.Payload)
	if err != nil {
		return nil, err
	}
	return req, required(req.ID != "" && req.OwnerClientID != "", "id and owner_client_id")
}

func updateBotTemplate(ctx context.Context, c *Call) (any, error) {
	req, err := templateArgs(c)
	if err != nil {
		return nil, err
	}
	if req.Groups != nil || rawSet(req.WorkScheduler) {
		return nil, livechat.Errorf(livechat.TypeValidation, "bot templates take no groups or work_scheduler")
	}
	ch, err := req.changes()
	if err != nil {
		return nil, err
	}
	return empty{}, c.Svc.UpdateBotTemplate(ctx, c.Actor, req.ID, req.OwnerClientID, ch)
}

func deleteBotTemplate(ctx context.Context, c *Call) (any, error) {
	req, err := templateArgs(c)
	if err != nil {
		return nil, err
	}
	return empty{}, c.Svc.DeleteBotTemplate(ctx, c.Actor, req.ID, req.OwnerClientID)
}

func resetBotTemplateSecret(ctx context.Context, c *Call) (any, error) {
	req, err := templateArgs(c)
	if err != nil {
		return nil, err
	}
	secret, err := c.Svc.ResetBotTemplateSecret(ctx, c.Actor, req.ID, req.OwnerClientID)
	if err != nil {
		return nil, err
	}
	return M{"secret": secret}, nil
}

func listBotTemplates(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		OwnerClientID string `json:"owner_client_id"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.OwnerClientID != "", "owner_client_id"); err != nil {
		return nil, err
	}
	bots, err := c.Svc.ListBotTemplates(ctx, c.Actor, req.OwnerClientID)
	if err != nil {
		return nil, err
	}
	out := make([]M, 0, len(bots))
	for i := range bots {
		out = append(out, ConfigBot(&bots[i], c.Version, nil))
	}
	return out, nil
}
