package rest

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/chatbridge/chatbridge/livechat"
)

// statusOf maps a LiveChat error type to its HTTP status (LiveChat documents
// the types, not the statuses; these follow its SDKs' expectations).
func statusOf(typ string) int {
	switch typ {
	case livechat.TypeValidation, livechat.TypeChatInactive, livechat.TypeAgentOffline,
		livechat.TypeLimitReached, livechat.TypeUnsupportedVersion, livechat.TypeGroupNotFound,
		livechat.TypeGroupOffline, livechat.TypeGroupUnavailable:
		return http.StatusBadRequest
	case livechat.TypeAuthentication:
		return http.StatusUnauthorized
	case livechat.TypeAuthorization, livechat.TypeMissingAccess, livechat.TypeCustomerBanned:
		return http.StatusForbidden
	case livechat.TypeNotFound, livechat.TypeLicenseNotFound, livechat.TypeGreetingNotFound:
		return http.StatusNotFound
	case livechat.TypeAlreadyExists:
		return http.StatusConflict
	case livechat.TypeEntityTooLarge:
		return http.StatusRequestEntityTooLarge
	case livechat.TypeTooManyRequests:
		return http.StatusTooManyRequests
	case livechat.TypeServiceUnavailable:
		return http.StatusServiceUnavailable
	case livechat.TypeRequestTimeout:
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// typeOfStatus names the error type of a plain HTTP failure (no route, bad method, ...).
func typeOfStatus(status int) string {
	switch status {
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return livechat.TypeNotFound
	case http.StatusUnauthorized:
		return livechat.TypeAuthentication
	case http.StatusForbidden:
		return livechat.TypeAuthorization
	case http.StatusRequestEntityTooLarge:
		return livechat.TypeEntityTooLarge
	case http.StatusTooManyRequests:
		return livechat.TypeTooManyRequests
	case http.StatusServiceUnavailable:
		return livechat.TypeServiceUnavailable
	}
	if status >= 400 && status < 500 {
		return livechat.TypeValidation
	}
	return livechat.TypeInternal
}

// ErrorBody is LiveChat's error envelope.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of the envelope.
type ErrorDetail struct {
	Type    string         `json:"type"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data,omitempty"`
}

// OAuthError is the accounts-style error of the token endpoints
// (`{"oauth_exception": …}` or `{"identity_exception": …}`), written as is.
type OAuthError struct {
	Status int
	Body   map[string]string
}

func (e *OAuthError) Error() string { return e.Body["exception_description"] }

func oauthErr(status int, code, description string) *OAuthError {
	return &OAuthError{Status: status, Body: map[string]string{"oauth_exception": code, "exception_description": description}}
}

func identityErr(status int, code, description string) *OAuthError {
	return &OAuthError{Status: status, Body: map[string]string{"identity_exception": code, "exception_description": description}}
}

// errorHandler is the one place errors become HTTP responses.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, body := s.errorResponse(err)
	if status >= 500 {
		s.log.Error("request failed", "request_id", c.Response().Header().Get(echo.HeaderXRequestID), "path", c.Path(), "err", err)
	}
	s.metrics.errors.WithLabelValues(errorTypeLabel(body)).Inc()
	if c.Request().Method == http.MethodHead {
		err = c.NoContent(status)
	} else {
		err = c.JSON(status, body)
	}
	if err != nil {
		s.log.Debug("error response not written", "err", err)
	}
}

func (s *Server) errorResponse(err error) (int, any) {
	var oe *OAuthError
	if errors.As(err, &oe) {
		return oe.Status, oe.Body
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && m != "" {
			msg = m
		}
		return he.Code, ErrorBody{Error: ErrorDetail{Type: typeOfStatus(he.Code), Message: msg}}
	}
	le := livechat.AsError(err)
	msg := le.Message
	if le.Type == livechat.TypeInternal {
		msg = "Internal server error" // causes stay in the log, not on the wire
	}
	return statusOf(le.Type), ErrorBody{Error: ErrorDetail{Type: le.Type, Message: msg, Data: le.Data}}
}

func errorTypeLabel(body any) string {
	switch b := body.(type) {
	case ErrorBody:
		return b.Error.Type
	case map[string]string:
		if v, ok := b["oauth_exception"]; ok {
			return "oauth_" + v
		}
		return "identity_" + b["identity_exception"]
	}
	return "unknown"
}
