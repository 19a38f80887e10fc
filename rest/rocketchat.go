package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/chatbridge/chatbridge/bridge"
	"github.com/chatbridge/chatbridge/ddp"
	"github.com/chatbridge/chatbridge/livechat"
)

// rocketChatRoutes mounts a subset of Rocket.Chat's REST API under /api
// (docs/rocketchat-mapping.md, "REST API"). Agents authenticate with the
// X-User-Id and X-Auth-Token headers (a resume token from login, which is
// also a LiveChat Bearer token); visitors with their widget token in the
// body or query. Answers are Rocket.Chat's: {"success":true,...} or
// {"success":false,"error":…,"errorType":…}; a call without valid
// credentials is 401 {"status":"error","message":"You must be logged in to do this."}.
// The logic is bridge's (bridge/rest_api.go), the same as the DDP methods'.
func (s *Server) rocketChatRoutes() {
	rc := &rcAPI{s: s, b: s.bridge}
	e := s.e
	// CORS for browser clients on other origins (a widget embedded in a
	// shop): credentials travel in headers or bodies, never cookies.
	cors := s.cors("GET, POST, PUT, DELETE, OPTIONS", "Content-Type, X-User-Id, X-Auth-Token, X-Visitor-Token, X-Requested-With", false)
	e.Pre(func(next echo.HandlerFunc) echo.HandlerFunc {
		withCORS := cors(next)
		return func(c echo.Context) error {
			if !strings.HasPrefix(c.Request().URL.Path, "/api/") {
				return next(c)
			}
			if c.Request().Method == http.MethodOptions {
				return cors(noContent)(c)
			}
			return withCORS(c)
		}
	})
	e.GET("/api/info", rc.info)
	e.GET("/api/v1/info", rc.authed(rc.infoAuthed))
	e.POST("/api/v1/login", rc.login)
	e.POST("/api/v1/logout", rc.authed(rc.logout))
	e.GET("/api/v1/me", rc.authed(rc.me))
	e.GET("/api/v1/rooms.get", rc.authed(rc.roomsGet))
	e.GET("/api/v1/subscriptions.get", rc.authed(rc.subscriptionsGet))
	e.POST("/api/v1/chat.sendMessage", rc.authed(rc.sendMessage))
	e.POST("/api/v1/chat.postMessage", rc.authed(rc.postMessage))
	e.POST("/api/v1/chat.update", rc.authed(rc.update))
	e.POST("/api/v1/chat.delete", rc.authed(rc.delete))
	e.GET("/api/v1/chat.getMessage", rc.authed(rc.getMessage))
	e.GET("/api/v1/chat.syncMessages", rc.authed(rc.syncMessages))
	e.POST("/api/v1/chat.react", rc.authed(rc.react))
	e.POST("/api/v1/rooms.upload/:rid", rc.authed(rc.roomsUpload))
	e.POST("/api/v1/livechat/upload/:rid", rc.visitorUpload)
	// Omnichannel, agent side.
	e.GET("/api/v1/livechat/inquiries.queued", rc.authed(rc.inquiriesQueued))
	e.GET("/api/v1/livechat/inquiries.queuedForUser", rc.authed(rc.inquiriesQueued))
	e.POST("/api/v1/livechat/inquiries.take", rc.authed(rc.inquiriesTake))
	e.POST("/api/v1/livechat/room.closeByUser", rc.authed(rc.closeByUser))
	e.POST("/api/v1/livechat/room.forward", rc.authed(rc.forward))
	for _, p := range []string{"/api/v1/channels.history", "/api/v1/groups.history", "/api/v1/im.history", "/api/v1/dm.history"} {
		e.GET(p, rc.authed(rc.history))
	}
	e.POST("/api/v1/livechat/visitor", rc.visitor)
	e.GET("/api/v1/livechat/room", rc.visitorRoom)
	e.POST("/api/v1/livechat/message", rc.visitorMessage)
	e.GET("/api/v1/livechat/messages.history/:rid", rc.visitorHistory)
	rc.widgetRoutes()
}

type rcAPI struct {
	s *Server
	b *bridge.Bridge
}

// rcUser is the authenticated agent of a request.
type rcUser struct {
	actor livechat.Actor
	token string
}

type rcHandler func(c echo.Context, u rcUser) error

// authed checks X-User-Id and X-Auth-Token.
func (rc *rcAPI) authed(h rcHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		uid, token := c.Request().Header.Get("X-User-Id"), c.Request().Header.Get("X-Auth-Token")
		if uid == "" || token == "" {
			return rcUnauthorized(c)
		}
		actor, _, err := rc.b.ResumeLogin(c.Request().Context(), token)
		if err != nil || bridge.UserID(actor) != uid {
			return rcUnauthorized(c)
		}
		return h(c, rcUser{actor: actor, token: token})
	}
}

