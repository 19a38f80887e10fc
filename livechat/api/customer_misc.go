package api

import (
	"context"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/chatbridge/chatbridge/livechat"
)

// The Customer Chat API's methods about the customer itself, its page, the
// groups and the widget.

func customerGetCustomer(ctx context.Context, c *Call) (any, error) {
	if _, err := decode[struct{}](c.Payload); err != nil {
		return nil, err
	}
	cu, err := c.Svc.GetCustomer(ctx, c.Actor, c.Actor.ID)
	if err != nil {
		return nil, err
	}
	return CustomerSelf(cu, c.Version), nil
}

func customerUpdateCustomer(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		Name          *string             `json:"name"`
		Email         *string             `json:"email"`
		Avatar        *string             `json:"avatar"`
		SessionFields []map[string]string `json:"session_fields"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	in := livechat.CustomerInput{Name: req.Name, Email: req.Email, Avatar: req.Avatar, SessionFields: req.SessionFields}
	if in.Name == nil && in.Email == nil && in.Avatar == nil && in.SessionFields == nil {
		return nil, livechat.Errorf(livechat.TypeValidation, "at least one of name, email, avatar, session_fields is required")
	}
	_, err = c.Svc.UpdateCustomer(ctx, c.Actor, c.Actor.ID, in)
	return empty{}, err
}

func customerSetSessionFields(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		SessionFields []map[string]string `json:"session_fields"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.SessionFields != nil, "session_fields"); err != nil {
		return nil, err
	}
	_, err = c.Svc.UpdateCustomer(ctx, c.Actor, c.Actor.ID, livechat.CustomerInput{SessionFields: req.SessionFields})
	return empty{}, err
}

func customerUpdatePage(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		URL   string `json:"url"`
		Title string `json:"title"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.URL != "", "url"); err != nil {
		return nil, err
	}
	return empty{}, c.Svc.UpdateCustomerPage(ctx, c.Actor, req.URL, req.Title)
}

func customerListGroupStatuses(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		All      bool  `json:"all"`
		GroupIDs []int `json:"group_ids"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if !req.All && len(req.GroupIDs) == 0 {
		return nil, livechat.Errorf(livechat.TypeValidation, "all or group_ids is required")
	}
	if len(req.GroupIDs) > 200 {
		return nil, livechat.Errorf(livechat.TypeValidation, "group_ids holds at most 200 groups")
	}
	var ids []int
	if !req.All {
		ids = req.GroupIDs
	}
	avail, err := c.Svc.GroupAvailabilities(ctx, ids)
	if err != nil {
		return nil, err
	}
	status := M{}
	for id, st := range avail {
		status[strconv.Itoa(id)] = st
	}
	return M{"groups_status": status}, nil
}

func customerGetPredictedAgent(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		GroupID *int `json:"group_id"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	p, err := c.Svc.PredictAgent(ctx, c.Actor, req.GroupID)
	if err != nil {
		return nil, err
	}
	a := p.Agent
	return M{"agent": M{"id": a.ID, "name": a.Name, "avatar": a.Avatar, "is_bot": a.Kind == livechat.AgentKindBot,
		"job_title": jobTitle(a), "type": livechat.UserAgent}, "queue": p.Queue}, nil
}

// jobTitle is the agent's job title, "Support Agent" (LiveChat's default) when unset.
func jobTitle(a *livechat.Agent) string {
	if a.JobTitle != "" {
		return a.JobTitle
	}
	return "Support Agent"
}

// imageExts are the URL endings get_url_info takes for images.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".webp": true, ".svg": true, ".bmp": true}

// customerGetURLInfo describes a URL without fetching it: chatbridge makes
// no outbound requests, so a page's <title> and Open Graph tags are not
// read. The title is the URL's host; a URL ending in an image extension is
// its own image_url; an upload of this server (upload_file) is described
// from its stored record (name as title, image size).
func customerGetURLInfo(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		URL string `json:"url"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.URL != "", "url"); err != nil {
		return nil, err
	}
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(req.URL) > 2048 {
		return nil, livechat.Errorf(livechat.TypeValidation, "url must be an absolute http or https URL")
	}
	out := M{"url": req.URL, "title": strings.TrimPrefix(u.Hostname(), "www.")}
	if rest, ok := strings.CutPrefix(u.Path, livechat.FilesPathPrefix); ok {
		id, _, _ := strings.Cut(rest, "/")
		if info, rc, err := c.Svc.OpenFile(ctx, id); err == nil {
			rc.Close()
			out["title"] = info.Name
			if strings.HasPrefix(info.ContentType, "image/") {
				out["image_url"], out["image_original_url"] = req.URL, req.URL
				if info.Width > 0 && info.Height > 0 {
					out["image_width"], out["image_height"] = info.Width, info.Height
				}
			}
			return out, nil
		}
	}
	if imageExts[strings.ToLower(path.Ext(u.Path))] {
		out["title"] = path.Base(u.Path)
		out["image_url"], out["image_original_url"] = req.URL, req.URL
	}
	return out, nil
}

// The greetings engine (targeted messages shown to visitors) is not part of
// chatbridge: no greeting is ever shown, so none can be accepted or canceled.
func customerAcceptGreeting(_ context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		GreetingID *int   `json:"greeting_id"`
		UniqueID   string `json:"unique_id"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.GreetingID != nil && req.UniqueID != "", "greeting_id and unique_id"); err != nil {
		return nil, err
	}
	return nil, livechat.Errorf(livechat.TypeGreetingNotFound, "Greeting not found")
}

func customerCancelGreeting(_ context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		UniqueID string `json:"unique_id"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.UniqueID != "", "unique_id"); err != nil {
		return nil, err
	}
	return nil, livechat.Errorf(livechat.TypeGreetingNotFound, "Greeting not found")
}

// customerCheckGoals accepts the goals check the customer SDK makes for
// customers it does not connect. chatbridge has no goals: nothing to check.
func customerCheckGoals(_ context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		SessionFields []map[string]string `json:"session_fields"`
		GroupID       *int                `json:"group_id"`
		PageURL       string              `json:"page_url"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.PageURL != "", "page_url"); err != nil {
		return nil, err
	}
	return empty{}, nil
}

// customerRequestEmailVerification accepts a verification request.
// chatbridge sends no e-mail, so no customer ever becomes verified and
// callback_uri is never called.
func customerRequestEmailVerification(_ context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		CallbackURI string `json:"callback_uri"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.CallbackURI != "", "callback_uri"); err != nil {
		return nil, err
	}
	if u, err := url.Parse(req.CallbackURI); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, livechat.Errorf(livechat.TypeValidation, "callback_uri must be an absolute http or https URL")
	}
	return empty{}, nil
}

func customerListLicenseProperties(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	return c.Svc.CustomerLicenseProperties(ctx, req.Namespace, req.Name)
}

func customerListGroupProperties(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		ID        *int   `json:"id"`
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if err := required(req.ID != nil, "id"); err != nil {
		return nil, err
	}
	return c.Svc.CustomerGroupProperties(ctx, *req.ID, req.Namespace, req.Name)
}

// customerUploadFile answers a JSON upload_file: the Web API serves the
// method with a multipart/form-data body (rest/livechat_customer.go).
func customerUploadFile(context.Context, *Call) (any, error) {
	return nil, livechat.Errorf(livechat.TypeValidation, "upload_file takes a multipart/form-data body with a file field")
}
