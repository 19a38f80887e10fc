package rtm

import (
	"context"
	"encoding/json"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/api"
)

func init() {
	// An agent at the "my" monitoring level hears of a customer's pages only
	// when it chats with or follows the customer, as for its other pushes.
	customerKinds[livechat.KindCustomerPageUpdated] = true
}

// customerLogin is the login payload of the Customer Chat API.
type customerLogin struct {
	Token    string `json:"token"`
	Customer *struct {
		Name          *string             `json:"name"`
		Email         *string             `json:"email"`
		Avatar        *string             `json:"avatar"`
		SessionFields []map[string]string `json:"session_fields"`
	} `json:"customer"`
	CustomerPage *struct {
		URL   string `json:"url"`
		Title string `json:"title"`
	} `json:"customer_page"`
	CustomerSideStorage map[string]string   `json:"customer_side_storage"`
	IsMobile            bool                `json:"is_mobile"`
	GroupID             *int                `json:"group_id"`
	Referrer            string              `json:"referrer"`
	Application         json.RawMessage     `json:"application"`
	Pushes              map[string][]string `json:"pushes"`
}

// CustomerLogin logs a customer in: the token must be a customer's (with or
// without its scheme; agent tokens are refused with authentication) and the
// customer not banned (customer_banned). The login's profile, page, group and
// referrer are recorded (livechat.Service.CustomerConnected). The session
// then hears the customer's pushes (CustomerTopic) and its group's
// availability (CustomerGroupTopic); the answer is api.CustomerLogin's.
func CustomerLogin(ctx context.Context, s *Session, raw json.RawMessage) (any, error) {
	svc := s.Service()
	req := &customerLogin{}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, req); err != nil {
			return nil, livechat.Errorf(livechat.TypeValidation, "Wrong format of request: login payload")
		}
	}
	if req.Token == "" {
		return nil, livechat.Errorf(livechat.TypeValidation, "token is required")
	}
	actor, cred, err := svc.AuthenticateCredential(ctx, req.Token)
	if err != nil {
		return nil, err
	}
	s.SetCredential(cred)
	if !actor.IsCustomer() {
		return nil, livechat.Errorf(livechat.TypeAuthentication, "Agent tokens cannot log in to the Customer Chat API")
	}
	in := livechat.CustomerLoginInput{GroupID: req.GroupID, Referrer: req.Referrer, IP: s.conn.RemoteAddr()}
	if c := req.Customer; c != nil {
		in.Profile = livechat.CustomerInput{Name: c.Name, Email: c.Email, Avatar: c.Avatar, SessionFields: c.SessionFields}
	}
	if p := req.CustomerPage; p != nil && p.URL != "" {
		in.Page = &livechat.Page{URL: p.URL, Title: p.Title}
	}
	cust, err := svc.CustomerConnected(ctx, actor, in)
	if err != nil {
		return nil, err
	}
	id := cust.ID
	s.OnClose(func() { svc.CustomerDisconnected(context.Background(), id) })
	actor.Customer = cust
	group := 0
	if len(cust.GroupIDs) > 0 {
		group = cust.GroupIDs[0]
	}
	s.Identify(actor, []livechat.Topic{livechat.CustomerTopic(id), livechat.CustomerGroupTopic(group)}, req.Pushes)
	return api.CustomerLogin(ctx, svc, actor, cust, group, s.Version())
}
