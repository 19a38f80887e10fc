package rest

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/chatbridge/chatbridge/livechat"
)

// Cookie names LiveChat's accounts service uses for a returning customer.
const (
	cookieCustomerID     = "__lc_cid"
	cookieCustomerSecret = "__lc_cst"
)

func (s *Server) tokenRoutes() {
	e := s.e
	e.POST("/v2/token", s.agentToken)
	e.DELETE("/v2/token", s.revokeToken)
	e.GET("/v2/info", s.tokenInfo)
	cors := s.corsForWidgets()
	e.POST("/v2/customer/token", s.customerToken, cors)
	e.POST("/v2/customer/:organization_id/:group_id/token", s.customerToken, cors)
	e.OPTIONS("/v2/customer/token", noContent, cors)
	e.OPTIONS("/v2/customer/:organization_id/:group_id/token", noContent, cors)
}

func noContent(c echo.Context) error { return c.NoContent(http.StatusNoContent) }

// readParams reads a token request body as JSON (whatever its declared
// content type: @livechat/customer-auth sends JSON as text/plain) or as a
// form, plus the query string.
func readParams(c echo.Context) (map[string]any, error) {
	out := map[string]any{}
	for k, v := range c.QueryParams() {
		out[k] = v[0]
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, 64<<10))
	if err != nil {
		return nil, oauthErr(http.StatusBadRequest, "invalid_request", "request body could not be read")
	}
	ct, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	trimmed := strings.TrimSpace(string(body))
	switch {
	case trimmed == "":
	case ct == echo.MIMEApplicationForm:
		vals, err := url.ParseQuery(trimmed)
		if err != nil {
			return nil, oauthErr(http.StatusBadRequest, "invalid_request", "malformed form body")
		}
		for k, v := range vals {
			out[k] = v[0]
		}
	default:
		var m map[string]any
		if err := json.Unmarshal([]byte(trimmed), &m); err != nil {
			return nil, oauthErr(http.StatusBadRequest, "invalid_request", "malformed JSON body")
		}
		for k, v := range m {
			out[k] = v
		}
	}
	return out, nil
}

func param(p map[string]any, k string) string {
	switch v := p[k].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatInt(int64(v), 10)
	}
	return ""
}

// agentTokenResponse is the OAuth answer of /v2/token.
type agentTokenResponse struct {
	AccessToken    string `json:"access_token"`
	RefreshToken   string `json:"refresh_token"`
	ExpiresIn      int    `json:"expires_in"`
	TokenType      string `json:"token_type"`
	AccountID      string `json:"account_id"`
	OrganizationID string `json:"organization_id"`
	Scope          string `json:"scope"`
}

// agentToken is POST /v2/token: the password and refresh_token grants.
func (s *Server) agentToken(c echo.Context) error {
	p, err := readParams(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var tokens *livechat.AgentTokens
	switch param(p, "grant_type") {
	case "password":
		user, pass := param(p, "username"), param(p, "password")
		if user == "" || pass == "" {
			return oauthErr(http.StatusBadRequest, "invalid_request", "username and password are required")
		}
		tokens, err = s.svc.PasswordGrant(ctx, user, pass, param(p, "client_id"))
	case "refresh_token":
		rt := param(p, "refresh_token")
		if rt == "" {
			return oauthErr(http.StatusBadRequest, "invalid_request", "refresh_token is required")
		}
		tokens, err = s.svc.RefreshGrant(ctx, rt)
	case "":
		return oauthErr(http.StatusBadRequest, "invalid_request", "grant_type is required")
	default:
		return oauthErr(http.StatusBadRequest, "unsupported_grant_type", "grant_type must be password or refresh_token")
	}
	if err != nil {
		if livechat.IsType(err, livechat.TypeAuthentication) {
			return oauthErr(http.StatusUnauthorized, "invalid_grant", livechat.AsError(err).Message)
		}
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, agentTokenResponse{
		AccessToken: tokens.AccessToken, RefreshToken: tokens.RefreshToken, ExpiresIn: tokens.ExpiresIn,
		TokenType: "Bearer", AccountID: tokens.AccountID, OrganizationID: s.svc.Organization().OrganizationID,
		Scope: strings.Join(agentScopes, ","),
	})
}

// agentScopes are the scopes every chatbridge agent token carries: access
// is decided by the agent's role and groups, not by narrowed scopes.
var agentScopes = []string{
	"chats--all:ro", "chats--all:rw", "chats--access:ro", "chats--access:rw", "customers:ro", "customers:rw",
	"customers.ban:rw", "agents--my:rw", "agents--all:ro", "agents--all:rw", "agents-bot--all:ro",
	"agents-bot--my:rw", "agents-bot--all:rw", "multicast:rw", "multicast:ro", "webhooks--all:rw",
	"properties--all:rw", "groups--all:rw", "tags--all:rw",
}

// revokeToken is DELETE /v2/token: revokes the token in Authorization (or ?code=).
func (s *Server) revokeToken(c echo.Context) error {
	secret := c.QueryParam("code")
	if secret == "" {
		secret = strings.TrimSpace(c.Request().Header.Get(echo.HeaderAuthorization))
	}
	if secret == "" {
		return livechat.Errorf(livechat.TypeAuthentication, "Missing token")
	}
	if err := s.svc.RevokeToken(c.Request().Context(), secret); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct{}{})
}