func rcUnauthorized(c echo.Context) error {
	return c.JSON(http.StatusUnauthorized, map[string]any{"status": "error", "message": "You must be logged in to do this."})
}

// rcOK writes {"success":true} plus fields.
func rcOK(c echo.Context, fields map[string]any) error {
	if fields == nil {
		fields = map[string]any{}
	}
	fields["success"] = true
	return c.JSON(http.StatusOK, fields)
}

// rcFail writes {"success":false,"error":…,"errorType":…}: 400 as
// Rocket.Chat answers failed calls, 403 for refusals, 500 for internal errors.
func rcFail(c echo.Context, err error) error {
	status, msg, typ := http.StatusBadRequest, err.Error(), ""
	var de *ddp.Error
	var le *livechat.Error
	switch {
	case errors.As(err, &de):
		msg = de.Reason
		typ = fmt.Sprint(de.Code)
		if de.Code == 403 {
			status = http.StatusUnauthorized
		}
		if msg != "" && typ != "" && !strings.HasSuffix(msg, "]") {
			msg = msg + " [" + typ + "]"
		}
	case errors.As(err, &le):
		msg, typ = le.Message, le.Type
		switch le.Type {
		case livechat.TypeAuthorization, livechat.TypeMissingAccess:
			status = http.StatusForbidden
		case livechat.TypeInternal, livechat.TypeServiceUnavailable:
			status = http.StatusInternalServerError
		}
	default:
		status, msg, typ = http.StatusInternalServerError, "Internal server error", "error-internal"
	}
	return c.JSON(status, map[string]any{"success": false, "error": msg, "errorType": typ})
}

// rcBody reads a JSON object body (empty: {}).
func rcBody(c echo.Context, v any) error {
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, 1<<20))
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(raw)) == "" {
		raw = []byte("{}")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return &ddp.Error{Code: "error-invalid-params", Reason: "Invalid JSON body"}
	}
	return nil
}

func (rc *rcAPI) info(c echo.Context) error {
	return rcOK(c, map[string]any{"version": "6.13.0", "info": map[string]any{"version": "6.13.0"}})
}

// infoAuthed is /api/v1/info: the server's version, for a signed-in user.
func (rc *rcAPI) infoAuthed(c echo.Context, _ rcUser) error {
	return rc.info(c)
}

func (rc *rcAPI) login(c echo.Context) error {
	var req struct {
		User     json.RawMessage `json:"user"`
		Username string          `json:"username"`
		Email    string          `json:"email"`
		Password json.RawMessage `json:"password"`
		Resume   string          `json:"resume"`
	}
	if err := rcBody(c, &req); err != nil {
		return rcFail(c, err)
	}
	ctx := c.Request().Context()
	var (
		actor   livechat.Actor
		token   string
		expires time.Time
		err     error
	)
	switch {
	case req.Resume != "":
		token = req.Resume
		actor, expires, err = rc.b.ResumeLogin(ctx, token)
	case len(req.Password) > 0:
		user := req.User
		switch {
		case req.Username != "":
			user, _ = json.Marshal(map[string]string{"username": req.Username})
		case req.Email != "":
			user, _ = json.Marshal(map[string]string{"email": req.Email})
		}
		if len(user) == 0 {
			return rcFail(c, &ddp.Error{Code: "error-invalid-params", Reason: "A user (user, username or email) is required"})
		}
		actor, token, expires, err = rc.b.PasswordLogin(ctx, user, req.Password)
	default:
		return rcFail(c, &ddp.Error{Code: "error-invalid-params", Reason: "A password or a resume token is required"})
	}
	if err != nil {
		var de *ddp.Error
		if errors.As(err, &de) && (de.Code == 403 || de.Code == "error-user-is-not-activated") {
			return c.JSON(http.StatusUnauthorized, map[string]any{"status": "error", "error": "Unauthorized", "message": "Unauthorized"})
		}
		return rcFail(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "success", "data": map[string]any{
		"userId": bridge.UserID(actor), "authToken": token, "tokenExpires": expires, "me": rc.b.UserDoc(actor.Agent),
	}})
}

func (rc *rcAPI) logout(c echo.Context, u rcUser) error {
	_ = rc.s.svc.RevokeToken(c.Request().Context(), "Bearer "+u.token)
	return c.JSON(http.StatusOK, map[string]any{"status": "success", "data": map[string]any{"message": "You've been logged out!"}})
}

