package livechat

import (
	"context"
	"crypto/subtle"
	"strings"
	"time"
)

// Bots are agents of kind bot (CreateAgent with Bot). Any agent may create
// bots and owns those it creates; managers manage every bot. A bot has a
// secret (shown once, on create_bot and reset_bot_secret) with which
// issue_bot_token gives it its own 24-hour token.
//
// Bot templates (3.5) are bots too, marked BotTemplate and owned by a client
// id: LiveChat installs a template's bot (with the template's id) on every
// license that installs the app; a chatbridge server is one license that has
// every app installed, so creating a template creates its bot.

// MaxBotTemplates is LiveChat's limit of templates per client id.
const MaxBotTemplates = 5

// botTokenTTL is the life of an issue_bot_token token.
const botTokenTTL = 24 * time.Hour

// mayManageBot says whether actor may change bot.
func mayManageBot(actor Actor, bot *Agent) bool {
	return actor.IsManager() || (actor.IsAgent() && bot.OwnerID != "" && bot.OwnerID == actor.ID)
}

// IsMyBot says whether bot is one of actor's bots in list_bots' sense:
// created by the actor, or by the application the actor's credential
// belongs to.
func IsMyBot(actor Actor, bot *Agent) bool {
	return bot.OwnerID == actor.ID || (actor.ClientID != "" && bot.OwnerClientID == actor.ClientID)
}

// CreateBot creates a bot and returns it with its secret (create_bot). The
// bot's owner client id defaults to the actor's credential's client id.
func (s *Service) CreateBot(ctx context.Context, actor Actor, in AgentInput) (*Agent, string, error) {
	if !actor.IsAgent() && !actor.IsSystem() {
		return nil, "", Errorf(TypeAuthorization, "Only agents can create bots")
	}
	if strings.TrimSpace(in.Name) == "" || len(in.Name) > 256 {
		return nil, "", Errorf(TypeValidation, "name must be 1 to 256 characters")
	}
	in.Bot, in.Role, in.Email, in.Password = true, RoleNormal, "", ""
	if in.OwnerClientID == "" {
		in.OwnerClientID = actor.ClientID
	}
	secret := newSecret(24)
	in.Profile.BotSecretHash = HashToken(secret)
	if in.Profile.DefaultGroupPriority == "" {
		in.Profile.DefaultGroupPriority = PriorityFirst
	}
	bot, err := s.CreateAgent(ctx, actor, in)
	if err != nil {
		return nil, "", err
	}
	return bot, secret, nil
}

// GetBot returns a bot (get_bot). Agents only.
func (s *Service) GetBot(ctx context.Context, actor Actor, id string) (*Agent, error) {
	if !actor.IsAgent() && !actor.IsSystem() {
		return nil, Errorf(TypeAuthorization, "Only agents can read bots")
	}
	return s.configTarget(ctx, id, true)
}

// ListBots lists bots, oldest first (list_bots): all of them, or the
// actor's own (IsMyBot). Agents only.
func (s *Service) ListBots(ctx context.Context, actor Actor, all bool) ([]Agent, error) {
	if !actor.IsAgent() && !actor.IsSystem() {
		return nil, Errorf(TypeAuthorization, "Only agents can list bots")
	}
	bots, err := s.store.Agents().Find(ctx, Query{Where: []Cond{Eq("kind", AgentKindBot)}, Sort: "created_at"})
	if err != nil {
		return nil, err
	}
	out := bots[:0]
	for i := range bots {
		if all || actor.IsSystem() || IsMyBot(actor, &bots[i]) {
			out = append(out, bots[i])
		}
	}
	return out, nil
}

// UpdateBot changes a bot (update_bot). Managers, or the bot's owner.
func (s *Service) UpdateBot(ctx context.Context, actor Actor, id string, ch AgentChanges) (*Agent, error) {
	bot, err := s.configTarget(ctx, id, true)
	if err != nil {
		return nil, err
	}
	if !mayManageBot(actor, bot) {
		return nil, Errorf(TypeAuthorization, "Cannot change a bot you do not own")
	}
	if ch.Role != nil || ch.Password != nil || ch.Notifications != nil || ch.EmailSubscriptions != nil || ch.Mobile != nil {
		return nil, Errorf(TypeValidation, "bots have no role, password, notifications, e-mail subscriptions or mobile")
	}
	return s.changeAgent(ctx, actor, bot, ch, KindBotUpdated)
}

// DeleteBot deletes a bot and its tokens (delete_bot). Managers, or the
// bot's owner.
func (s *Service) DeleteBot(ctx context.Context, actor Actor, id string) error {
	bot, err := s.configTarget(ctx, id, true)
	if err != nil {
		return err
	}
	if !mayManageBot(actor, bot) {
		return Errorf(TypeAuthorization, "Cannot delete a bot you do not own")
	}
	if err := s.store.Agents().Delete(ctx, bot.ID); err != nil {
		return storeErr(err, "Bot")
	}
	s.revokeAgentTokens(ctx, bot.ID)
	s.emitConfig(ctx, actor, KindBotDeleted, AgentIDData{ID: bot.ID})
	return nil
}

