package rest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/api"
)

// maxWebPayload bounds a Web API request body (uploads excepted).
const maxWebPayload = 1 << 20

// livechatWebRoutes mounts the LiveChat Web API: POST (and GET for read-only
// methods, as @livechat/lc-sdk-js calls them) /v<version>/agent/action/<method>.
func (s *Server) livechatWebRoutes() {
	agent := api.AgentTable()
	h := s.webAPI(agent, livechat.ActorAgent)
	s.e.POST("/v:version/agent/action/:method", h)
	s.e.GET("/v:version/agent/action/:method", h)
}

// webAPI adapts a method table to HTTP: the payload is the body (or, for GET,
// the query string), the answer the response payload, errors the LiveChat envelope.
func (s *Server) webAPI(table *api.Table, actorKind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		version := c.Param("version")
		if !api.SupportedVersion(version) {
			return livechat.Errorf(livechat.TypeUnsupportedVersion, "Unsupported version %q", version)
		}
		get := c.Request().Method == http.MethodGet
		m, err := table.Lookup(c.Param("method"), version, true)
		if err != nil {
			return err
		}
		if get && !m.ReadOnly {
			return echo.NewHTTPError(http.StatusMethodNotAllowed, "use POST for "+m.Name)
		}
		actor, err := s.authenticate(c)
		if err != nil {
			return err
		}
		if actor.Kind != actorKind {
			return livechat.Errorf(livechat.TypeAuthentication, "this token cannot be used on the %s API", actorKind)
		}
		if author := c.Request().Header.Get("X-Author-Id"); author != "" && author != actor.ID {
			if actor, err = s.svc.ActAs(c.Request().Context(), actor, author); err != nil {
				return err
			}
		}
		payload, err := webPayload(c, get)
		if err != nil {
			return err
		}
		out, err := m.Handler(c.Request().Context(), &api.Call{Svc: s.svc, Actor: actor, Version: version, Payload: payload})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, out)
	}
}

// webPayload reads the request payload: the JSON body, or for GET the query
// string (values that parse as JSON are taken as such) unless a body is sent too.
func webPayload(c echo.Context, get bool) (json.RawMessage, error) {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxWebPayload+1))
	if err != nil {
		return nil, livechat.Errorf(livechat.TypeValidation, "request body could not be read")
	}
	if len(body) > maxWebPayload {
		return nil, livechat.Errorf(livechat.TypeEntityTooLarge, "request body is too large")
	}
	if trimmed := strings.TrimSpace(string(body)); trimmed != "" {
		if !json.Valid(body) || !strings.HasPrefix(trimmed, "{") {
			return nil, livechat.Errorf(livechat.TypeValidation, "Wrong format of request: the body must be a JSON object")
		}
		return body, nil
	}
	if !get {
		return nil, nil
	}
	q := map[string]any{}
	for k, vs := range c.QueryParams() {
		if k == "organization_id" {
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(vs[0]), &v); err != nil {
			v = vs[0]
		}
		q[k] = v
	}
	return json.Marshal(q)
}
