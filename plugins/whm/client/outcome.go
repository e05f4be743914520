package client

import (
	"fmt"
	"strings"

	"github.com/deskbot/deskbot/sdk/httpapi"
)

// long are the functions WHM can take minutes over: they get LongTimeout,
// and a lost answer says WHM may still be finishing.
var long = map[string]bool{
	"createacct": true, "removeacct": true, "restoreaccount": true, "modifyacct": true, "massmodifyacct": true,
	"terminatereseller": true, "start_local_cpmove_restore": true, "restore_queue_activate": true,
}

// Long reports whether WHM can take minutes over fn.
func Long(fn string) bool { return long[fn] }

// OutcomeUnknownError is a change whose answer was lost after it was sent
// (a timeout, a reset, a gateway's 502): WHM may have carried it out, or
// may still be at it. It was not sent again. It wraps
// [httpapi.ErrOutcomeUnknown].
type OutcomeUnknownError struct {
	Function string
	// Check is how the user can see what happened.
	Check string
	// Long is set for functions WHM can take minutes over.
	Long  bool
	cause string
}

func (e *OutcomeUnknownError) Error() string {
	msg := fmt.Sprintf("WHM %s: %s", e.Function, e.cause)
	if e.Long {
		msg += fmt.Sprintf("; WHM may still be finishing %s, which can take minutes", e.Function)
	}
	return msg + "; it was not sent again. Check with " + e.Check + " before trying again"
}

// Unwrap makes errors.Is(err, httpapi.ErrOutcomeUnknown) hold.
func (e *OutcomeUnknownError) Unwrap() error { return httpapi.ErrOutcomeUnknown }

// CheckHint says how a user sees whether a call of fn with args took
// effect: the command that shows what it changes.
func CheckHint(fn string, args Args) string {
	user := first(args, "username", "user")
	domain := first(args, "domain", "zone")
	acct := func() string {
		if user != "" {
			return "`/whm account info " + user + "`"
		}
		return "`/whm account list`"
	}
	switch fn {
	case "createacct", "removeacct", "modifyacct", "suspendacct", "unsuspendacct", "passwd", "changepackage", "limitbw",
		"editquota", "hold_outgoing_email", "release_outgoing_email", "suspend_outgoing_email", "unsuspend_outgoing_email":
		return acct()
	case "restoreaccount", "start_local_cpmove_restore":
		return acct() + " and `/whm restore status`"
	case "restore_queue_add_task", "restore_queue_activate", "restore_queue_clear_pending_task":
		return "`/whm restore status`"
	case "massmodifyacct", "terminatereseller":
		return "`/whm account list`"
	case "addzonerecord", "editzonerecord", "removezonerecord", "mass_edit_dns_zone", "resetzone":
		if domain != "" {
			return "`/whm dns zone " + domain + "`"
		}
		return "`/whm dns zones`"
	case "killdns":
		return "`/whm dns zones`"
	case "killpkg":
		return "`/whm package list`"
	case "create_cphulk_record", "delete_cphulk_record":
		if l := first(args, "list_name"); l != "" {
			return "`/whm hulk list " + l + "`"
		}
		return "`/whm hulk list white` and `/whm hulk list black`"
	case "flush_cphulk_login_history_for_ips":
		return "`/whm hulk blocked`"
	case "restartservice":
		return "`/whm service status " + first(args, "service") + "`"
	case "start_autossl_check_for_one_user":
		return "`/whm ssl problems " + user + "`"
	}
	return "the server (WHM's own pages, or a `/whm call` of a function that reads what " + fn + " changes)"
}

func first(a Args, keys ...string) string {
	for _, k := range keys {
		if v := strings.TrimSpace(a.Get(k)); v != "" {
			return v
		}
	}
	return ""
}
