package api

import (
	"encoding/base64"
	"encoding/json"

	"github.com/chatbridge/chatbridge/livechat"
)

// page is what an opaque page_id remembers: where the next page starts and
// the query it continues (filters travel inside the token, as LiveChat's do).
type page struct {
	Offset  int             `json:"o"`
	Limit   int             `json:"l"`
	Asc     bool            `json:"a"`
	Filters json.RawMessage `json:"f,omitempty"`
}

func (p page) token() string {
	b, _ := json.Marshal(p)
	return base64.RawURLEncoding.EncodeToString(b)
}

func parsePage(id string) (page, error) {
	var p page
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err == nil {
		err = json.Unmarshal(b, &p)
	}
	if err != nil || p.Offset < 0 || p.Limit < 1 {
		return page{}, livechat.Errorf(livechat.TypeValidation, "page_id is not valid")
	}
	return p, nil
}

// listArgs are the pagination fields every list method takes.
type listArgs struct {
	PageID    string          `json:"page_id"`
	Limit     int             `json:"limit"`
	SortOrder string          `json:"sort_order"`
	Filters   json.RawMessage `json:"filters"`
}

// resolve turns list arguments into a page: a first call gives limit, order
// and filters; a follow-up gives only page_id (anything else with it is a
// validation error, as in LiveChat).
func (a listArgs) resolve(defLimit, maxLimit int) (page, error) {
	if a.PageID != "" {
		if a.Limit != 0 || a.SortOrder != "" || len(a.Filters) > 0 {
			return page{}, livechat.Errorf(livechat.TypeValidation, "page_id cannot be combined with limit, sort_order or filters")
		}
		return parsePage(a.PageID)
	}
	p := page{Limit: a.Limit, Filters: a.Filters}
	if p.Limit == 0 {
		p.Limit = defLimit
	}
	if p.Limit < 1 || p.Limit > maxLimit {
		return page{}, livechat.Errorf(livechat.TypeValidation, "limit must be 1 to %d", maxLimit)
	}
	switch a.SortOrder {
	case "", "desc":
	case "asc":
		p.Asc = true
	default:
		return page{}, livechat.Errorf(livechat.TypeValidation, "sort_order must be asc or desc")
	}
	return p, nil
}

// links adds next_page_id / previous_page_id to out for a page of a list of total.
func (p page) links(out M, total int) {
	if p.Offset+p.Limit < total {
		n := p
		n.Offset += p.Limit
		out["next_page_id"] = n.token()
	}
	if p.Offset > 0 {
		prev := p
		prev.Offset = max(0, p.Offset-p.Limit)
		out["previous_page_id"] = prev.token()
	}
}
