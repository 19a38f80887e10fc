package livechat_test

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

func TestTokensAndActors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()

	// Password grant: plain password and the Meteor digest verify against one hash.
	toks, err := f.svc.PasswordGrant(ctx, "Agent@Example.com", "secret123", "app")
	if err != nil {
		t.Fatal(err)
	}
	a := must[*livechat.Agent](t)(f.svc.GetAgent(ctx, f.owner, f.agent.ID))
	if !livechat.CheckPasswordDigest(a, livechat.PasswordDigest("secret123")) || livechat.CheckPassword(a, "wrong-pass") {
		t.Fatal("password digest check disagrees with the plain check")
	}
	_, err = f.svc.PasswordGrant(ctx, f.agent.ID, "wrong-pass", "app")
	wantType(t, err, livechat.TypeAuthentication)
	_, err = f.svc.PasswordGrant(ctx, "nobody@example.com", "secret123", "app")
	wantType(t, err, livechat.TypeAuthentication)
	// The username works too.
	if _, err := f.svc.PasswordGrant(ctx, a.Username, "secret123", "app"); err != nil {
		t.Fatalf("sign-in by username: %v", err)
	}

	for _, auth := range []string{"Bearer " + toks.AccessToken, toks.AccessToken, "bearer  " + toks.AccessToken} {
		actor, err := f.svc.Authenticate(ctx, auth)
		if err != nil || actor.ID != f.agent.ID || !actor.IsAgent() {
			t.Fatalf("Authenticate(%q…) = %+v, %v", auth[:8], actor, err)
		}
	}
	for _, bad := range []string{"", "Bearer ", "Bearer nope", "Basic !!!", "Basic " + base64.StdEncoding.EncodeToString([]byte("no-colon")), "Digest x"} {
		_, err := f.svc.Authenticate(ctx, bad)
		wantType(t, err, livechat.TypeAuthentication)
	}

	// Refresh rotates the pair.
	next, err := f.svc.RefreshGrant(ctx, toks.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.RefreshGrant(ctx, toks.RefreshToken)
	wantType(t, err, livechat.TypeAuthentication)
	_, err = f.svc.Authenticate(ctx, "Bearer "+toks.AccessToken)
	wantType(t, err, livechat.TypeAuthentication)

	// Access tokens expire; refresh tokens outlive them; cleanup keeps never-expiring tokens.
	pat, agent, err := f.svc.CreatePersonalAccessToken(ctx, f.agent, f.agent.ID, "ci", 0)
	if err != nil {
		t.Fatal(err)
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(agent.AccountID+":"+pat))
	if actor, err := f.svc.Authenticate(ctx, basic); err != nil || actor.ID != f.agent.ID {
		t.Fatalf("personal access token: %v", err)
	}
	other := must[*livechat.Agent](t)(f.svc.GetAgent(ctx, f.owner, f.other.ID))
	_, err = f.svc.Authenticate(ctx, "Basic "+base64.StdEncoding.EncodeToString([]byte(other.AccountID+":"+pat)))
	wantType(t, err, livechat.TypeAuthentication)
	_, _, err = f.svc.CreatePersonalAccessToken(ctx, f.agent, f.other.ID, "x", 0)
	wantType(t, err, livechat.TypeAuthorization)

	f.clock.Advance(8*time.Hour + time.Second)
	_, err = f.svc.Authenticate(ctx, "Bearer "+next.AccessToken)
	wantType(t, err, livechat.TypeAuthentication)
	// Two access tokens are past their 8 h: the refreshed one and the username sign-in's.
	if n, err := f.svc.DeleteExpiredTokens(ctx); err != nil || n != 2 {
		t.Fatalf("DeleteExpiredTokens = %d, %v; want the 2 expired access tokens", n, err)
	}
	if _, err := f.svc.Authenticate(ctx, basic); err != nil {
		t.Fatalf("never-expiring token removed by cleanup: %v", err)
	}
	if _, err := f.svc.RefreshGrant(ctx, next.RefreshToken); err != nil {
		t.Fatalf("refresh after the access token expired: %v", err)
	}

	// Bots: created by managers, acted as by their owner (X-Author-Id) or with their own token.
	bot := must[*livechat.Agent](t)(f.svc.CreateAgent(ctx, f.owner, livechat.AgentInput{Bot: true, Name: "Helper"}))
	if bot.Kind != livechat.AgentKindBot || len(bot.ID) != 32 {
		t.Fatalf("bot %+v", bot)
	}
	if as, err := f.svc.ActAs(ctx, f.owner, bot.ID); err != nil || as.ID != bot.ID {
		t.Fatalf("owner acting as bot: %v", err)
	}
	_, err = f.svc.ActAs(ctx, f.agent, bot.ID)
	wantType(t, err, livechat.TypeAuthorization)
	_, err = f.svc.ActAs(ctx, f.owner, f.agent.ID)
	wantType(t, err, livechat.TypeValidation)
	bt, err := f.svc.IssueBotToken(ctx, f.owner, bot.ID, "app")
	if err != nil {
		t.Fatal(err)
	}
	if actor, err := f.svc.Authenticate(ctx, "Bearer "+bt); err != nil || actor.ID != bot.ID {
		t.Fatalf("bot token: %v", err)
	}

	// Customer tokens: cookie identity is kept, others get a new customer.
	org := f.svc.Organization().OrganizationID
	ct, err := f.svc.IssueCustomerToken(ctx, livechat.System(), livechat.CustomerTokenRequest{ClientID: "w", OrganizationID: org})
	if err != nil || !ct.Created || ct.CookieSecret == "" {
		t.Fatalf("first customer token: %+v, %v", ct, err)
	}
	again, err := f.svc.IssueCustomerToken(ctx, livechat.System(), livechat.CustomerTokenRequest{ClientID: "w", OrganizationID: org, CookieCustomerID: ct.EntityID, CookieSecret: ct.CookieSecret})
	if err != nil || again.EntityID != ct.EntityID || again.Created {
		t.Fatalf("returning customer got %+v, %v", again, err)
	}
	forged, err := f.svc.IssueCustomerToken(ctx, livechat.System(), livechat.CustomerTokenRequest{ClientID: "w", OrganizationID: org, CookieCustomerID: ct.EntityID, CookieSecret: "guess"})
	if err != nil || forged.EntityID == ct.EntityID {
		t.Fatal("a forged cookie took over a customer identity")
	}
	if actor, err := f.svc.Authenticate(ctx, "Bearer "+ct.AccessToken); err != nil || !actor.IsCustomer() || actor.ID != ct.EntityID {
		t.Fatalf("customer token: %+v, %v", actor, err)
	}
	_, err = f.svc.IssueCustomerToken(ctx, livechat.System(), livechat.CustomerTokenRequest{ClientID: "w", OrganizationID: "wrong"})
	wantType(t, err, livechat.TypeNotFound)
	_, err = f.svc.IssueCustomerToken(ctx, livechat.CustomerActor(&livechat.Customer{ID: ct.EntityID}), livechat.CustomerTokenRequest{ClientID: "w", OrganizationID: org, EntityID: f.customer.ID})
	wantType(t, err, livechat.TypeAuthorization)
}

