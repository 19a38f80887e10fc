package rest

import (
	"github.com/labstack/echo/v4"

	"github.com/chatbridge/chatbridge/ddp"
	"github.com/chatbridge/chatbridge/livechat"
)

// widgetRoutes mounts the omnichannel visitor endpoints the Livechat widget
// and @rocket.chat/sdk's Livechat client call (docs/rocketchat-mapping.md,
// "REST API"). Nobody logs in: the visitor's token, in the path, query or
// body, must name the customer of the room a call is about, and another
// visitor's room or message answers as a missing one. The logic is
// bridge's (bridge/rest_widget.go), shared with the DDP livechat methods.
func (rc *rcAPI) widgetRoutes() {
	e := rc.s.e
	e.GET("/api/v1/livechat/config", rc.widgetConfig)
	e.GET("/api/v1/livechat/visitor/:token", rc.widgetVisitor)
	e.DELETE("/api/v1/livechat/visitor/:token", rc.widgetDeleteVisitor)
	e.POST("/api/v1/livechat/visitor.status", rc.widgetVisitorStatus)
	e.POST("/api/v1/livechat/room.close", rc.widgetCloseRoom)
	e.POST("/api/v1/livechat/room.transfer", rc.widgetTransfer)
	e.GET("/api/v1/livechat/agent.info/:rid/:token", rc.widgetAgentInfo)
	e.GET("/api/v1/livechat/agent.next/:token", rc.widgetNextAgent)
	e.GET("/api/v1/livechat/message/:_id", rc.widgetGetMessage)
	e.PUT("/api/v1/livechat/message/:_id", rc.widgetEditMessage)
	e.DELETE("/api/v1/livechat/message/:_id", rc.widgetDeleteMessage)
	e.POST("/api/v1/livechat/offline.message", rc.widgetOfflineMessage)
	e.POST("/api/v1/livechat/page.visited", rc.widgetPageVisited)
	e.POST("/api/v1/livechat/custom.field", rc.widgetCustomField)
	e.POST("/api/v1/livechat/custom.fields", rc.widgetCustomFields)
}

func errParams(reason string) error {
	return &ddp.Error{Code: "error-invalid-params", Reason: reason}
}

// widgetRoomReq is the body of the calls about one room of the visitor.
type widgetRoomReq struct {
	Token      string `json:"token"`
	RID        string `json:"rid"`
	Department string `json:"department"`
	Msg        string `json:"msg"`
}

func (rc *rcAPI) widgetConfig(c echo.Context) error {
	config, err := rc.b.LivechatConfig(c.Request().Context(), c.QueryParam("token"), c.QueryParam("department"))
	if err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"config": config})
}

func (rc *rcAPI) widgetVisitor(c echo.Context) error {
	v, err := rc.b.Visitor(c.Request().Context(), c.Param("token"))
	if err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"visitor": v})
}

func (rc *rcAPI) widgetDeleteVisitor(c echo.Context) error {
	v, err := rc.b.DeleteVisitor(c.Request().Context(), c.Param("token"))
	if err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"visitor": v})
}

func (rc *rcAPI) widgetVisitorStatus(c echo.Context) error {
	var req struct {
		Token  string `json:"token"`
		Status string `json:"status"`
	}
	if err := rcBody(c, &req); err != nil {
		return rcFail(c, err)
	}
	if err := rc.b.VisitorStatus(c.Request().Context(), req.Token, req.Status); err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"token": req.Token, "status": req.Status})
}

func (rc *rcAPI) widgetCloseRoom(c echo.Context) error {
	var req widgetRoomReq
	if err := rcBody(c, &req); err != nil {
		return rcFail(c, err)
	}
	comment, err := rc.b.VisitorCloseRoom(c.Request().Context(), req.Token, req.RID)
	if err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"rid": req.RID, "comment": comment})
}

func (rc *rcAPI) widgetTransfer(c echo.Context) error {
	var req widgetRoomReq
	if err := rcBody(c, &req); err != nil {
		return rcFail(c, err)
	}
	room, err := rc.b.VisitorTransfer(c.Request().Context(), req.Token, req.RID, req.Department)
	if err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"room": room})
}

func (rc *rcAPI) widgetAgentInfo(c echo.Context) error {
	agent, err := rc.b.VisitorAgent(c.Request().Context(), c.Param("token"), c.Param("rid"))
	if err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"agent": agent})
}

// widgetNextAgent answers {agent}, or no agent when the visitor's open room
// has one already (as Rocket.Chat does).
func (rc *rcAPI) widgetNextAgent(c echo.Context) error {
	agent, err := rc.b.NextAgent(c.Request().Context(), c.Param("token"), c.QueryParam("department"))
	if err != nil {
		return rcFail(c, err)
	}
	if agent == nil {
		return rcOK(c, nil)
	}
	return rcOK(c, map[string]any{"agent": agent})
}

