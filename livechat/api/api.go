package api

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"sort"

	"github.com/chatbridge/chatbridge/livechat"
)

// Versions served, oldest first. 3.5 is primary; 3.3 and 3.4 keep their own
// names and shapes.
var Versions = []string{"3.3", "3.4", "3.5"}

// SupportedVersion says whether v is served.
func SupportedVersion(v string) bool { return slices.Contains(Versions, v) }

// Call is one method invocation, whatever the transport.
type Call struct {
	Svc     *livechat.Service
	Actor   livechat.Actor
	Version string
	Payload json.RawMessage
}

// Handler runs one method.
type Handler func(ctx context.Context, c *Call) (any, error)

// Method is one entry of a table.
type Method struct {
	Name    string
	Handler Handler
	// ReadOnly methods may also be called with GET on the Web API.
	ReadOnly bool
	// WebOnly and RTMOnly restrict the transport.
	WebOnly, RTMOnly bool
	// Public methods need no credential (list_webhook_names, issue_bot_token);
	// the handler gets a zero Actor when none is sent.
	Public bool
	// Since and Until bound the versions that have the method ("" = open).
	Since, Until string
}

// Table maps method names to methods.
type Table struct {
	methods map[string]Method
}

// NewTable builds a table from methods.
func NewTable(ms ...Method) *Table {
	t := &Table{methods: map[string]Method{}}
	for _, m := range ms {
		t.methods[m.Name] = m
	}
	return t
}

// Lookup finds a method available in version on the given transport.
func (t *Table) Lookup(name, version string, web bool) (Method, error) {
	m, ok := t.methods[name]
	if !ok || (m.Since != "" && version < m.Since) || (m.Until != "" && version > m.Until) {
		return Method{}, livechat.Errorf(livechat.TypeValidation, "Unknown action %q for version %s", name, version)
	}
	if web && m.RTMOnly {
		return Method{}, livechat.Errorf(livechat.TypeValidation, "Action %q is available over RTM only", name)
	}
	if !web && m.WebOnly {
		return Method{}, livechat.Errorf(livechat.TypeValidation, "Action %q is available over the Web API only", name)
	}
	return m, nil
}

// Names lists the table's methods, sorted.
func (t *Table) Names() []string {
	out := make([]string, 0, len(t.methods))
	for n := range t.methods {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// decode reads a payload into a typed request. An empty payload is {};
// a payload of the wrong shape is a validation error naming the problem.
func decode[T any](raw json.RawMessage) (*T, error) {
	var v T
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return &v, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		msg := "Wrong format of request"
		var te *json.UnmarshalTypeError
		if ok := asTypeError(err, &te); ok {
			msg = "Wrong format of request: " + te.Field + " must be " + te.Type.String()
		}
		return nil, &livechat.Error{Type: livechat.TypeValidation, Message: msg, Err: err}
	}
	return &v, nil
}

func asTypeError(err error, te **json.UnmarshalTypeError) bool {
	e, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*te = e
	}
	return ok
}

// required fails with a validation error when a required field is empty.
func required(ok bool, field string) error {
	if !ok {
		return livechat.Errorf(livechat.TypeValidation, "%s is required", field)
	}
	return nil
}

// empty is the "no response payload" answer.
type empty struct{}
