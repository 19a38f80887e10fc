package livechat

import (
	"errors"
	"fmt"
)

// Error types, as LiveChat names them on the wire.
const (
	TypeValidation          = "validation"
	TypeAuthentication      = "authentication"
	TypeAuthorization       = "authorization"
	TypeMissingAccess       = "missing_access"
	TypeNotFound            = "not_found"
	TypeChatInactive        = "chat_inactive"
	TypeAgentOffline        = "agent_offline"
	TypeTooManyRequests     = "too_many_requests"
	TypeInternal            = "internal"
	TypeServiceUnavailable  = "service_unavailable"
	TypeLimitReached        = "limit_reached"
	TypeEntityTooLarge      = "entity_too_large"
	TypeUnsupportedVersion  = "unsupported_version"
	TypeCustomerBanned      = "customer_banned"
	TypeGroupNotFound       = "group_not_found"
	TypeAlreadyExists       = "already_exists"
	TypeRequestTimeout      = "request_timeout"
	TypePendingRequestLimit = "pending_requests_limit_reached"
)

// Error is a typed core error with a stable wire type. Transports turn it
// into their own frame in exactly one place each.
type Error struct {
	Type    string
	Message string
	Data    map[string]any
	Err     error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Type + ": " + e.Message + ": " + e.Err.Error()
	}
	return e.Type + ": " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf builds a typed error.
func Errorf(typ, format string, args ...any) *Error {
	return &Error{Type: typ, Message: fmt.Sprintf(format, args...)}
}

// AsError returns err as a typed *Error; store errors become not_found or
// already_exists, anything else internal.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return &Error{Type: TypeNotFound, Message: "Not found", Err: err}
	case errors.Is(err, ErrConflict):
		return &Error{Type: TypeAlreadyExists, Message: "Already exists", Err: err}
	}
	return &Error{Type: TypeInternal, Message: "Internal server error", Err: err}
}

// IsType says whether err is a typed error of typ.
func IsType(err error, typ string) bool {
	var e *Error
	return errors.As(err, &e) && e.Type == typ
}

func notFound(what string) *Error { return Errorf(TypeNotFound, "%s not found", what) }

// storeErr turns a store lookup error into not_found for what, keeping other errors.
func storeErr(err error, what string) error {
	if errors.Is(err, ErrNotFound) {
		return &Error{Type: TypeNotFound, Message: what + " not found", Err: err}
	}
	return err
}
