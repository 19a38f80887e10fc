package livechat

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// tokenPrefix is the region prefix LiveChat access tokens carry; clients
// derive an X-Region header from it, so chatbridge tokens have one too.
const tokenPrefix = "dal:"

// HashToken is the store key of a token secret: its SHA-256, hex encoded.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// AgentTokens is the answer of an agent sign-in.
type AgentTokens struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    int
	AccountID    string
	AgentID      string
}

func authnError(msg string) *Error { return Errorf(TypeAuthentication, "%s", msg) }

// issue stores a new token of kind for subject and returns its secret.
func (s *Service) issue(ctx context.Context, kind, subject, clientID, name, parent string, ttl time.Duration) (string, *Token, error) {
	secret := newSecret(32)
	if kind != TokenAgentRefresh && kind != TokenPersonal && kind != TokenCustomerCookie {
		secret = tokenPrefix + secret
	}
	now := s.now()
	t := &Token{ID: HashToken(secret), Kind: kind, Subject: subject, ClientID: clientID, Name: name, Parent: parent, CreatedAt: now}
	if ttl > 0 {
		t.ExpiresAt = now.Add(ttl)
	}
	if err := s.store.Tokens().Insert(ctx, t); err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// lookupToken finds a live token by its secret. The store is keyed by the
// hash, and the hash is compared again in constant time so a store that
// matched loosely cannot let a wrong secret through.
func (s *Service) lookupToken(ctx context.Context, secret string, kinds ...string) (*Token, error) {
	if secret == "" || len(secret) > 512 {
		return nil, authnError("Invalid access token")
	}
	h := HashToken(secret)
	t, err := s.store.Tokens().Get(ctx, h)
	if errors.Is(err, ErrNotFound) {
		return nil, authnError("Invalid access token")
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(t.ID), []byte(h)) != 1 {
		return nil, authnError("Invalid access token")
	}
	if len(kinds) > 0 && !containsString(kinds, t.Kind) {
		return nil, authnError("Invalid access token")
	}
	if t.Expired(s.now()) {
		return nil, authnError("Access token expired")
	}
	return t, nil
}

func containsString(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// PasswordGrant signs an agent in with e-mail (or username) and password and
// issues an access and a refresh token.
func (s *Service) PasswordGrant(ctx context.Context, login, password, clientID string) (*AgentTokens, error) {
	a, err := s.FindAgentByLogin(ctx, login)
	if err != nil || !CheckPassword(a, password) || a.Suspended || a.AwaitingApproval {
		if err != nil && !IsType(err, TypeNotFound) {
			return nil, err
		}
		return nil, authnError("Invalid e-mail or password")
	}
	return s.IssueAgentTokens(ctx, a, clientID)
}

// IssueAgentTokens issues a fresh access and refresh token pair for a.
func (s *Service) IssueAgentTokens(ctx context.Context, a *Agent, clientID string) (*AgentTokens, error) {
	access, at, err := s.issue(ctx, TokenAgentAccess, a.ID, clientID, "", "", s.cfg.AgentTokenTTL)
	if err != nil {
		return nil, err
	}
	refresh, _, err := s.issue(ctx, TokenAgentRefresh, a.ID, clientID, "", at.ID, s.cfg.RefreshTokenTTL)
	if err != nil {
		return nil, err
	}
	return &AgentTokens{AccessToken: access, RefreshToken: refresh, ExpiresIn: int(s.cfg.AgentTokenTTL / time.Second), AccountID: a.AccountID, AgentID: a.ID}, nil
}

// RefreshGrant trades a refresh token for a new pair; the old refresh token
// and the access token issued with it stop working.
func (s *Service) RefreshGrant(ctx context.Context, refreshToken string) (*AgentTokens, error) {
	t, err := s.lookupToken(ctx, refreshToken, TokenAgentRefresh)
	if err != nil {
		return nil, err
	}
	a, err := s.store.Agents().Get(ctx, t.Subject)
	if err != nil || a.Suspended {
		return nil, authnError("Invalid refresh token")
	}
	if err := s.store.Tokens().Delete(ctx, t.ID); err != nil {
		if errors.Is(err, ErrNotFound) { // used concurrently: only one trade wins
			return nil, authnError("Invalid refresh token")
		}
		return nil, err
	}
	if t.Parent != "" {
		_ = s.store.Tokens().Delete(ctx, t.Parent)
	}
	return s.IssueAgentTokens(ctx, a, t.ClientID)
}

// RevokeToken deletes the token an Authorization value presents (and, for
// an access token, the refresh token issued with it).
func (s *Service) RevokeToken(ctx context.Context, authorization string) error {
	_, t, err := s.authenticate(ctx, authorization)
	if err != nil {
		return err
	}
	children, err := s.store.Tokens().Find(ctx, Where(Eq("parent", t.ID)))
	if err != nil {
		return err
	}
	if _, err := s.store.Tokens().DeleteWhere(ctx, Where(Eq("parent", t.ID))); err != nil {
		return err
	}
	if err := s.store.Tokens().Delete(ctx, t.ID); err != nil {
		return err
	}
	ids := []string{t.ID}
	for _, c := range children {
		ids = append(ids, c.ID)
	}
	topic := AgentTopic(t.Subject)
	if t.Kind == TokenCustomerAccess {
		topic = CustomerTopic(t.Subject)
	}
	s.emit(ctx, &DomainEvent{Kind: KindTokenRevoked, RequesterID: t.Subject, Topics: []Topic{topic}, AgentsOnly: t.Kind != TokenCustomerAccess,
		Data: TokenRevokedData{TokenIDs: ids}})
	return nil
}

// CreatePersonalAccessToken issues a personal access token for agent id,
// used as Basic base64(account_id:token). Agents make their own; managers
// anyone's. ttl 0 means it never expires.
func (s *Service) CreatePersonalAccessToken(ctx context.Context, actor Actor, agentID, name string, ttl time.Duration) (string, *Agent, error) {
	if !actor.IsManager() && actor.ID != agentID {
		return "", nil, Errorf(TypeAuthorization, "Cannot create tokens for another agent")
	}
	a, err := s.store.Agents().Get(ctx, strings.ToLower(agentID))
	if err != nil {
		return "", nil, storeErr(err, "Agent")
	}
	secret, _, err := s.issue(ctx, TokenPersonal, a.ID, "", name, "", ttl)
	if err != nil {
		return "", nil, err
	}
	return secret, a, nil
}

// EnsureAgentToken makes secret a valid, never-expiring access token for
// agent a (the --admin-token flag). It is idempotent.
func (s *Service) EnsureAgentToken(ctx context.Context, a *Agent, secret string) error {
	if len(secret) < 16 {
		return Errorf(TypeValidation, "the admin token must be at least 16 characters")
	}
	t := &Token{ID: HashToken(secret), Kind: TokenAgentAccess, Subject: a.ID, Name: "admin", CreatedAt: s.now()}
	old, err := s.store.Tokens().Get(ctx, t.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		return s.store.Tokens().Insert(ctx, t)
	case err != nil:
		return err
	case old.Subject != a.ID || old.Kind != TokenAgentAccess || !old.ExpiresAt.IsZero():
		return s.store.Tokens().Replace(ctx, t.ID, t)
	}
	return nil
}

// Authenticate turns an Authorization value into an actor. It accepts
// "Bearer <token>", "Basic base64(<account_id>:<personal token>)" and a bare
// token (RTM logins are lenient). Wrong, unknown and expired credentials all
// give an authentication error.
func (s *Service) Authenticate(ctx context.Context, authorization string) (Actor, error) {
	a, _, err := s.authenticate(ctx, authorization)
	return a, err
}

// Credential names the token a login used: its id (a hash) and until when
// it holds (zero: it does not expire), so a realtime session can end when
// the token expires or is revoked (KindTokenRevoked).
type Credential struct {
	TokenID   string
	ExpiresAt time.Time
}

// AuthenticateCredential is Authenticate that also describes the token.
func (s *Service) AuthenticateCredential(ctx context.Context, authorization string) (Actor, Credential, error) {
	a, t, err := s.authenticate(ctx, authorization)
	if err != nil || t == nil {
		return a, Credential{}, err
	}
	return a, Credential{TokenID: t.ID, ExpiresAt: t.ExpiresAt}, nil
}

// authenticate is Authenticate that also returns the stored token.
func (s *Service) authenticate(ctx context.Context, authorization string) (Actor, *Token, error) {
	authorization = strings.TrimSpace(authorization)
	scheme, rest, found := strings.Cut(authorization, " ")
	switch {
	case found && strings.EqualFold(scheme, "Basic"):
		return s.authenticateBasic(ctx, strings.TrimSpace(rest))
	case found && strings.EqualFold(scheme, "Bearer"):
		return s.authenticateBearer(ctx, strings.TrimSpace(rest))
	case !found && authorization != "":
		return s.authenticateBearer(ctx, authorization)
	}
	return Actor{}, nil, authnError("Missing credentials")
}

func (s *Service) authenticateBearer(ctx context.Context, secret string) (Actor, *Token, error) {
	t, err := s.lookupToken(ctx, secret, TokenAgentAccess, TokenBot, TokenCustomerAccess, TokenResume)
	if err != nil {
		return Actor{}, nil, err
	}
	a, err := s.actorForToken(ctx, t)
	return a, t, err
}

func (s *Service) authenticateBasic(ctx context.Context, encoded string) (Actor, *Token, error) {
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(encoded); err != nil {
			return Actor{}, nil, authnError("Malformed Basic credentials")
		}
	}
	accountID, secret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return Actor{}, nil, authnError("Malformed Basic credentials")
	}
	t, err := s.lookupToken(ctx, secret, TokenPersonal)
	if err != nil {
		return Actor{}, nil, err
	}
	actor, err := s.actorForToken(ctx, t)
	if err != nil {
		return Actor{}, nil, err
	}
	// The account id names the token's owner: a token presented under someone else's account fails.
	if subtle.ConstantTimeCompare([]byte(actor.Agent.AccountID), []byte(accountID)) != 1 && actor.Agent.ID != strings.ToLower(accountID) {
		return Actor{}, nil, authnError("Invalid access token")
	}
	return actor, t, nil
}

