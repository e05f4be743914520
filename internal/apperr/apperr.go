// Package apperr is the bot's one error type: a code that callers branch
// on and a message fit to show a user. Any other error is shown to users
// as "internal error" and logged in full.
package apperr

import (
	"errors"
	"fmt"
)

// Code classifies an error.
type Code string

const (
	Invalid     Code = "invalid"     // the user's input is wrong
	Denied      Code = "denied"      // the policy says no
	NotFound    Code = "not_found"   // no such thing
	Conflict    Code = "conflict"    // the state changed under the request
	Unavailable Code = "unavailable" // a plugin or the store is down
	Timeout     Code = "timeout"     // a deadline passed
	Canceled    Code = "canceled"    // the user gave up
	Failed      Code = "failed"      // the provider refused or failed
	Internal    Code = "internal"
)

// Error is an error with a code and a user-facing message.
type Error struct {
	Code Code
	// Msg is shown to users; it never carries secrets.
	Msg string
	// Err is the cause, for logs.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a code and a message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with a code and message around a cause.
func Wrap(err error, code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...), Err: err}
}

// CodeOf returns the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Message returns what a user may see of err.
func Message(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Msg
	}
	return "internal error"
}
