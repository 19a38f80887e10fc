package bridge

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/chatbridge/chatbridge/ddp"
	"github.com/chatbridge/chatbridge/livechat"
)

// Accounts (spec §7). Agents are the Rocket.Chat users. A password login
// checks the LiveChat password (stored as bcrypt of its SHA-256 hex digest,
// which is what Meteor clients send) and issues a resume token stored as a
// LiveChat TokenResume token; a resume login takes that token or any
// LiveChat agent token (access, bot, personal). So the same secret works in
// `Authorization: Bearer` and in `login {resume}`, both ways.

// loginRequest is login's one parameter. user is an object with exactly
// one of id, username and email, or (leniently) a string; password is
// {digest, algorithm:"sha-256"} or the plain text.
type loginRequest struct {
	Resume   *string         `json:"resume"`
	User     json.RawMessage `json:"user"`
	Password json.RawMessage `json:"password"`
	TOTP     *struct {
		Login json.RawMessage `json:"login"`
		Code  string          `json:"code"`
	} `json:"totp"`
}

type loginUser struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
}

type loginDigest struct {
	Digest    string `json:"digest"`
	Algorithm string `json:"algorithm"`
}

// loginResult is login's answer.
type loginResult struct {
	ID           string    `json:"id"`
	Token        string    `json:"token"`
	TokenExpires time.Time `json:"tokenExpires"`
	Type         string    `json:"type,omitempty"`
}

// Login errors (spec §7.4): Meteor's 403s and 400.
var (
	errUserNotFound      = &ddp.Error{Code: 403, Reason: "User not found"}
	errIncorrectPassword = &ddp.Error{Code: 403, Reason: "Incorrect password"}
	errLoggedOut         = &ddp.Error{Code: 403, Reason: "You've been logged out by the server. Please log in again."}
	errSessionExpired    = &ddp.Error{Code: 403, Reason: "Your session has expired. Please log in again."}
	errNoPassword        = &ddp.Error{Code: 403, Reason: "User has no password set"}
	errUnrecognized      = &ddp.Error{Code: 400, Reason: "Unrecognized options for login request"}
	errNotActivated      = &ddp.Error{Code: "error-user-is-not-activated", Reason: "User is not activated"}
)

func (b *Bridge) login(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var req loginRequest
	if err := inv.Params.Decode(&req); err != nil {
		return nil, err
	}
	if req.TOTP != nil && len(req.TOTP.Login) > 0 { // no 2FA here: the inner login decides
		req = loginRequest{}
		if err := ddp.UnmarshalEJSON(req.TOTP.Login, &req); err != nil {
			return nil, errUnrecognized
		}
	}
	var (
		actor   livechat.Actor
		token   string
		expires time.Time
		kind    string
		err     error
	)
	switch {
	case req.Resume != nil:
		kind, token = "resume", *req.Resume
		actor, expires, err = b.svc.LoginWithResumeToken(ctx, token)
		if err != nil {
			le := livechat.AsError(err)
			switch {
			case le.Type != livechat.TypeAuthentication:
				return nil, err
			case le.Data["expired"] == true:
				return nil, errSessionExpired
			}
			return nil, errLoggedOut
		}
	case len(req.User) > 0 && len(req.Password) > 0:
		kind = "password"
		a, err := b.passwordAgent(ctx, req.User, req.Password)
		if err != nil {
			return nil, err
		}
		actor = livechat.AgentActor(a)
		if token, expires, err = b.svc.IssueResumeToken(ctx, a, b.cfg.ResumeTokenTTL); err != nil {
			return nil, err
		}
	default:
		return nil, errUnrecognized
	}
	if expires.IsZero() { // a never-expiring LiveChat token: clients still need a date
		expires = b.clock.Now().Add(b.cfg.ResumeTokenTTL)
	}
	uid := b.connOf(inv.Session).signIn(actor, token, expires)
	return loginResult{ID: uid, Token: token, TokenExpires: expires.UTC(), Type: kind}, nil
}

// passwordAgent checks a password login and returns its agent.
func (b *Bridge) passwordAgent(ctx context.Context, rawUser, rawPassword json.RawMessage) (*livechat.Agent, error) {
	var u loginUser
	var s string
	if ddp.UnmarshalEJSON(rawUser, &s) == nil { // lenient: a bare string
		if strings.Contains(s, "@") {
			u.Email = s
		} else {
			u.Username = s
		}
	} else if err := ddp.UnmarshalEJSON(rawUser, &u); err != nil {
		return nil, &ddp.Error{Code: 400, Reason: "Match failed"}
	}
	login, n := "", 0
	for _, v := range []string{u.ID, u.Username, u.Email} {
		if v != "" {
			login, n = v, n+1
		}
	}
	if n != 1 {
		return nil, &ddp.Error{Code: 400, Reason: "Match failed"}
	}
	var digest string
	var plain string
	if ddp.UnmarshalEJSON(rawPassword, &plain) == nil {
		if plain == "" || len(plain) > 256 {
			return nil, errIncorrectPassword
		}
		digest = livechat.PasswordDigest(plain)
	} else {
		var d loginDigest
		if err := ddp.UnmarshalEJSON(rawPassword, &d); err != nil || d.Algorithm != "sha-256" || len(d.Digest) != 64 {
			return nil, &ddp.Error{Code: 400, Reason: "Match failed"}
		}
		digest = strings.ToLower(d.Digest)
	}
	a, err := b.svc.FindAgentByLogin(ctx, login)
	if err != nil {
		if livechat.IsType(err, livechat.TypeNotFound) {
			return nil, errUserNotFound
		}
		return nil, err
	}
	if a.PasswordHash == "" {
		return nil, errNoPassword
	}
	if !livechat.CheckPasswordDigest(a, digest) {
		return nil, errIncorrectPassword
	}
	if a.Suspended || a.AwaitingApproval {
		return nil, errNotActivated
	}
	return a, nil
}