func (rc *rcAPI) me(c echo.Context, u rcUser) error {
	return rcOK(c, rc.b.UserDoc(u.actor.Agent))
}

// updatedSince reads the optional updatedSince query parameter (an ISO
// date) of rooms.get and subscriptions.get; zero when absent.
func updatedSince(c echo.Context) (time.Time, error) {
	v := c.QueryParam("updatedSince")
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, &ddp.Error{Code: "error-updatedSince-param-invalid", Reason: `The "updatedSince" query parameter must be a valid date.`}
	}
	return t, nil
}

// roomsGet answers {update, remove}: every room, or with updatedSince only
// the rooms that changed after it.
func (rc *rcAPI) roomsGet(c echo.Context, u rcUser) error {
	return rc.deltaList(c, u, rc.b.Rooms)
}

// subscriptionsGet answers {update, remove}: every subscription, or with
// updatedSince those that changed after it and those removed after it.
func (rc *rcAPI) subscriptionsGet(c echo.Context, u rcUser) error {
	return rc.deltaList(c, u, rc.b.Subscriptions)
}

func (rc *rcAPI) deltaList(c echo.Context, u rcUser, list func(context.Context, livechat.Actor, time.Time) (any, []any, error)) error {
	since, err := updatedSince(c)
	if err != nil {
		return rcFail(c, err)
	}
	update, remove, err := list(c.Request().Context(), u.actor, since)
	if err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"update": update, "remove": remove})
}

func (rc *rcAPI) sendMessage(c echo.Context, u rcUser) error {
	var req struct {
		Message struct {
			ID  string `json:"_id"`
			RID string `json:"rid"`
			Msg string `json:"msg"`
		} `json:"message"`
	}
	if err := rcBody(c, &req); err != nil {
		return rcFail(c, err)
	}
	m, err := rc.b.SendMessage(c.Request().Context(), u.actor, req.Message.RID, req.Message.ID, req.Message.Msg)
	if err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"message": m})
}

func (rc *rcAPI) postMessage(c echo.Context, u rcUser) error {
	var req struct {
		RoomID  string `json:"roomId"`
		Channel string `json:"channel"`
		Text    string `json:"text"`
	}
	if err := rcBody(c, &req); err != nil {
		return rcFail(c, err)
	}
	rid := req.RoomID
	if rid == "" {
		rid = strings.TrimPrefix(req.Channel, "#")
	}
	m, err := rc.b.SendMessage(c.Request().Context(), u.actor, rid, "", req.Text)
	if err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"ts": rc.s.svc.Clock().Now().UnixMilli(), "channel": rid, "message": m})
}

func (rc *rcAPI) update(c echo.Context, u rcUser) error {
	var req struct {
		RoomID string `json:"roomId"`
		MsgID  string `json:"msgId"`
		Text   string `json:"text"`
	}
	if err := rcBody(c, &req); err != nil {
		return rcFail(c, err)
	}
	if req.RoomID == "" || req.MsgID == "" {
		return rcFail(c, &ddp.Error{Code: "error-invalid-params", Reason: "The 'roomId' and 'msgId' params are required"})
	}
	m, err := rc.b.UpdateMessage(c.Request().Context(), u.actor, req.RoomID, req.MsgID, req.Text)
	if err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"message": m})
}

func (rc *rcAPI) delete(c echo.Context, u rcUser) error {
	var req struct {
		RoomID string `json:"roomId"`
		MsgID  string `json:"msgId"`
	}
	if err := rcBody(c, &req); err != nil {
		return rcFail(c, err)
	}
	if req.RoomID == "" || req.MsgID == "" {
		return rcFail(c, &ddp.Error{Code: "error-invalid-params", Reason: "The 'roomId' and 'msgId' params are required"})
	}
	if err := rc.b.DeleteMessage(c.Request().Context(), u.actor, req.RoomID, req.MsgID); err != nil {
		return rcFail(c, err)
	}
	uid := bridge.UserID(u.actor)
	return rcOK(c, map[string]any{"_id": req.MsgID, "ts": rc.s.svc.Clock().Now().UnixMilli(),
		"message": map[string]any{"_id": req.MsgID, "rid": req.RoomID, "u": map[string]any{"_id": uid, "username": u.actor.Agent.Username}}})
}

