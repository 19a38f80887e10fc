package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/api"
	"github.com/chatbridge/chatbridge/livechat/rtm"
)

// Customer Chat API disconnect reasons given before a session starts.
const (
	reasonLicenseNotFound    = "license_not_found"
	reasonUnsupportedVersion = "unsupported_version"
)

// livechatCustomerRoutes mounts the Customer Chat API: the RTM websocket
// GET /v<version>/customer/rtm/ws?organization_id=… (3.3: ?license_id=…)
// and the Web API /v<version>/customer/action/<method>?organization_id=…
// (POST; GET for the read-only methods; upload_file takes multipart).
// Only customer tokens are accepted.
func (s *Server) livechatCustomerRoutes() {
	table := api.CustomerTable()
	web := s.customerWebAPI(table)
	s.e.POST("/v:version/customer/action/:method", web)
	s.e.GET("/v:version/customer/action/:method", web)
	s.e.POST("/v:version/customer/action/upload_file", func(c echo.Context) error { return s.customerUpload(c, table) })

	sessions := map[string]echo.HandlerFunc{}
	for _, v := range api.Versions {
		cfg := &rtm.Config{
			Service: s.svc, Hub: s.cfg.Hub, Table: table, Pushes: api.CustomerPushes, Login: rtm.CustomerLogin,
			API: "customer", Version: v, Clock: s.svc.Clock(), Registry: s.sessions, Logger: s.log,
			DisconnectOn: api.CustomerDisconnectOn, RequestCopy: api.CustomerRequestCopy,
		}
		s.applyRTMTuning(cfg)
		sessions[v] = WebSocketHandler(s.transport(), s.rtmHandler(cfg))
	}
	s.e.GET("/v:version/customer/rtm/ws", func(c echo.Context) error {
		v := c.Param("version")
		h := sessions[v]
		reason := ""
		switch {
		case h == nil:
			reason = reasonUnsupportedVersion
		case s.customerTenant(c) != nil:
			reason = reasonLicenseNotFound
		}
		if reason != "" {
			// The socket is opened to say why it closes: the customer SDK
			// stops reconnecting on these reasons, where a refused upgrade
			// would only make it retry.
			return WebSocketHandler(s.transport(), refuseCustomer(v, reason))(c)
		}
		return h(c)
	})
}

// refuseCustomer sends customer_disconnected with reason and closes.
func refuseCustomer(version, reason string) StreamHandler {
	return func(ctx context.Context, st Stream) {
		frame := api.PushFrame{Action: "customer_disconnected", Type: "push", Payload: map[string]string{"reason": reason}}
		if api.SupportedVersion(version) {
			frame.Version = version
		}
		b, _ := json.Marshal(frame)
		_ = st.Write(ctx, b)
		_ = st.Close(CloseNormal, reason)
	}
}

// customerTenant checks the organization a customer request names:
// organization_id (3.4+) or license_id (3.3; either is taken in any version).
// One is required, and each given must be this server's.
func (s *Server) customerTenant(c echo.Context) error {
	org := s.svc.Organization()
	orgID, licID := c.QueryParam("organization_id"), c.QueryParam("license_id")
	if orgID == "" && licID == "" {
		return livechat.Errorf(livechat.TypeValidation, "organization_id is required")
	}
	if orgID != "" && orgID != org.OrganizationID {
		return livechat.Errorf(livechat.TypeLicenseNotFound, "License not found")
	}
	if licID != "" && licID != strconv.FormatInt(org.LicenseID, 10) {
		return livechat.Errorf(livechat.TypeLicenseNotFound, "License not found")
	}
	return nil
}

// customerActor authenticates a Customer Web API request: a customer token
// (agent tokens are refused with authentication). Public methods may come
// without one; then the actor is the zero Actor, which they never read.
func (s *Server) customerActor(c echo.Context, public bool) (livechat.Actor, error) {
	if public && c.Request().Header.Get(echo.HeaderAuthorization) == "" {
		return livechat.Actor{}, nil
	}
	actor, err := s.authenticate(c)
	if err != nil {
		return livechat.Actor{}, err
	}
	if !actor.IsCustomer() {
		return livechat.Actor{}, livechat.Errorf(livechat.TypeAuthentication, "this token cannot be used on the customer API")
	}
	return actor, nil
}

// customerWebAPI adapts the customer method table to HTTP, as webAPI does
// for agents, with the tenant check and customer authentication.
func (s *Server) customerWebAPI(table *api.Table) echo.HandlerFunc {
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
		if err := s.customerTenant(c); err != nil {
			return err
		}
		actor, err := s.customerActor(c, api.CustomerPublicMethods[m.Name])
		if err != nil {
			return err
		}
		payload, err := webPayload(c, get)
		if err != nil {
			return err
		}
		if get {
			payload = dropKeys(payload, "license_id")
		}
		out, err := m.Handler(c.Request().Context(), &api.Call{Svc: s.svc, Actor: actor, Version: version, Payload: payload})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, out)
	}
}

// dropKeys removes keys from a JSON object payload (query parameters that
// name the tenant, not the method's arguments).
func dropKeys(payload json.RawMessage, keys ...string) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(payload, &m) != nil {
		return payload
	}
	for _, k := range keys {
		delete(m, k)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return payload
	}
	return b
}

// customerUpload is the customer's upload_file: the multipart field "file"
// is stored and its URL answered (the URL a later file event names).
func (s *Server) customerUpload(c echo.Context, table *api.Table) error {
	version := c.Param("version")
	if !api.SupportedVersion(version) {
		return livechat.Errorf(livechat.TypeUnsupportedVersion, "Unsupported version %q", version)
	}
	if _, err := table.Lookup("upload_file", version, true); err != nil {
		return err
	}
	if err := s.customerTenant(c); err != nil {
		return err
	}
	actor, err := s.customerActor(c, false)
	if err != nil {
		return err
	}
	url, _, err := s.readUpload(c, actor)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"url": url})
}