// signIn makes actor the session's user: per-user rate limits, presence
// (the agent's DDP session counts like an RTM session for routing), hub
// topics, and the user's `users` document, pushed outside any
// subscription as Meteor does. It returns the Rocket.Chat user id.
func (c *conn) signIn(actor livechat.Actor, token string, expires time.Time) string {
	a := actor.Agent
	uid := a.AccountID
	ctx := context.Background()
	c.mu.Lock()
	prev, wasPresent, prevDoc := c.actor, c.present, c.docSent
	c.actor, c.uid, c.token, c.expires = actor, uid, token, expires.UnixMilli()
	c.present, c.docSent = true, uid
	c.mu.Unlock()
	c.s.SetUserID(uid)
	if prev.IsAgent() && prev.ID != a.ID { // another user: the previous one's streams end
		for _, sub := range c.userSubs() {
			sub.Stop()
		}
	}
	if wasPresent && prev.ID != a.ID {
		_ = c.b.svc.SetAway(ctx, prev.ID, livechat.SessionKey(c.id), false)
		c.b.svc.AgentDisconnected(ctx, prev.ID)
	}
	if !wasPresent || prev.ID != a.ID {
		c.b.svc.AgentConnected(ctx, a.ID)
	}
	c.syncHub()
	doc := c.b.toUserDoc(a)
	switch {
	case prevDoc == uid:
		_ = c.s.Changed("users", uid, doc)
	default:
		if prevDoc != "" {
			_ = c.s.Removed("users", prevDoc)
		}
		_ = c.s.Added("users", uid, doc)
	}
	return uid
}

// signOut clears the session's user: its token is revoked, its user
// streams end (nosub), it leaves the agent's hub topics and presence, and
// the client's `users` document is removed (Meteor re-runs publications on
// logout; the only ones that depend on the user here are those streams).
func (c *conn) signOut(ctx context.Context) {
	c.mu.Lock()
	actor, token, present, doc := c.actor, c.token, c.present, c.docSent
	c.actor, c.uid, c.token, c.present, c.docSent = livechat.Actor{}, "", "", false, ""
	c.mu.Unlock()
	userSubs := c.userSubs()
	c.s.SetUserID("")
	if token != "" {
		_ = c.b.svc.RevokeToken(ctx, "Bearer "+token) // personal tokens are not Bearer tokens: they stay
	}
	for _, sub := range userSubs {
		sub.Stop()
	}
	c.syncHub()
	if present {
		_ = c.b.svc.SetAway(ctx, actor.ID, livechat.SessionKey(c.id), false)
		c.b.svc.AgentDisconnected(ctx, actor.ID)
	}
	if doc != "" {
		_ = c.s.Removed("users", doc)
	}
}

func (b *Bridge) logout(ctx context.Context, inv *ddp.Invocation) (any, error) {
	b.connOf(inv.Session).signOut(ctx)
	return nil, nil
}

// getNewToken issues a new resume token expiring with the current one.
func (b *Bridge) getNewToken(ctx context.Context, inv *ddp.Invocation) (any, error) {
	c := b.connOf(inv.Session)
	actor, uid, ok := c.agent()
	if !ok {
		return nil, errInvalidUser(inv.Method)
	}
	c.mu.Lock()
	expires := time.UnixMilli(c.expires)
	c.mu.Unlock()
	ttl := expires.Sub(b.clock.Now())
	if ttl <= 0 {
		return nil, errSessionExpired
	}
	token, exp, err := b.svc.IssueResumeToken(ctx, actor.Agent, ttl)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.token = token
	c.mu.Unlock()
	return loginResult{ID: uid, Token: token, TokenExpires: exp.UTC()}, nil
}

// removeOtherTokens revokes the user's other resume tokens.
func (b *Bridge) removeOtherTokens(ctx context.Context, inv *ddp.Invocation) (any, error) {
	c := b.connOf(inv.Session)
	actor, _, ok := c.agent()
	if !ok {
		return nil, errInvalidUser(inv.Method)
	}
	c.mu.Lock()
	token := c.token
	c.mu.Unlock()
	return nil, b.svc.RevokeOtherResumeTokens(ctx, actor.ID, token)
}

// userSubs lists the subscriptions that belong to the signed-in user.
func (c *conn) userSubs() []*ddp.Subscription {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*ddp.Subscription
	for sub, info := range c.subs {
		if info.userScoped {
			out = append(out, sub)
		}
	}
	for sub := range c.inqs {
		out = append(out, sub)
	}
	return out
}