func (rc *rcAPI) getMessage(c echo.Context, u rcUser) error {
	id := c.QueryParam("msgId")
	if id == "" {
		return rcFail(c, &ddp.Error{Code: "error-invalid-params", Reason: `The "msgId" query parameter must be provided.`})
	}
	m, err := rc.b.Message(c.Request().Context(), u.actor, id)
	if err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"message": m})
}

// syncMessages answers {result: {updated, deleted}} for roomId since
// lastUpdate (an ISO date), as Rocket.Chat's mobile clients use it.
func (rc *rcAPI) syncMessages(c echo.Context, u rcUser) error {
	rid, last := c.QueryParam("roomId"), c.QueryParam("lastUpdate")
	if rid == "" {
		return rcFail(c, &ddp.Error{Code: "error-roomId-param-not-provided", Reason: `The required "roomId" query param is missing.`})
	}
	if last == "" {
		return rcFail(c, &ddp.Error{Code: "error-lastUpdate-param-not-provided", Reason: `The required "lastUpdate" query param is missing.`})
	}
	since, err := time.Parse(time.RFC3339Nano, last)
	if err != nil {
		return rcFail(c, &ddp.Error{Code: "error-lastUpdate-param-invalid", Reason: `The "lastUpdate" query parameter must be a valid date.`})
	}
	updated, deleted, err := rc.b.SyncMessages(c.Request().Context(), u.actor, rid, since)
	if err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"result": map[string]any{"updated": updated, "deleted": deleted}})
}

func (rc *rcAPI) react(c echo.Context, u rcUser) error {
	var req struct {
		Emoji       string `json:"emoji"`
		Reaction    string `json:"reaction"`
		MessageID   string `json:"messageId"`
		ShouldReact *bool  `json:"shouldReact"`
	}
	if err := rcBody(c, &req); err != nil {
		return rcFail(c, err)
	}
	if req.Emoji == "" {
		req.Emoji = req.Reaction
	}
	if req.MessageID == "" {
		return rcFail(c, &ddp.Error{Code: "error-messageid-param-not-provided", Reason: `The required "messageId" param is missing.`})
	}
	if err := rc.b.React(c.Request().Context(), u.actor, req.Emoji, req.MessageID, req.ShouldReact); err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, nil)
}

// roomsUpload is rooms.upload/:rid: the multipart "file" sent to the room
// as a file message (msg, when given, as a message before it).
func (rc *rcAPI) roomsUpload(c echo.Context, u rcUser) error {
	return rc.upload(c, u.actor)
}

// visitorUpload is livechat/upload/:rid, the visitor named by the
// x-visitor-token header; it answers the file message's fields.
func (rc *rcAPI) visitorUpload(c echo.Context) error {
	token := c.Request().Header.Get("X-Visitor-Token")
	if token == "" {
		return rcUnauthorized(c)
	}
	actor, err := rc.b.VisitorActor(c.Request().Context(), token)
	if err != nil {
		return rcFail(c, err)
	}
	return rc.upload(c, actor)
}

func (rc *rcAPI) upload(c echo.Context, actor livechat.Actor) error {
	ctx := c.Request().Context()
	rid := c.Param("rid")
	if _, err := rc.s.svc.ReadChat(ctx, actor, rid); err != nil {
		return rcFail(c, &ddp.Error{Code: "error-invalid-room", Reason: "Invalid room"})
	}
	url, fields, err := rc.s.readUpload(c, actor)
	if err != nil {
		return rcFail(c, err)
	}
	msg := fields["msg"]
	if msg == "" {
		msg = fields["description"]
	}
	m, err := rc.b.SendFile(ctx, actor, rid, url, msg)
	if err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"message": m})
}

// inquiriesQueued lists the queued inquiries the agent may see, paged by
// offset and count: {inquiries, count, offset, total}.
func (rc *rcAPI) inquiriesQueued(c echo.Context, u rcUser) error {
	all, err := rc.b.Inquiries(c.Request().Context(), u.actor)
	if err != nil {
		return rcFail(c, err)
	}
	offset, _ := strconv.Atoi(c.QueryParam("offset"))
	count, err := strconv.Atoi(c.QueryParam("count"))
	if err != nil || count <= 0 {
		count = 50
	}
	offset = min(max(offset, 0), len(all))
	page := all[offset : offset+min(count, len(all)-offset)]
	return rcOK(c, map[string]any{"inquiries": page, "count": len(page), "offset": offset, "total": len(all)})
}

