package bridge

import (
	"context"
	"errors"

	"github.com/chatbridge/chatbridge/ddp"
	"github.com/chatbridge/chatbridge/livechat"
)

// The one place core errors become Rocket.Chat method errors (spec §12).
// The reason is the core's message (it says what went wrong); details
// carry the method name, as Rocket.Chat's do. Internal errors stay
// internal: ddp logs them and sends 500 "Internal server error".

// Rocket.Chat error codes chatbridge answers with.
const (
	codeInvalidUser      = "error-invalid-user"
	codeInvalidRoom      = "error-invalid-room"
	codeNotAllowed       = "error-not-allowed"
	codeActionNotAllowed = "error-action-not-allowed"
	codeInvalidMessage   = "error-invalid-message"
	codeRoomClosed       = "room-closed"
	codeInvalidParams    = "invalid-params"
	codeNotFound         = "error-not-found"
	codeMessageSize      = "error-message-size-exceeded"
	codeInquiryTaken     = "error-inquiry-taken"
	codeInvalidToken     = "invalid-token"
	codeCannotAccessRoom = "cannot-access-room"
	codeInvalidVisitor   = "error-invalid-visitor"
	codeInvalidEventName = "invalid-event-name"
	codeStreamNotAllowed = "not-allowed"
)

// rcError turns err into the Rocket.Chat error a client sees from method.
// notFound is the code for a missing object in this method's terms
// (error-invalid-room, error-invalid-message, …).
func rcError(err error, method, notFound string) error {
	if err == nil {
		return nil
	}
	var de *ddp.Error
	if errors.As(err, &de) || errors.Is(err, context.Canceled) {
		return err
	}
	e := livechat.AsError(err)
	code := ""
	switch e.Type {
	case livechat.TypeValidation:
		code = codeInvalidParams
	case livechat.TypeAuthentication:
		code = codeInvalidUser
	case livechat.TypeAuthorization, livechat.TypeMissingAccess:
		code = codeNotAllowed
	case livechat.TypeNotFound:
		code = notFound
		if code == "" {
			code = codeNotFound
		}
	case livechat.TypeChatInactive:
		code = codeRoomClosed
	case livechat.TypeAgentOffline:
		code = "error-agent-offline"
	case livechat.TypeCustomerBanned:
		code = "error-visitor-banned"
	case livechat.TypeGroupNotFound:
		code = "error-invalid-department"
	case livechat.TypeLimitReached:
		code = "error-limit-reached"
	case livechat.TypeAlreadyExists:
		code = "error-duplicate"
	case livechat.TypeTooManyRequests:
		code = "error-too-many-requests"
	default:
		return err // internal: masked by ddp
	}
	return &ddp.Error{Code: code, Reason: e.Message, Details: map[string]any{"method": method}}
}

// newErr is a Rocket.Chat error with the method in its details.
func newErr(code, reason, method string) *ddp.Error {
	return &ddp.Error{Code: code, Reason: reason, Details: map[string]any{"method": method}}
}

// errInvalidUser is what methods that need a signed-in agent answer without one.
func errInvalidUser(method string) *ddp.Error { return newErr(codeInvalidUser, "Invalid user", method) }
