package cli

import (
	"context"
	"errors"
	"strings"

	"github.com/sfbatch/sfbatch/extract"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/soql"
)

// exitCode classifies the error a command returned into the contract's exit
// codes. It is the one place that does: commands return typed errors (or
// wrap them with withExit when only they know the code).
func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, context.Canceled):
		return ExitCancelled
	case isUsageError(err), isQueryError(err):
		return ExitUsage
	case isAuthError(err):
		return ExitAuth
	case isUnreachable(err):
		return ExitUnreachable
	}
	return ExitError
}

// loginError is a failed login: exit 4, or 5 when the login server could not
// be reached.
type loginError struct{ err error }

func (e *loginError) Error() string { return "login: " + e.err.Error() }
func (e *loginError) Unwrap() error { return e.err }

// isAuthError reports whether err is a failed login, or Salesforce refusing
// the session (an invalid or expired token that could not be renewed). The
// refusal is load.AuthRefused's to decide.
func isAuthError(err error) bool {
	var le *loginError
	if errors.As(err, &le) {
		return !isUnreachable(err)
	}
	return load.AuthRefused(err)
}

// isUnreachable reports whether err is the network failing before Salesforce
// answered: DNS, a refused or reset connection, a proxy, or TLS. It is
// load.NetworkFailed.
func isUnreachable(err error) bool { return load.NetworkFailed(err) }

// queryErrorCodes are Salesforce's answers to a query it cannot run as
// written: the user's input is wrong, and nothing was extracted.
var queryErrorCodes = []string{"MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE", "INVALID_QUERY_FILTER_OPERATOR", "INVALIDENTITY", "InvalidEntity"}

// isQueryError reports whether err is a SOQL query that Salesforce (or the
// local parser) refused: a syntax error, an unknown object or field.
func isQueryError(err error) bool {
	var se *soql.Error
	if errors.As(err, &se) {
		return true
	}
	for _, code := range queryErrorCodes {
		if salesforce.IsErrorCode(err, code) {
			return true
		}
	}
	var je *extract.JobError
	if errors.As(err, &je) {
		for _, code := range queryErrorCodes {
			if strings.Contains(je.Message, code) {
				return true
			}
		}
	}
	return false
}

// exitName is the error name a --json error object carries for an exit code.
func exitName(code int) string {
	switch code {
	case ExitUsage:
		return "UsageError"
	case ExitRowsFailed:
		return "RowsNotAllSucceededError"
	case ExitAuth:
		return "AuthError"
	case ExitUnreachable:
		return "OrgUnreachableError"
	case ExitWaitTimeout:
		return "WaitTimeoutError"
	case ExitCancelled:
		return "InterruptedError"
	}
	return "Error"
}