// ResetBotSecret gives a bot a new secret and returns it (reset_bot_secret);
// the old one stops working, tokens already issued stay valid. Managers, or
// the bot's owner.
func (s *Service) ResetBotSecret(ctx context.Context, actor Actor, id string) (string, error) {
	bot, err := s.configTarget(ctx, id, true)
	if err != nil {
		return "", err
	}
	if !mayManageBot(actor, bot) {
		return "", Errorf(TypeAuthorization, "Cannot change a bot you do not own")
	}
	secret := newSecret(24)
	err = s.updateAgent(ctx, bot.ID, func(a *Agent) error { a.BotSecretHash = HashToken(secret); return nil })
	return secret, err
}

// IssueBotTokenWithSecret issues a bot's own token (issue_bot_token): the
// bot authenticates with its secret; no other credential is needed.
func (s *Service) IssueBotTokenWithSecret(ctx context.Context, botID, clientID, secret, organizationID string) (string, error) {
	if organizationID != s.org.OrganizationID {
		return "", Errorf(TypeValidation, "organization_id does not name this organization")
	}
	bot, err := s.store.Agents().Get(ctx, strings.ToLower(botID))
	if err != nil || bot.Kind != AgentKindBot || bot.BotSecretHash == "" ||
		subtle.ConstantTimeCompare([]byte(bot.BotSecretHash), []byte(HashToken(secret))) != 1 {
		return "", authnError("Invalid bot_id or bot_secret")
	}
	token, _, err := s.issue(ctx, TokenBot, bot.ID, clientID, "", "", botTokenTTL)
	return token, err
}

// Bot templates.

func (s *Service) template(ctx context.Context, actor Actor, id, owner string) (*Agent, error) {
	if err := managersOnly(actor, "manage bot templates"); err != nil {
		return nil, err
	}
	if err := validateOwner(owner); err != nil {
		return nil, err
	}
	bot, err := s.configTarget(ctx, id, true)
	if err != nil || !bot.BotTemplate || bot.OwnerClientID != owner {
		return nil, notFound("Bot template")
	}
	return bot, nil
}

// CreateBotTemplate creates a bot template (and its bot) for a client id and
// returns it with its secret (create_bot_template). Managers only.
func (s *Service) CreateBotTemplate(ctx context.Context, actor Actor, in AgentInput) (*Agent, string, error) {
	if err := managersOnly(actor, "manage bot templates"); err != nil {
		return nil, "", err
	}
	if err := validateOwner(in.OwnerClientID); err != nil {
		return nil, "", err
	}
	defer s.locks.lock("bot-templates:" + in.OwnerClientID)()
	n, err := s.store.Agents().Count(ctx, Where(Eq("owner_client_id", in.OwnerClientID), Eq("bot_template", true)))
	if err != nil {
		return nil, "", err
	}
	if n >= MaxBotTemplates {
		return nil, "", Errorf(TypeLimitReached, "A client id has at most %d bot templates", MaxBotTemplates)
	}
	in.Profile.BotTemplate = true
	return s.CreateBot(ctx, actor, in)
}

// UpdateBotTemplate changes a template and its bot (update_bot_template).
func (s *Service) UpdateBotTemplate(ctx context.Context, actor Actor, id, owner string, ch AgentChanges) error {
	if _, err := s.template(ctx, actor, id, owner); err != nil {
		return err
	}
	_, err := s.UpdateBot(ctx, actor, id, ch)
	return err
}

// DeleteBotTemplate deletes a template and its bot (delete_bot_template).
func (s *Service) DeleteBotTemplate(ctx context.Context, actor Actor, id, owner string) error {
	if _, err := s.template(ctx, actor, id, owner); err != nil {
		return err
	}
	return s.DeleteBot(ctx, actor, id)
}

// ResetBotTemplateSecret gives a template a new secret (reset_bot_template_secret).
func (s *Service) ResetBotTemplateSecret(ctx context.Context, actor Actor, id, owner string) (string, error) {
	if _, err := s.template(ctx, actor, id, owner); err != nil {
		return "", err
	}
	return s.ResetBotSecret(ctx, actor, id)
}

// ListBotTemplates lists a client id's templates (list_bot_templates). Managers only.
func (s *Service) ListBotTemplates(ctx context.Context, actor Actor, owner string) ([]Agent, error) {
	if err := managersOnly(actor, "manage bot templates"); err != nil {
		return nil, err
	}
	if err := validateOwner(owner); err != nil {
		return nil, err
	}
	return s.store.Agents().Find(ctx, Query{Where: []Cond{Eq("owner_client_id", owner), Eq("bot_template", true)}, Sort: "created_at"})
}
