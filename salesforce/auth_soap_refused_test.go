package salesforce

import (
	"errors"
	"strings"
	"testing"
)

// soapFault builds a partner login fault as Salesforce sends it.
func soapFault(code, message, faultType string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>` +
		`<faultcode>sf:` + code + `</faultcode><faultstring>` + code + `: ` + message + `</faultstring>` +
		`<detail><sf:` + faultType + ` xsi:type="sf:` + faultType + `"><sf:exceptionCode>` + code + `</sf:exceptionCode><sf:exceptionMessage>` + message +
		`</sf:exceptionMessage></sf:` + faultType + `></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`
}

func TestSOAPLoginRefusal(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, code, message, faultType string
		refused                        bool
	}{
		{"disabled in the org", "INVALID_OPERATION", "SOAP API login() is disabled by default in this org. Contact the org administrator to enable SOAP API login().", "UnexpectedErrorFault", true},
		{"API 65.0", "INVALID_OPERATION", "The SOAP Login operation is not available in the API version specified (65.0). Refer to the documentation for supported versions.", "UnexpectedErrorFault", true},
		{"no Use Any API Auth permission", "INSUFFICIENT_ACCESS", "insufficient access rights on object id", "UnexpectedErrorFault", true},
		{"wrong password", "INVALID_LOGIN", "Invalid username, password, security token; or user locked out.", "LoginFault", false},
		{"another invalid operation", "INVALID_OPERATION", "invalid operation on the record", "UnexpectedErrorFault", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := parseSOAPLoginResponse([]byte(soapFault(tt.code, tt.message, tt.faultType)))
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("fault parsed as %v", err)
			}
			err = soapLoginError(ae)
			var refused *SOAPLoginRefusedError
			if got := errors.As(err, &refused); got != tt.refused || errors.Is(err, ErrSOAPLoginRefused) != tt.refused {
				t.Fatalf("refused = %v, want %v (%v)", got, tt.refused, err)
			}
			if !errors.As(err, &ae) || ae.ErrorCode != tt.code {
				t.Errorf("the fault is not reachable through errors.As: %v", err)
			}
			if tt.refused {
				for _, want := range []string{tt.message, "JWT bearer", "client credentials", "refresh token"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("message lacks %q: %v", want, err)
					}
				}
			}
		})
	}
}