func (rc *rcAPI) inquiriesTake(c echo.Context, u rcUser) error {
	var req struct {
		InquiryID string `json:"inquiryId"`
	}
	if err := rcBody(c, &req); err != nil {
		return rcFail(c, err)
	}
	if req.InquiryID == "" {
		return rcFail(c, &ddp.Error{Code: "error-invalid-params", Reason: `The "inquiryId" param is required`})
	}
	inq, err := rc.b.TakeInquiry(c.Request().Context(), u.actor, req.InquiryID)
	if err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"inquiry": inq})
}

func (rc *rcAPI) closeByUser(c echo.Context, u rcUser) error {
	var req struct {
		RID     string   `json:"rid"`
		Comment string   `json:"comment"`
		Tags    []string `json:"tags"`
	}
	if err := rcBody(c, &req); err != nil {
		return rcFail(c, err)
	}
	if req.RID == "" {
		return rcFail(c, &ddp.Error{Code: "error-invalid-params", Reason: `The "rid" param is required`})
	}
	if err := rc.b.CloseRoom(c.Request().Context(), u.actor, req.RID, req.Tags); err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, nil)
}

func (rc *rcAPI) forward(c echo.Context, u rcUser) error {
	var req struct {
		RoomID       string `json:"roomId"`
		UserID       string `json:"userId"`
		DepartmentID string `json:"departmentId"`
	}
	if err := rcBody(c, &req); err != nil {
		return rcFail(c, err)
	}
	if req.RoomID == "" || req.UserID == "" && req.DepartmentID == "" {
		return rcFail(c, &ddp.Error{Code: "error-invalid-params", Reason: `The "roomId" param and a "userId" or "departmentId" are required`})
	}
	if err := rc.b.TransferRoom(c.Request().Context(), u.actor, req.RoomID, req.UserID, req.DepartmentID); err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, nil)
}

// historyParams reads latest (ISO date) and count.
func historyParams(c echo.Context) (time.Time, int, error) {
	var latest time.Time
	if l := c.QueryParam("latest"); l != "" {
		t, err := time.Parse(time.RFC3339Nano, l)
		if err != nil {
			return time.Time{}, 0, &ddp.Error{Code: "error-invalid-params", Reason: "The 'latest' param is not a date"}
		}
		latest = t
	}
	count := 0
	if n := c.QueryParam("count"); n != "" {
		v, err := strconv.Atoi(n)
		if err != nil {
			return time.Time{}, 0, &ddp.Error{Code: "error-invalid-params", Reason: "The 'count' param is not a number"}
		}
		count = v
	}
	return latest, count, nil
}

func (rc *rcAPI) history(c echo.Context, u rcUser) error {
	latest, count, err := historyParams(c)
	if err != nil {
		return rcFail(c, err)
	}
	rid := c.QueryParam("roomId")
	if rid == "" {
		return rcFail(c, &ddp.Error{Code: "error-room-param-not-provided", Reason: "The parameter \"roomId\" is required"})
	}
	msgs, err := rc.b.History(c.Request().Context(), u.actor, rid, latest, count)
	if err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"messages": msgs})
}

func (rc *rcAPI) visitor(c echo.Context) error {
	var req struct {
		Visitor bridge.Guest `json:"visitor"`
	}
	if err := rcBody(c, &req); err != nil {
		return rcFail(c, err)
	}
	if req.Visitor.Token == "" {
		return rcFail(c, &ddp.Error{Code: "error-invalid-params", Reason: "The visitor's 'token' is required"})
	}
	v, err := rc.b.RegisterVisitor(c.Request().Context(), req.Visitor)
	if err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"visitor": v})
}

func (rc *rcAPI) visitorRoom(c echo.Context) error {
	room, isNew, err := rc.b.VisitorRoom(c.Request().Context(), c.QueryParam("token"), c.QueryParam("rid"))
	if err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"room": room, "newRoom": isNew})
}

func (rc *rcAPI) visitorMessage(c echo.Context) error {
	var req struct {
		ID    string `json:"_id"`
		Token string `json:"token"`
		RID   string `json:"rid"`
		Msg   string `json:"msg"`
	}
	if err := rcBody(c, &req); err != nil {
		return rcFail(c, err)
	}
	m, err := rc.b.VisitorMessage(c.Request().Context(), req.Token, req.RID, req.ID, req.Msg)
	if err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"message": m})
}

func (rc *rcAPI) visitorHistory(c echo.Context) error {
	latest, count, err := historyParams(c)
	if err != nil {
		return rcFail(c, err)
	}
	msgs, err := rc.b.VisitorHistory(c.Request().Context(), c.QueryParam("token"), c.Param("rid"), latest, count)
	if err != nil {
		return rcFail(c, err)
	}
	return rcOK(c, map[string]any{"messages": msgs})
}
