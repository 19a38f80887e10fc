package livechat

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Customer sessions: what a Customer Chat API login tells the core, the
// customer's visit (it starts with the first live session, ends with the
// last) and the pages the customer opens.

// visitGap is how long a visit whose end was never recorded (the process
// stopped) still counts as going on.
const visitGap = 30 * time.Minute

// maxLastPages bounds the pages a visit remembers.
const maxLastPages = 20

// maxPageURL bounds a page URL (and its title).
const maxPageURL = 2048

// CustomerLoginInput is what a customer's login says about it.
type CustomerLoginInput struct {
	// Profile holds the login's customer fields (name, email, avatar,
	// session_fields); unset fields are left alone.
	Profile CustomerInput
	// GroupID is the group of the widget the customer uses, if given.
	GroupID *int
	// Page is the page the customer is on, if given.
	Page *Page
	// Referrer, IP and UserAgent describe a new visit.
	Referrer, IP, UserAgent string
}

// CustomerConnected records a customer's new live session (the Customer RTM
// login): banned customers are refused with customer_banned; the login's
// profile fields are stored (customer_updated to the customer's audience
// when something changed); a given group becomes the customer's group; the
// first session starts a visit; a given page is recorded
// (customer_page_updated to the agents monitoring the customer). Every
// successful call must be paired with CustomerDisconnected.
func (s *Service) CustomerConnected(ctx context.Context, actor Actor, in CustomerLoginInput) (*Customer, error) {
	if !actor.IsCustomer() {
		return nil, Errorf(TypeAuthorization, "Only customers log in to the Customer Chat API")
	}
	if in.GroupID != nil {
		if err := s.checkGroups(ctx, []int{*in.GroupID}); err != nil {
			return nil, err
		}
	}
	if in.Page != nil {
		if err := checkPage(in.Page); err != nil {
			return nil, err
		}
	}
	if len(in.Referrer) > maxPageURL {
		return nil, Errorf(TypeValidation, "referrer is too long")
	}
	id := actor.ID
	st := s.cust
	st.mu.Lock()
	first := st.sessions[id] == 0
	st.sessions[id]++
	st.mu.Unlock()
	var changed []string
	var page *Page
	c, err := s.updateCustomer(ctx, id, func(c *Customer) error {
		now := s.now()
		if c.Banned(now) {
			return Errorf(TypeCustomerBanned, "Customer is banned")
		}
		var err error
		if changed, err = applyCustomerChanges(c, in.Profile); err != nil {
			return err
		}
		if in.GroupID != nil && !slices.Equal(c.GroupIDs, []int{*in.GroupID}) {
			c.GroupIDs = []int{*in.GroupID}
			changed = append(changed, "group_ids")
		}
		if first && visitOver(c.LastVisit, now) {
			startVisit(c, now, in.Referrer, in.IP, in.UserAgent)
		}
		if in.Page != nil {
			page = addPage(c, now, in.Page.URL, in.Page.Title)
		}
		return nil
	})
	if err != nil {
		s.customerGone(id)
		return nil, err
	}
	if len(changed) > 0 {
		s.emit(ctx, &DomainEvent{Kind: KindCustomerUpdated, RequesterID: id, Topics: s.customerTopics(ctx, c), Data: CustomerData{Customer: c, Changed: changed}})
	}
	if page != nil {
		s.emitPage(ctx, c, *page)
	}
	return c, nil
}

// customerGone forgets one live session of customer id and says whether it
// was the last.
func (s *Service) customerGone(id string) bool {
	st := s.cust
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.sessions[id] > 1 {
		st.sessions[id]--
		return false
	}
	delete(st.sessions, id)
	return true
}

// CustomerDisconnected records the end of a live session CustomerConnected
// admitted; the last one ends the customer's visit.
func (s *Service) CustomerDisconnected(ctx context.Context, customerID string) {
	if !s.customerGone(customerID) {
		return
	}
	if _, err := s.updateCustomer(ctx, customerID, func(c *Customer) error {
		if c.LastVisit != nil && c.LastVisit.EndedAt == nil {
			now := s.now()
			c.LastVisit.EndedAt = &now
		}
		return nil
	}); err != nil {
		// Bookkeeping only: at shutdown the store may already be gone.
		s.log.Debug("customer visit not ended", "customer_id", customerID, "err", err)
	}
}

// CustomerOnline says whether the customer has a live session in this process.
func (s *Service) CustomerOnline(customerID string) bool {
	s.cust.mu.Lock()
	defer s.cust.mu.Unlock()
	return s.cust.sessions[customerID] > 0
}

// UpdateCustomerPage records that the customer opened a page
// (update_customer_page): it joins the visit's last pages and counts as a
// page view; the agents monitoring the customer hear customer_page_updated.
// The page also drives auto access when the customer next starts a chat.
func (s *Service) UpdateCustomerPage(ctx context.Context, actor Actor, pageURL, title string) error {
	if !actor.IsCustomer() {
		return Errorf(TypeAuthorization, "Only customers have pages")
	}
	p := &Page{URL: pageURL, Title: title}
	if err := checkPage(p); err != nil {
		return err
	}
	var page *Page
	c, err := s.updateCustomer(ctx, actor.ID, func(c *Customer) error {
		now := s.now()
		if visitOver(c.LastVisit, now) && !s.CustomerOnline(c.ID) {
			startVisit(c, now, "", "", "")
		}
		page = addPage(c, now, p.URL, p.Title)
		return nil
	})
	if err != nil {
		return err
	}
	s.emitPage(ctx, c, *page)
	return nil
}