// tokenInfo is GET /v2/info: what the presented credential stands for.
func (s *Server) tokenInfo(c echo.Context) error {
	auth := c.Request().Header.Get(echo.HeaderAuthorization)
	if code := c.QueryParam("code"); auth == "" && code != "" {
		auth = "Bearer " + code
	}
	if strings.TrimSpace(auth) == "" {
		return livechat.Errorf(livechat.TypeAuthentication, "Missing Authorization header")
	}
	info, err := s.svc.InspectToken(c.Request().Context(), auth)
	if err != nil {
		return err
	}
	out := map[string]any{
		"organization_id": s.svc.Organization().OrganizationID,
		"token_type":      "Bearer",
		"client_id":       info.Token.ClientID,
		"entity_id":       info.EntityID,
	}
	if info.AccountID != "" {
		out["account_id"] = info.AccountID
		out["scope"] = strings.Join(agentScopes, ",")
	}
	if !info.Token.ExpiresAt.IsZero() {
		out["expires_in"] = max(0, int(info.Token.ExpiresAt.Sub(s.svc.Clock().Now()).Seconds()))
	}
	return c.JSON(http.StatusOK, out)
}

// customerTokenResponse is the answer of /v2/customer/token.
type customerTokenResponse struct {
	AccessToken    string `json:"access_token"`
	EntityID       string `json:"entity_id"`
	ExpiresIn      int    `json:"expires_in"`
	TokenType      string `json:"token_type"`
	OrganizationID string `json:"organization_id"`
	ClientID       string `json:"client_id,omitempty"`
}

