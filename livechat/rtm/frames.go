package rtm

import (
	"encoding/json"

	"github.com/chatbridge/chatbridge/livechat"
)

// request is a client frame.
type request struct {
	Action    string          `json:"action"`
	Payload   json.RawMessage `json:"payload"`
	RequestID json.RawMessage `json:"request_id"`
	Version   string          `json:"version"`
	AuthorID  string          `json:"author_id"`
}

// requestID reads request_id, which clients send as a string (JS) or a
// number-like string (Python); a bare number is kept as its text.
func (r *request) requestID() string {
	if len(r.RequestID) == 0 || string(r.RequestID) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(r.RequestID, &s) == nil {
		return s
	}
	return string(r.RequestID)
}

// response is a server answer to one request.
type response struct {
	RequestID string `json:"request_id,omitempty"`
	Action    string `json:"action"`
	Type      string `json:"type"`
	Success   bool   `json:"success"`
	Payload   any    `json:"payload"`
}

type errorPayload struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Type    string         `json:"type"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data,omitempty"`
}

// errorFrame is the one place a core error becomes an RTM error payload.
func errorFrame(err error) errorPayload {
	e := livechat.AsError(err)
	msg := e.Message
	if e.Type == livechat.TypeInternal {
		msg = "Internal server error"
	}
	return errorPayload{Error: errorBody{Type: e.Type, Message: msg, Data: e.Data}}
}