func (s *Service) emitPage(ctx context.Context, c *Customer, p Page) {
	visit := 0
	if c.LastVisit != nil {
		visit = c.LastVisit.ID
	}
	s.emit(ctx, &DomainEvent{Kind: KindCustomerPageUpdated, RequesterID: c.ID, Topics: s.customerTopics(ctx, c), AgentsOnly: true,
		Data: CustomerPageData{CustomerID: c.ID, VisitID: visit, Page: p}})
}

// checkPage validates a page the customer reports: an absolute URL.
func checkPage(p *Page) error {
	p.URL = strings.TrimSpace(p.URL)
	if p.URL == "" {
		return Errorf(TypeValidation, "url is required")
	}
	if len(p.URL) > maxPageURL || len(p.Title) > maxPageURL {
		return Errorf(TypeValidation, "url and title must be at most %d characters", maxPageURL)
	}
	if u, err := url.Parse(p.URL); err != nil || u.Scheme == "" {
		return Errorf(TypeValidation, "url must be an absolute URL")
	}
	return nil
}

// visitOver says whether a new visit starts now: there was none, it ended,
// or it was left open too long ago (the process stopped).
func visitOver(v *Visit, now time.Time) bool {
	if v == nil || v.EndedAt != nil {
		return true
	}
	last := v.StartedAt
	for _, p := range v.LastPages {
		if p.OpenedAt.After(last) {
			last = p.OpenedAt
		}
	}
	return now.Sub(last) > visitGap
}

func startVisit(c *Customer, now time.Time, referrer, ip, userAgent string) {
	c.VisitsCount++
	c.LastVisit = &Visit{ID: c.VisitsCount, StartedAt: now, Referrer: referrer, IP: ip, UserAgent: userAgent, LastPages: []Page{}}
}

// addPage appends a page to the customer's visit (keeping the newest
// maxLastPages) and counts the view.
func addPage(c *Customer, now time.Time, pageURL, title string) *Page {
	if c.LastVisit == nil {
		startVisit(c, now, "", "", "")
	}
	p := Page{OpenedAt: now, URL: pageURL, Title: title}
	pages := append(c.LastVisit.LastPages, p)
	if len(pages) > maxLastPages {
		pages = slices.Clone(pages[len(pages)-maxLastPages:])
	}
	c.LastVisit.LastPages = pages
	c.PageViewsCount++
	return &p
}

// applyCustomerChanges applies in to c like applyCustomerInput, but names
// only the fields whose value really changed.
func applyCustomerChanges(c *Customer, in CustomerInput) ([]string, error) {
	before := *c
	before.SessionFields = slices.Clone(c.SessionFields)
	fields, err := applyCustomerInput(c, in)
	if err != nil {
		return nil, err
	}
	var changed []string
	for _, f := range fields {
		same := false
		switch f {
		case "name":
			same = before.Name == c.Name
		case "email":
			same = before.Email == c.Email
		case "avatar":
			same = before.Avatar == c.Avatar
		case "session_fields":
			same = slices.EqualFunc(before.SessionFields, c.SessionFields, func(a, b map[string]string) bool {
				if len(a) != len(b) {
					return false
				}
				for k, v := range a {
					if w, ok := b[k]; !ok || w != v {
						return false
					}
				}
				return true
			})
		}
		if !same {
			changed = append(changed, f)
		}
	}
	return changed, nil
}

// CustomerChat is one chat of the customer's login answer.
type CustomerChat struct {
	ChatID          string
	Active          bool
	HasUnreadEvents bool
}

// maxLoginChats bounds the chats a customer login lists (newest first).
const maxLoginChats = 100

// CustomerChats lists the customer's chats, newest first, with whether each
// is active and holds events the customer has not seen (events visible to
// customers, written by someone else, after the customer's seen marker).
func (s *Service) CustomerChats(ctx context.Context, actor Actor) ([]CustomerChat, error) {
	if !actor.IsCustomer() {
		return nil, Errorf(TypeAuthorization, "Only customers have customer chats")
	}
	chats, _, err := s.ListChats(ctx, actor, ChatFilter{IncludeInactive: true, Limit: maxLoginChats})
	if err != nil {
		return nil, err
	}
	out := make([]CustomerChat, 0, len(chats))
	for i := range chats {
		c := &chats[i]
		var seen time.Time
		if u := c.User(actor.ID); u != nil {
			seen = u.EventsSeenUpTo
		}
		unread := false
		if c.LastEventAt.After(seen) {
			n, err := s.store.Events().Count(ctx, Where(Eq("chat_id", c.ID), Eq("visibility", VisibilityAll),
				Cond{Field: "created_at", Op: OpGt, Value: seen}, Cond{Field: "author_id", Op: OpNe, Value: actor.ID}))
			if err != nil {
				return nil, err
			}
			unread = n > 0
		}
		out = append(out, CustomerChat{ChatID: c.ID, Active: c.Active(), HasUnreadEvents: unread})
	}
	return out, nil
}
