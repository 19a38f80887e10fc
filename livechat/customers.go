package livechat

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// CustomerInput describes a customer to create or the fields to change.
// Nil fields are left alone on update.
type CustomerInput struct {
	Name          *string
	Email         *string
	Avatar        *string
	SessionFields []map[string]string
}

// CreateCustomer creates a customer. Agents and the system may create
// customers; a customer identity is otherwise made by a customer token.
func (s *Service) CreateCustomer(ctx context.Context, actor Actor, in CustomerInput) (*Customer, error) {
	if actor.IsCustomer() {
		return nil, Errorf(TypeAuthorization, "Customers cannot create customers")
	}
	now := s.now()
	c := &Customer{ID: NewUUID(), SessionFields: []map[string]string{}, GroupIDs: []int{0}, Followers: []string{}, CreatedAt: now, UpdatedAt: now}
	if _, err := applyCustomerInput(c, in); err != nil {
		return nil, err
	}
	if err := s.store.Customers().Insert(ctx, c); err != nil {
		return nil, err
	}
	s.emit(ctx, &DomainEvent{Kind: KindIncomingCustomer, RequesterID: actor.ID, Topics: []Topic{OrgTopic}, Data: CustomerData{Customer: c}})
	return c, nil
}

func applyCustomerInput(c *Customer, in CustomerInput) ([]string, error) {
	var changed []string
	if in.Name != nil {
		if len(*in.Name) > 256 {
			return nil, Errorf(TypeValidation, "name is too long")
		}
		c.Name = strings.TrimSpace(*in.Name)
		changed = append(changed, "name")
	}
	if in.Email != nil {
		e := strings.TrimSpace(*in.Email)
		if e != "" && (!strings.Contains(e, "@") || len(e) > 254) {
			return nil, Errorf(TypeValidation, "email is not valid")
		}
		c.Email = e
		changed = append(changed, "email")
	}
	if in.Avatar != nil {
		c.Avatar = *in.Avatar
		changed = append(changed, "avatar")
	}
	if in.SessionFields != nil {
		if len(in.SessionFields) > 100 {
			return nil, Errorf(TypeValidation, "too many session fields")
		}
		for _, f := range in.SessionFields {
			if len(f) != 1 {
				return nil, Errorf(TypeValidation, "each session field must hold exactly one key")
			}
		}
		c.SessionFields = in.SessionFields
		changed = append(changed, "session_fields")
	}
	return changed, nil
}

// GetCustomer returns a customer: customers only themselves, agents any.
func (s *Service) GetCustomer(ctx context.Context, actor Actor, id string) (*Customer, error) {
	if actor.IsCustomer() && actor.ID != id {
		return nil, notFound("Customer")
	}
	c, err := s.store.Customers().Get(ctx, id)
	if err != nil {
		return nil, storeErr(err, "Customer")
	}
	return c, nil
}