func (rc *rcAPI) widgetGetMessage(c echo.Context) error {
	m, err := rc.b.VisitorGetMessage(c.Request().Context(), c.QueryParam("token"), c.QueryParam("rid"), c.Param("_id"))
	if err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"message": m})
}

func (rc *rcAPI) widgetEditMessage(c echo.Context) error {
	var req widgetRoomReq
	if err := rcBody(c, &req); err != nil {
		return rcFail(c, err)
	}
	m, err := rc.b.VisitorEditMessage(c.Request().Context(), req.Token, req.RID, c.Param("_id"), req.Msg)
	if err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"message": m})
}

// widgetDeleteMessage takes token and rid from the JSON body, as the SDK
// sends them, or from the query string.
func (rc *rcAPI) widgetDeleteMessage(c echo.Context) error {
	var req widgetRoomReq
	if err := rcBody(c, &req); err != nil {
		return rcFail(c, err)
	}
	if req.Token == "" && req.RID == "" {
		req.Token, req.RID = c.QueryParam("token"), c.QueryParam("rid")
	}
	id := c.Param("_id")
	ts, err := rc.b.VisitorDeleteMessage(c.Request().Context(), req.Token, req.RID, id)
	if err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"message": map[string]any{"_id": id, "ts": ts}})
}

func (rc *rcAPI) widgetOfflineMessage(c echo.Context) error {
	var req struct {
		Name       string `json:"name"`
		Email      string `json:"email"`
		Message    string `json:"message"`
		Department string `json:"department"`
	}
	if err := rcBody(c, &req); err != nil {
		return rcFail(c, err)
	}
	if err := rc.b.OfflineMessage(c.Request().Context(), req.Name, req.Email, req.Message, req.Department); err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"message": "Livechat offline message sent"})
}

// widgetPageVisited answers {page: {msg, navigation}}, or no page when the
// change is not recorded.
func (rc *rcAPI) widgetPageVisited(c echo.Context) error {
	var req struct {
		Token    string `json:"token"`
		RID      string `json:"rid"`
		PageInfo *struct {
			Change   string `json:"change"`
			Title    string `json:"title"`
			Location struct {
				Href string `json:"href"`
			} `json:"location"`
		} `json:"pageInfo"`
	}
	if err := rcBody(c, &req); err != nil {
		return rcFail(c, err)
	}
	if req.PageInfo == nil {
		return rcFail(c, errParams("The 'pageInfo' param is required"))
	}
	p := req.PageInfo
	page, err := rc.b.PageVisited(c.Request().Context(), req.Token, p.Change, p.Title, p.Location.Href)
	if err != nil {
		return rcFail(c, err)
	}
	if page == nil {
		return rcOK(c, nil)
	}
	return rcOK(c, map[string]any{"page": page})
}

// customField is one {key, value, overwrite} of custom.field(s); all three
// are required, as Rocket.Chat checks them.
type customField struct {
	Key       *string `json:"key"`
	Value     *string `json:"value"`
	Overwrite *bool   `json:"overwrite"`
}

func (f customField) sessionField() (livechat.SessionField, error) {
	if f.Key == nil || f.Value == nil || f.Overwrite == nil {
		return livechat.SessionField{}, errParams("Each custom field needs 'key', 'value' and 'overwrite'")
	}
	return livechat.SessionField{Key: *f.Key, Value: *f.Value, Overwrite: *f.Overwrite}, nil
}

func (f customField) answer() map[string]any {
	return map[string]any{"key": *f.Key, "value": *f.Value, "overwrite": *f.Overwrite}
}

func (rc *rcAPI) widgetCustomField(c echo.Context) error {
	var req struct {
		Token string `json:"token"`
		customField
	}
	if err := rcBody(c, &req); err != nil {
		return rcFail(c, err)
	}
	f, err := req.sessionField()
	if err != nil {
		return rcFail(c, err)
	}
	if err := rc.b.SetCustomFields(c.Request().Context(), req.Token, []livechat.SessionField{f}); err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"field": req.answer()})
}

// maxCustomFields bounds one custom.fields call.
const maxCustomFields = 100

func (rc *rcAPI) widgetCustomFields(c echo.Context) error {
	var req struct {
		Token        string        `json:"token"`
		CustomFields []customField `json:"customFields"`
	}
	if err := rcBody(c, &req); err != nil {
		return rcFail(c, err)
	}
	if len(req.CustomFields) == 0 || len(req.CustomFields) > maxCustomFields {
		return rcFail(c, errParams("The 'customFields' param must hold 1 to 100 fields"))
	}
	fields := make([]livechat.SessionField, 0, len(req.CustomFields))
	answer := make([]map[string]any, 0, len(req.CustomFields))
	for _, cf := range req.CustomFields {
		f, err := cf.sessionField()
		if err != nil {
			return rcFail(c, err)
		}
		fields = append(fields, f)
		answer = append(answer, cf.answer())
	}
	if err := rc.b.SetCustomFields(c.Request().Context(), req.Token, fields); err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"fields": answer})
}
