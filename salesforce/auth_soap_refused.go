package salesforce

import (
	"errors"
	"strings"
)

// ErrSOAPLoginRefused matches (with errors.Is) a *SOAPLoginRefusedError.
var ErrSOAPLoginRefused = errors.New("salesforce: the org refused SOAP login()")

// SOAPLoginReplacementFlows names the login flows that replace SOAP login(), for messages.
const SOAPLoginReplacementFlows = "the OAuth JWT bearer flow (a connected app's certificate and private key), the client credentials flow (a connected app with a run-as user, on the My Domain URL) or a refresh token (an SFDX auth URL)"

// SOAPLoginRefusedError is returned by SOAPLogin when Salesforce refuses the login() call
// itself rather than the credentials: the org has not enabled "SOAP API login()" (disabled
// by default in orgs created from Winter '26 on), the API version no longer offers it (65.0
// and later), or the user lacks the Use Any API Auth permission. Its message names the flows
// that replace SOAP login. Err is Salesforce's fault.
type SOAPLoginRefusedError struct {
	Err *APIError
}

// Error describes the refusal and what to use instead.
func (e *SOAPLoginRefusedError) Error() string {
	return "salesforce: Salesforce refused SOAP login() (" + e.Err.ErrorCode + ": " + e.Err.Message +
		"); username-password login is being retired: log in with " + SOAPLoginReplacementFlows
}

// Unwrap returns the fault, so errors.As finds the *APIError too.
func (e *SOAPLoginRefusedError) Unwrap() error { return e.Err }

// Is reports whether target is ErrSOAPLoginRefused.
func (e *SOAPLoginRefusedError) Is(target error) bool { return target == ErrSOAPLoginRefused }

// soapLoginError wraps a login fault that refuses the login() call itself in a
// *SOAPLoginRefusedError; other faults (INVALID_LOGIN and the like) are returned as they are.
//
// Salesforce's refusals, as its clients report them:
//
//	INVALID_OPERATION: SOAP API login() is disabled by default in this org. Contact the org administrator to enable SOAP API login().
//	INVALID_OPERATION: The SOAP Login operation is not available in the API version specified (65.0). Refer to the documentation for supported versions.
//	INSUFFICIENT_ACCESS (the user lacks the Use Any API Auth permission)
func soapLoginError(e *APIError) error {
	if isSOAPLoginRefusal(e) {
		return &SOAPLoginRefusedError{Err: e}
	}
	return e
}

func isSOAPLoginRefusal(e *APIError) bool {
	switch e.ErrorCode {
	case "INVALID_OPERATION":
		return strings.Contains(strings.ToLower(e.Message), "login")
	case "UNSUPPORTED_API_VERSION", "INSUFFICIENT_ACCESS":
		return true
	}
	return false
}