func TestEnsureOwnerIsIdempotent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	const token = "admin-token-0123456789abcdef"
	for range 2 {
		a, err := f.svc.EnsureOwner(ctx, "Boss@Example.com", "boss-pass", token)
		if err != nil || a.Role != livechat.RoleOwner || a.ID != "boss@example.com" {
			t.Fatalf("EnsureOwner = %+v, %v", a, err)
		}
	}
	actor, err := f.svc.Authenticate(ctx, "Bearer "+token)
	if err != nil || actor.ID != "boss@example.com" || !actor.IsManager() {
		t.Fatalf("admin token: %+v, %v", actor, err)
	}
	if _, err := f.svc.PasswordGrant(ctx, "boss@example.com", "boss-pass", ""); err != nil {
		t.Fatal(err)
	}
	// Promotes an existing agent and changes its password.
	a, err := f.svc.EnsureOwner(ctx, f.agent.ID, "new-pass-1", "")
	if err != nil || a.Role != livechat.RoleOwner {
		t.Fatalf("promote: %+v, %v", a, err)
	}
	if _, err := f.svc.PasswordGrant(ctx, f.agent.ID, "new-pass-1", ""); err != nil {
		t.Fatal(err)
	}
	// Bootstrap does nothing on a store that has agents.
	if a, tok, err := f.svc.Bootstrap(ctx, "first@example.com"); err != nil || a != nil || tok != "" {
		t.Fatalf("Bootstrap on a used store = %v, %q, %v", a, tok, err)
	}
}
