package rest

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/api"
)

// uploadRoutes mounts upload_file, whose body is multipart/form-data rather
// than the JSON payload of the other Web API methods (the static segment
// takes precedence over the generic :method route), and the route that serves
// uploads back: GET /files/<id>/<name>.
func (s *Server) uploadRoutes() {
	table := api.AgentTable()
	s.e.POST("/v:version/agent/action/upload_file", func(c echo.Context) error { return s.uploadFile(c, table) })
	s.e.GET(livechat.FilesPathPrefix+":id/:name", s.serveFile)
	s.e.HEAD(livechat.FilesPathPrefix+":id/:name", s.serveFile)
}

// uploadFile stores the multipart field "file" and answers its URL.
func (s *Server) uploadFile(c echo.Context, table *api.Table) error {
	version := c.Param("version")
	if !api.SupportedVersion(version) {
		return livechat.Errorf(livechat.TypeUnsupportedVersion, "Unsupported version %q", version)
	}
	if _, err := table.Lookup("upload_file", version, true); err != nil {
		return err
	}
	ctx := c.Request().Context()
	actor, err := s.authenticate(c)
	if err != nil {
		return err
	}
	if actor.Kind != livechat.ActorAgent {
		return livechat.Errorf(livechat.TypeAuthentication, "this token cannot be used on the agent API")
	}
	if author := c.Request().Header.Get("X-Author-Id"); author != "" && author != actor.ID {
		if actor, err = s.svc.ActAs(ctx, actor, author); err != nil {
			return err
		}
	}
	url, _, err := s.readUpload(c, actor)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"url": url})
}

// baseURL is the server's public address: Config.PublicURL, else the
// request's scheme and host.
func (s *Server) baseURL(c echo.Context) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	return c.Scheme() + "://" + c.Request().Host
}

// maxUploadField bounds the text fields that come with an upload.
const maxUploadField = 16 << 10

// readUpload stores the multipart field "file" as uploaded by actor and
// returns its absolute URL, with the body's short text fields (Rocket.Chat
// clients send msg and description beside the file).
func (s *Server) readUpload(c echo.Context, actor livechat.Actor) (string, map[string]string, error) {
	mr, err := c.Request().MultipartReader()
	if err != nil {
		return "", nil, livechat.Errorf(livechat.TypeValidation, "the body must be multipart/form-data with a file field")
	}
	fields := map[string]string{}
	url := ""
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			if url == "" {
				return "", nil, livechat.Errorf(livechat.TypeValidation, "the file field is required")
			}
			return url, fields, nil
		}
		if err != nil {
			return "", nil, uploadReadError(err)
		}
		switch {
		case part.FormName() == "file" && url == "":
			info, err := s.svc.UploadFile(c.Request().Context(), actor, part.FileName(), part.Header.Get(echo.HeaderContentType), part)
			part.Close()
			if err != nil {
				return "", nil, uploadReadError(err)
			}
			url = s.baseURL(c) + info.Path()
		case part.FileName() == "" && len(fields) < 16:
			b, err := io.ReadAll(io.LimitReader(part, maxUploadField))
			part.Close()
			if err != nil {
				return "", nil, uploadReadError(err)
			}
			fields[part.FormName()] = string(b)
		default:
			part.Close()
		}
	}
}

// uploadReadError turns a body cut short by the server's body limit into
// entity_too_large and other broken bodies into validation errors; typed core
// errors pass through.
func uploadReadError(err error) error {
	var le *livechat.Error
	if errors.As(err, &le) {
		return err
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return err
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || strings.Contains(err.Error(), "request body too large") {
		return livechat.Errorf(livechat.TypeEntityTooLarge, "Upload limit exceeded (10MB)")
	}
	if strings.Contains(err.Error(), "multipart") || errors.Is(err, io.ErrUnexpectedEOF) {
		return &livechat.Error{Type: livechat.TypeValidation, Message: "the multipart body is not valid", Err: err}
	}
	return err
}

// inlineTypes are served for display; everything else downloads, so an
// uploaded page or SVG never runs on the server's origin.
var inlineTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true, "text/plain": true}

// serveFile serves an upload. Its random id is the capability: no token is
// asked for, as LiveChat's CDN URLs.
func (s *Server) serveFile(c echo.Context) error {
	info, rc, err := s.svc.OpenFile(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	defer rc.Close()
	if name, err := url.PathUnescape(c.Param("name")); err != nil || name != info.Name {
		return livechat.Errorf(livechat.TypeNotFound, "File not found")
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, info.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	disposition := "attachment"
	if inlineTypes[info.ContentType] {
		disposition = "inline"
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": info.Name}))
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(c.Response(), c.Request(), "", info.CreatedAt, rs)
		return nil
	}
	c.Response().WriteHeader(http.StatusOK)
	if c.Request().Method != http.MethodHead {
		_, err = io.Copy(c.Response(), rc)
	}
	return err
}