// customerToken is POST /v2/customer/token (and the per-group form): the
// cookie grant for widgets and the agent_token grant for backends.
func (s *Server) customerToken(c echo.Context) error {
	p, err := readParams(c)
	if err != nil {
		return err
	}
	req := livechat.CustomerTokenRequest{ClientID: param(p, "client_id"), OrganizationID: param(p, "organization_id")}
	if org := c.Param("organization_id"); org != "" {
		req.OrganizationID = org
		gid, err := strconv.Atoi(c.Param("group_id"))
		if err != nil || gid < 0 {
			return oauthErr(http.StatusBadRequest, "invalid_request", "group_id must be a number")
		}
		req.GroupID = &gid
	}
	if lic := param(p, "license_id"); lic != "" && req.OrganizationID == "" {
		if req.LicenseID, err = strconv.ParseInt(lic, 10, 64); err != nil {
			return oauthErr(http.StatusBadRequest, "invalid_request", "license_id must be a number")
		}
	}
	if rt := param(p, "response_type"); rt != "" && rt != "token" {
		return oauthErr(http.StatusBadRequest, "unsupported_response_type", "response_type must be token")
	}
	actor := livechat.System()
	switch param(p, "grant_type") {
	case "cookie":
		if ck, err := c.Cookie(cookieCustomerID); err == nil {
			req.CookieCustomerID = ck.Value
		}
		if ck, err := c.Cookie(cookieCustomerSecret); err == nil {
			req.CookieSecret = ck.Value
		}
	case "agent_token":
		if actor, err = s.authenticate(c); err != nil || !actor.IsAgent() {
			return oauthErr(http.StatusUnauthorized, "unauthorized_client", "a valid agent access token is required")
		}
		req.EntityID = param(p, "entity_id")
	case "":
		return oauthErr(http.StatusBadRequest, "invalid_request", "grant_type is required")
	default:
		return oauthErr(http.StatusBadRequest, "unsupported_grant_type", "grant_type must be cookie or agent_token")
	}
	if req.ClientID == "" {
		return oauthErr(http.StatusBadRequest, "invalid_request", "client_id is required")
	}
	if req.OrganizationID == "" && req.LicenseID == 0 {
		return oauthErr(http.StatusBadRequest, "invalid_request", "organization_id is required")
	}
	out, err := s.svc.IssueCustomerToken(c.Request().Context(), actor, req)
	if err != nil {
		le := livechat.AsError(err)
		switch le.Type {
		case livechat.TypeNotFound, livechat.TypeGroupNotFound:
			return identityErr(http.StatusNotFound, "resource_not_found", le.Message)
		case livechat.TypeValidation:
			return oauthErr(http.StatusBadRequest, "invalid_request", le.Message)
		case livechat.TypeAuthorization:
			return oauthErr(http.StatusForbidden, "access_denied", le.Message)
		}
		s.log.Error("customer token failed", "err", err)
		return oauthErr(http.StatusInternalServerError, "server_error", "the token could not be issued")
	}
	if out.CookieSecret != "" {
		maxAge := int((2 * 365 * 24 * time.Hour).Seconds())
		secure := c.IsTLS()
		sameSite := http.SameSiteLaxMode
		if secure {
			sameSite = http.SameSiteNoneMode
		}
		for name, v := range map[string]string{cookieCustomerID: out.EntityID, cookieCustomerSecret: out.CookieSecret} {
			c.SetCookie(&http.Cookie{Name: name, Value: v, Path: "/v2/customer", MaxAge: maxAge, HttpOnly: true, Secure: secure, SameSite: sameSite})
		}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	resp := customerTokenResponse{AccessToken: out.AccessToken, EntityID: out.EntityID, ExpiresIn: out.ExpiresIn,
		TokenType: "Bearer", OrganizationID: s.svc.Organization().OrganizationID}
	if req.EntityID != "" || actor.IsAgent() {
		resp.ClientID = req.ClientID
	}
	return c.JSON(http.StatusOK, resp)
}

// corsForWidgets answers browser widgets on other origins: the request's
// origin is echoed (credentials need an exact origin, not "*").
func (s *Server) corsForWidgets() echo.MiddlewareFunc {
	return s.cors("POST, OPTIONS", "Content-Type, Authorization, X-Requested-With", true)
}

// cors sets the CORS answer headers for a request from an allowed origin
// (--allowed-origins; none configured allows every origin), echoing it.
func (s *Server) cors(methods, headers string, credentials bool) echo.MiddlewareFunc {
	allowed := s.cfg.AllowedOrigins
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			origin := c.Request().Header.Get(echo.HeaderOrigin)
			if origin != "" && (len(allowed) == 0 || containsOrigin(allowed, origin)) {
				h := c.Response().Header()
				h.Set(echo.HeaderAccessControlAllowOrigin, origin)
				if credentials {
					h.Set(echo.HeaderAccessControlAllowCredentials, "true")
				}
				h.Set(echo.HeaderAccessControlAllowMethods, methods)
				h.Set(echo.HeaderAccessControlAllowHeaders, headers)
				h.Set(echo.HeaderAccessControlMaxAge, "600")
				h.Add(echo.HeaderVary, echo.HeaderOrigin)
			}
			return next(c)
		}
	}
}

func containsOrigin(list []string, origin string) bool {
	for _, o := range list {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}