func (s *Service) actorForToken(ctx context.Context, t *Token) (Actor, error) {
	if t.Kind == TokenCustomerAccess {
		c, err := s.store.Customers().Get(ctx, t.Subject)
		if err != nil {
			return Actor{}, authnError("Invalid access token")
		}
		a := CustomerActor(c)
		a.ClientID, a.TokenKind = t.ClientID, t.Kind
		return a, nil
	}
	ag, err := s.store.Agents().Get(ctx, t.Subject)
	if err != nil {
		return Actor{}, authnError("Invalid access token")
	}
	if ag.Suspended {
		return Actor{}, authnError("Agent suspended")
	}
	a := AgentActor(ag)
	a.ClientID, a.TokenKind = t.ClientID, t.Kind
	return a, nil
}

// ActAs returns the actor for bot botID acting through actor's credentials
// (LiveChat's X-Author-Id / author_id). Managers may act as any bot; others
// only as bots they own.
func (s *Service) ActAs(ctx context.Context, actor Actor, botID string) (Actor, error) {
	if !actor.IsAgent() {
		return Actor{}, Errorf(TypeAuthorization, "Only agents can act as bots")
	}
	bot, err := s.store.Agents().Get(ctx, strings.ToLower(botID))
	if err != nil {
		return Actor{}, storeErr(err, "Bot")
	}
	if bot.Kind != AgentKindBot {
		return Actor{}, Errorf(TypeValidation, "author %s is not a bot", botID)
	}
	if !actor.IsManager() && bot.OwnerID != actor.ID {
		return Actor{}, Errorf(TypeAuthorization, "Cannot act as a bot you do not own")
	}
	a := AgentActor(bot)
	a.ClientID, a.TokenKind = actor.ClientID, actor.TokenKind
	return a, nil
}

