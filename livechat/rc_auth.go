package livechat

import (
	"context"
	"crypto/subtle"
	"errors"
	"time"
)

// Core helpers for the Rocket.Chat realtime API (package bridge): resume
// tokens. A Rocket.Chat login issues a TokenResume token, which
// Authenticate accepts as a Bearer token, so the same secret signs the
// agent in over DDP and over the LiveChat APIs; the other way round,
// LoginWithResumeToken accepts the LiveChat agent tokens.

// DefaultResumeTokenTTL is the life of a Rocket.Chat resume token
// (Rocket.Chat's Accounts_LoginExpiration default, 90 days).
const DefaultResumeTokenTTL = 90 * 24 * time.Hour

// resumeKinds are the token kinds a Rocket.Chat resume login accepts: its own
// resume tokens and the LiveChat agent, bot and personal access tokens.
var resumeKinds = []string{TokenResume, TokenAgentAccess, TokenBot, TokenPersonal}

// IssueResumeToken issues a resume token for agent a that lives ttl (0:
// DefaultResumeTokenTTL) and returns its secret and expiry.
func (s *Service) IssueResumeToken(ctx context.Context, a *Agent, ttl time.Duration) (string, time.Time, error) {
	if ttl <= 0 {
		ttl = DefaultResumeTokenTTL
	}
	secret, t, err := s.issue(ctx, TokenResume, a.ID, "", "", "", ttl)
	if err != nil {
		return "", time.Time{}, err
	}
	return secret, t.ExpiresAt, nil
}

// LoginWithResumeToken signs an agent in with a resume token: one
// IssueResumeToken made, or a LiveChat agent access, bot or personal access
// token. It returns the agent's actor and the token's expiry (zero: never).
// An expired token's error carries Data["expired"] = true; unknown tokens,
// customer tokens, and suspended agents are authentication errors.
func (s *Service) LoginWithResumeToken(ctx context.Context, secret string) (Actor, time.Time, error) {
	invalid := authnError("Invalid access token")
	if secret == "" || len(secret) > 512 {
		return Actor{}, time.Time{}, invalid
	}
	h := HashToken(secret)
	t, err := s.store.Tokens().Get(ctx, h)
	if errors.Is(err, ErrNotFound) {
		return Actor{}, time.Time{}, invalid
	}
	if err != nil {
		return Actor{}, time.Time{}, err
	}
	if subtle.ConstantTimeCompare([]byte(t.ID), []byte(h)) != 1 || !containsString(resumeKinds, t.Kind) {
		return Actor{}, time.Time{}, invalid
	}
	if t.Expired(s.now()) {
		return Actor{}, time.Time{}, &Error{Type: TypeAuthentication, Message: "Access token expired", Data: map[string]any{"expired": true}}
	}
	a, err := s.actorForToken(ctx, t)
	if err != nil {
		return Actor{}, time.Time{}, err
	}
	if a.Agent.AwaitingApproval {
		return Actor{}, time.Time{}, authnError("Agent awaiting approval")
	}
	return a, t.ExpiresAt, nil
}

// RevokeOtherResumeTokens deletes agent agentID's resume tokens except the
// one whose secret is keep (Rocket.Chat's removeOtherTokens). LiveChat
// access tokens are left alone.
func (s *Service) RevokeOtherResumeTokens(ctx context.Context, agentID, keep string) error {
	q := Where(Eq("subject", agentID), Eq("kind", TokenResume))
	if keep != "" {
		q.Where = append(q.Where, Cond{Field: "_id", Op: OpNe, Value: HashToken(keep)})
	}
	_, err := s.store.Tokens().DeleteWhere(ctx, q)
	return err
}
