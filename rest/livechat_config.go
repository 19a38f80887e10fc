package rest

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/api"
)

// livechatConfigRoutes mounts the LiveChat Configuration API: POST (and GET
// for read-only methods, as @livechat/lc-sdk-js calls them)
// /v<version>/configuration/action/<method>. Batches (3.5) are methods of
// the table like any other.
func (s *Server) livechatConfigRoutes() {
	h := s.configAPI(api.ConfigurationTable())
	s.e.POST("/v:version/configuration/action/:method", h)
	s.e.GET("/v:version/configuration/action/:method", h)
}

// configAPI is webAPI for the Configuration API: agent credentials only
// (customer tokens fail authentication), no X-Author-Id, public methods
// (issue_bot_token, list_webhook_names) without credentials, and
// organization_id kept in GET query strings, where get_license_id takes it.
func (s *Server) configAPI(table *api.Table) echo.HandlerFunc {
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
		var actor livechat.Actor
		if !m.Public || strings.TrimSpace(c.Request().Header.Get(echo.HeaderAuthorization)) != "" {
			if actor, err = s.authenticate(c); err != nil {
				return err
			}
			if !actor.IsAgent() {
				return livechat.Errorf(livechat.TypeAuthentication, "this token cannot be used on the configuration API")
			}
		}
		payload, err := webPayload(c, get)
		if err != nil {
			return err
		}
		if payload, err = withQueryOrganization(c, get, payload); err != nil {
			return err
		}
		out, err := m.Handler(c.Request().Context(), &api.Call{Svc: s.svc, Actor: actor, Version: version, Payload: payload})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, out)
	}
}

// withQueryOrganization puts a GET request's organization_id query parameter
// back into a payload built from the query string (webPayload leaves it out,
// as the Customer API sends it on every call).
func withQueryOrganization(c echo.Context, get bool, payload json.RawMessage) (json.RawMessage, error) {
	org := c.QueryParam("organization_id")
	if !get || org == "" {
		return payload, nil
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, livechat.Errorf(livechat.TypeValidation, "Wrong format of request")
	}
	if _, ok := m["organization_id"]; ok {
		return payload, nil
	}
	m["organization_id"] = org
	return json.Marshal(m)
}