// IssueBotToken issues a bot's own access token (24 h).
func (s *Service) IssueBotToken(ctx context.Context, actor Actor, botID, clientID string) (string, error) {
	bot, err := s.ActAs(ctx, actor, botID)
	if err != nil {
		return "", err
	}
	secret, _, err := s.issue(ctx, TokenBot, bot.ID, clientID, "", "", 24*time.Hour)
	return secret, err
}

// TokenInfo describes a valid token (GET /v2/info).
type TokenInfo struct {
	Token     Token
	AccountID string
	EntityID  string
}

// InspectToken returns what a valid credential stands for.
func (s *Service) InspectToken(ctx context.Context, authorization string) (*TokenInfo, error) {
	actor, t, err := s.authenticate(ctx, authorization)
	if err != nil {
		return nil, err
	}
	info := &TokenInfo{Token: *t, EntityID: actor.ID}
	if actor.IsAgent() {
		info.AccountID = actor.Agent.AccountID
	}
	return info, nil
}

// DeleteExpiredTokens removes tokens past their expiry and says how many.
func (s *Service) DeleteExpiredTokens(ctx context.Context) (int64, error) {
	return s.store.Tokens().DeleteWhere(ctx, Where(
		Cond{Field: "expires_at", Op: OpLte, Value: s.now()},
		Cond{Field: "expires_at", Op: OpGt, Value: time.Time{}},
	))
}