// UpdateCustomer changes a customer's fields: customers their own, agents any.
func (s *Service) UpdateCustomer(ctx context.Context, actor Actor, id string, in CustomerInput) (*Customer, error) {
	if actor.IsCustomer() && actor.ID != id {
		return nil, notFound("Customer")
	}
	var changed []string
	c, err := s.updateCustomer(ctx, id, func(c *Customer) error {
		var err error
		changed, err = applyCustomerInput(c, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(changed) > 0 {
		s.emit(ctx, &DomainEvent{Kind: KindCustomerUpdated, RequesterID: actor.ID, Topics: s.customerTopics(ctx, c), Data: CustomerData{Customer: c, Changed: changed}})
	}
	return c, nil
}

// BanCustomer bans a customer for days (agents only).
func (s *Service) BanCustomer(ctx context.Context, actor Actor, id string, days int) (*Customer, error) {
	if !actor.IsAgent() && !actor.IsSystem() {
		return nil, Errorf(TypeAuthorization, "Only agents can ban customers")
	}
	if days < 1 {
		return nil, Errorf(TypeValidation, "ban.days must be at least 1")
	}
	c, err := s.updateCustomer(ctx, id, func(c *Customer) error {
		until := s.now().Add(time.Duration(days) * 24 * time.Hour)
		c.BannedUntil = &until
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.emit(ctx, &DomainEvent{Kind: KindCustomerUpdated, RequesterID: actor.ID, Topics: s.customerTopics(ctx, c), Data: CustomerData{Customer: c, Changed: []string{"banned"}}})
	return c, nil
}

// customerTopics reaches the customer's own sessions, the agents chatting
// with the customer or following them (by their agent topics, which is what
// the "my" monitoring level keeps), and every agent session (OrgTopic) for
// the wider monitoring levels; each session filters by its level.
func (s *Service) customerTopics(ctx context.Context, c *Customer) []Topic {
	topics := []Topic{CustomerTopic(c.ID), OrgTopic}
	for _, f := range c.Followers {
		topics = append(topics, AgentTopic(f))
	}
	chats, err := s.store.Chats().Find(ctx, Where(Eq("customer_id", c.ID), Cond{Field: "active_thread_id", Op: OpNe, Value: ""}))
	if err != nil {
		s.log.Warn("customer audience: chats not read", "customer_id", c.ID, "err", err)
		return topics
	}
	for i := range chats {
		for _, id := range chats[i].AgentIDs() {
			topics = append(topics, AgentTopic(id))
		}
	}
	return topics
}

func (s *Service) updateCustomer(ctx context.Context, id string, change func(*Customer) error) (*Customer, error) {
	defer s.locks.lock("customer:" + id)()
	c, err := s.store.Customers().Get(ctx, id)
	if err != nil {
		return nil, storeErr(err, "Customer")
	}
	if err := change(c); err != nil {
		return nil, err
	}
	c.UpdatedAt = s.now()
	if err := s.store.Customers().Replace(ctx, id, c); err != nil {
		return nil, err
	}
	return c, nil
}

// CustomerTokenRequest is a customer token request (cookie grant, or an
// agent acting for a customer with the agent_token grant).
type CustomerTokenRequest struct {
	ClientID       string
	OrganizationID string
	LicenseID      int64
	// CookieCustomerID and CookieSecret are the __lc_cid / __lc_cst cookies of a returning customer.
	CookieCustomerID string
	CookieSecret     string
	// EntityID is the existing customer an agent asks a token for (agent_token grant).
	EntityID string
	// GroupID, when set, scopes the identity to a group (/v2/customer/<org>/<group>/token).
	GroupID *int
}

// CustomerTokens is the answer of a customer token request.
type CustomerTokens struct {
	AccessToken  string
	EntityID     string
	ExpiresIn    int
	CookieSecret string // set when a new cookie identity was made
	Created      bool
}

// IssueCustomerToken answers the cookie grant: a returning customer (valid
// cookies) keeps its identity; anyone else becomes a new customer.
func (s *Service) IssueCustomerToken(ctx context.Context, actor Actor, req CustomerTokenRequest) (*CustomerTokens, error) {
	if req.ClientID == "" {
		return nil, Errorf(TypeValidation, "client_id is required")
	}
	if req.OrganizationID != "" && req.OrganizationID != s.org.OrganizationID {
		return nil, Errorf(TypeNotFound, "organization not found")
	}
	if req.OrganizationID == "" && req.LicenseID != 0 && req.LicenseID != s.org.LicenseID {
		return nil, Errorf(TypeNotFound, "license not found")
	}
	if req.OrganizationID == "" && req.LicenseID == 0 {
		return nil, Errorf(TypeValidation, "organization_id is required")
	}
	if req.GroupID != nil {
		if _, err := s.store.Groups().Get(ctx, *req.GroupID); err != nil {
			return nil, storeErr(err, "Group")
		}
	}
	out := &CustomerTokens{}
	var c *Customer
	switch {
	case req.EntityID != "":
		if !actor.IsAgent() && !actor.IsSystem() {
			return nil, Errorf(TypeAuthorization, "Only agents can ask tokens for existing customers")
		}
		var err error
		if c, err = s.store.Customers().Get(ctx, req.EntityID); err != nil {
			return nil, storeErr(err, "Customer")
		}
	case req.CookieCustomerID != "" && req.CookieSecret != "":
		if t, err := s.lookupToken(ctx, req.CookieSecret, TokenCustomerCookie); err == nil && t.Subject == req.CookieCustomerID {
			c, _ = s.store.Customers().Get(ctx, t.Subject)
			out.CookieSecret = req.CookieSecret
		}
	}
	if c == nil {
		var err error
		if c, err = s.CreateCustomer(ctx, System(), CustomerInput{}); err != nil {
			return nil, err
		}
		if req.GroupID != nil && *req.GroupID != 0 {
			gid := *req.GroupID
			if c, err = s.updateCustomer(ctx, c.ID, func(c *Customer) error { c.GroupIDs = []int{gid}; return nil }); err != nil {
				return nil, err
			}
		}
		out.Created = true
		if req.EntityID == "" {
			if out.CookieSecret, _, err = s.issue(ctx, TokenCustomerCookie, c.ID, req.ClientID, "", "", 2*365*24*time.Hour); err != nil {
				return nil, err
			}
		}
	}
	access, _, err := s.issue(ctx, TokenCustomerAccess, c.ID, req.ClientID, "", "", s.cfg.CustomerTokenTTL)
	if err != nil {
		return nil, err
	}
	out.AccessToken, out.EntityID, out.ExpiresIn = access, c.ID, int(s.cfg.CustomerTokenTTL/time.Second)
	return out, nil
}

// EnsureOwner makes sure an owner agent with this e-mail exists, with this
// password and token when they are given (the --admin-* flags). Idempotent.
func (s *Service) EnsureOwner(ctx context.Context, email, password, token string) (*Agent, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	a, err := s.store.Agents().Get(ctx, email)
	switch {
	case errors.Is(err, ErrNotFound):
		if a, err = s.CreateAgent(ctx, System(), AgentInput{Email: email, Role: RoleOwner, Password: password}); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		needPassword := password != "" && !CheckPassword(a, password)
		if a.Role != RoleOwner || needPassword {
			var hash string
			if needPassword {
				if hash, err = s.hashPassword(password); err != nil {
					return nil, err
				}
			}
			if err := s.updateAgent(ctx, a.ID, func(a *Agent) error {
				a.Role = RoleOwner
				if hash != "" {
					a.PasswordHash = hash
				}
				return nil
			}); err != nil {
				return nil, err
			}
			a.Role = RoleOwner
		}
	}
	if token != "" {
		if err := s.EnsureAgentToken(ctx, a, token); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Bootstrap creates a first owner when the store has no agent at all, and
// returns it with a fresh never-expiring token (shown once). It returns nil
// when agents already exist.
func (s *Service) Bootstrap(ctx context.Context, email string) (*Agent, string, error) {
	n, err := s.store.Agents().Count(ctx, Query{})
	if err != nil || n > 0 {
		return nil, "", err
	}
	a, err := s.CreateAgent(ctx, System(), AgentInput{Email: email, Role: RoleOwner, Name: "Owner"})
	if err != nil {
		return nil, "", err
	}
	token := tokenPrefix + newSecret(32)
	if err := s.EnsureAgentToken(ctx, a, token); err != nil {
		return nil, "", err
	}
	return a, token, nil
}

// addUnique appends v to list when absent.
func addUnique[T comparable](list []T, v T) []T {
	if slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

// CustomerChatIDs lists the ids of a customer's chats, oldest first.
func (s *Service) CustomerChatIDs(ctx context.Context, actor Actor, id string) ([]string, error) {
	if actor.IsCustomer() && actor.ID != id {
		return nil, notFound("Customer")
	}
	chats, err := s.store.Chats().Find(ctx, Where(Eq("customer_id", id)))
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(chats))
	for _, c := range chats {
		ids = append(ids, c.ID)
	}
	return ids, nil
}
