package ddp

import (
	"errors"
	"fmt"
	"time"
)

// Error is a client-safe method or subscription error, sent as a
// Meteor.Error inside `result.error` or `nosub.error`:
//
//	{"isClientSafe":true,"error":<Code>,"reason":<Reason>,"details":<Details>,
//	 "message":"<Reason> [<Code>]","errorType":"Meteor.Error"}
//
// message and errorType are derived, so they always agree with Code and
// Reason. A handler error that is not (and does not wrap) an *Error is
// masked as 500 "Internal server error" and logged, never sent.
type Error struct {
	// Code is the machine code: a string ("error-invalid-room") or a number
	// (403); clients accept both.
	Code any
	// Reason is short human-readable text.
	Reason string
	// Details is optional extra data (EJSON), e.g. {"method": "sendMessage"}.
	Details any

	cause error // for logs only, never sent
}

// Unwrap returns the internal cause (such as a parameter's decoding error),
// which is logged and never sent.
func (e *Error) Unwrap() error { return e.cause }

// NewError returns an *Error with code and reason.
func NewError(code any, reason string) *Error { return &Error{Code: code, Reason: reason} }

// Error returns Meteor's message: "<reason> [<code>]", or "[<code>]".
func (e *Error) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("[%v]", e.Code)
	}
	return fmt.Sprintf("%s [%v]", e.Reason, e.Code)
}

// Errors ddp itself answers with.
var (
	errInternal = &Error{Code: 500, Reason: "Internal server error"}
	// errMatchFailed is what Meteor's check() failures become on the wire.
	errMatchFailed = &Error{Code: 400, Reason: "Match failed"}
)

func methodNotFound(name string) *Error {
	return &Error{Code: 404, Reason: fmt.Sprintf("Method '%s' not found", name)}
}

func subNotFound(name string) *Error {
	return &Error{Code: 404, Reason: fmt.Sprintf("Subscription '%s' not found", name)}
}

// tooManyRequests is the rate limiter's refusal; ttr is rounded up to whole
// milliseconds and, in the text, to whole seconds.
func tooManyRequests(ttr time.Duration) *Error {
	ms := int64((ttr + time.Millisecond - 1) / time.Millisecond)
	return &Error{
		Code:    "too-many-requests",
		Reason:  fmt.Sprintf("Error, too many requests. Please slow down. You must wait %d seconds before trying again.", (ms+999)/1000),
		Details: map[string]any{"timeToReset": ms},
	}
}

// clientError is the one place a handler's error becomes what the client
// sees: the *Error it is or wraps, or the masked internal error (internal
// reports that the caller should log err).
func clientError(err error) (e *Error, internal bool) {
	if errors.As(err, &e) && e != nil {
		return e, false
	}
	return errInternal, true
}

// appendError appends e's wire object. Details that cannot be encoded are
// dropped (and reported) rather than failing the whole message.
func appendError(dst []byte, e *Error) ([]byte, error) {
	dst = append(dst, `{"isClientSafe":true,"error":`...)
	var err error
	if dst, err = AppendEJSON(dst, e.Code); err != nil {
		dst = append(dst, "500"...)
	}
	if e.Reason != "" {
		dst = append(dst, `,"reason":`...)
		dst = appendString(dst, e.Reason)
	}
	if e.Details != nil {
		n := len(dst)
		dst = append(dst, `,"details":`...)
		var derr error
		if dst, derr = AppendEJSON(dst, e.Details); derr != nil {
			dst = dst[:n]
			err = errors.Join(err, derr)
		}
	}
	dst = append(dst, `,"message":`...)
	dst = appendString(dst, e.Error())
	dst = append(dst, `,"errorType":"Meteor.Error"}`...)
	return dst, err
}
