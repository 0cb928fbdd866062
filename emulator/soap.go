package emulator

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/sfbatch/sfbatch/emulator/wire"
)

// MaxSOAPLoginVersion is the last API version whose SOAP API offers login();
// later versions answer INVALID_OPERATION, as Salesforce does from 65.0 on.
const MaxSOAPLoginVersion = 64

// Salesforce's refusals of SOAP login(), as its clients report them: the
// call at API 65.0 and later, and the call in an org whose "Enable SOAP API
// login()" setting is off (the default for orgs created from Winter '26 on).
const (
	soapLoginVersionRefusal  = "The SOAP Login operation is not available in the API version specified (%s). Refer to the documentation for supported versions."
	soapLoginDisabledRefusal = "SOAP API login() is disabled by default in this org. Contact the org administrator to enable SOAP API login()."
)

// SetSOAPLoginEnabled turns the org's "Enable SOAP API login()" setting on or
// off (see Config.SOAPLoginDisabled).
func (s *Server) SetSOAPLoginEnabled(enabled bool) { s.soapLoginOff.Store(!enabled) }

// SOAPLoginEnabled reports the org's "Enable SOAP API login()" setting.
func (s *Server) SOAPLoginEnabled() bool { return !s.soapLoginOff.Load() }

// maxSOAPBody bounds a SOAP request body.
const maxSOAPBody = 1 << 20

// soapEnvelope is the part of an incoming SOAP envelope the emulator reads.
// Elements are matched by local name, so any prefix works.
type soapEnvelope struct {
	Header struct {
		SessionHeader struct {
			SessionID string `xml:"sessionId"`
		} `xml:"SessionHeader"`
	} `xml:"Header"`
	Body struct {
		Inner []soapCall `xml:",any"`
	} `xml:"Body"`
}

type soapCall struct {
	XMLName  xml.Name
	Username string `xml:"username"`
	Password string `xml:"password"`
}

// soapEndpoint tells partner (u) and enterprise (c) apart.
type soapEndpoint struct {
	kind    string // "u" or "c"
	version wire.Version
}

func (e soapEndpoint) namespace() string {
	if e.kind == "c" {
		return "urn:enterprise.soap.sforce.com"
	}
	return "urn:partner.soap.sforce.com"
}

func (e soapEndpoint) faultNamespace() string {
	if e.kind == "c" {
		return "urn:fault.enterprise.soap.sforce.com"
	}
	return "urn:fault.partner.soap.sforce.com"
}

// parseSOAPPath parses /services/Soap/{u|c}/{ver}[/{orgId}...].
func parseSOAPPath(p string) (soapEndpoint, bool) {
	rest, ok := strings.CutPrefix(p, "/services/Soap/")
	if !ok {
		return soapEndpoint{}, false
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	if len(parts) < 2 || (parts[0] != "u" && parts[0] != "c") {
		return soapEndpoint{}, false
	}
	v, err := wire.ParseVersion(parts[1])
	if err != nil {
		return soapEndpoint{}, false
	}
	return soapEndpoint{kind: parts[0], version: v}, true
}

func (s *Server) serveSOAP(w http.ResponseWriter, r *http.Request) {
	ep, ok := parseSOAPPath(r.URL.Path)
	if !ok {
		writeSOAPFault(w, soapEndpoint{kind: "u"}, "soapenv:Client", "", "UNKNOWN_EXCEPTION", "Unsupported SOAP endpoint "+r.URL.Path, "")
		return
	}
	if r.Method != http.MethodPost {
		writeSOAPFault(w, ep, "soapenv:Client", "", "UNKNOWN_EXCEPTION", "SOAP requests must use POST", "")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSOAPBody))
	if err != nil {
		writeSOAPFault(w, ep, "soapenv:Client", "", "UNKNOWN_EXCEPTION", "could not read request body", "")
		return
	}
	var env soapEnvelope
	if err := xml.Unmarshal(body, &env); err != nil || len(env.Body.Inner) == 0 {
		writeSOAPFault(w, ep, "soapenv:Client", "", "UNKNOWN_EXCEPTION", "Unable to parse the SOAP request envelope", "")
		return
	}
	if !ep.version.Supported() {
		writeSOAPFault(w, ep, "sf:UNSUPPORTED_API_VERSION", "sf:UnexpectedErrorFault", "UNSUPPORTED_API_VERSION",
			fmt.Sprintf("Invalid Api version specified on URL: %s", ep.version), "")
		return
	}
	call := env.Body.Inner[0]
	switch call.XMLName.Local {
	case "login":
		s.soapLogin(w, r, ep, call)
	case "logout":
		sess := s.sessions.validate(strings.TrimSpace(env.Header.SessionHeader.SessionID))
		if sess == nil {
			writeSOAPFault(w, ep, "sf:INVALID_SESSION_ID", "sf:UnexpectedErrorFault", "INVALID_SESSION_ID",
				"Invalid Session ID found in SessionHeader: Illegal Session", "")
			return
		}
		s.sessions.revoke(sess.Token)
		var b bytes.Buffer
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="`)
		b.WriteString(ep.namespace())
		b.WriteString(`"><soapenv:Body><logoutResponse/></soapenv:Body></soapenv:Envelope>`)
		writeSOAP(w, http.StatusOK, b.Bytes())
	default:
		writeSOAPFault(w, ep, "soapenv:Client", "", "UNKNOWN_EXCEPTION",
			fmt.Sprintf("No operation available for request {%s}%s", call.XMLName.Space, call.XMLName.Local), "")
	}
}

func (s *Server) soapLogin(w http.ResponseWriter, r *http.Request, ep soapEndpoint, call soapCall) {
	if ep.version.Major > MaxSOAPLoginVersion {
		writeSOAPFault(w, ep, "sf:INVALID_OPERATION", "sf:UnexpectedErrorFault", "INVALID_OPERATION",
			fmt.Sprintf(soapLoginVersionRefusal, ep.version), "")
		return
	}
	if s.soapLoginOff.Load() {
		writeSOAPFault(w, ep, "sf:INVALID_OPERATION", "sf:UnexpectedErrorFault", "INVALID_OPERATION", soapLoginDisabledRefusal, "")
		return
	}
	u, err := s.authenticate(call.Username, call.Password)
	if err != nil {
		writeSOAPFault(w, ep, "sf:INVALID_LOGIN", "sf:LoginFault", "INVALID_LOGIN",
			"Invalid username, password, security token; or user locked out.", "")
		return
	}
	sess := s.sessions.issue(u, s.orgID)
	inst := instanceURL(r)
	org15 := s.orgID[:15]
	x := xmlText
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="`)
	b.WriteString(ep.namespace())
	b.WriteString(`" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result>`)
	fmt.Fprintf(&b, `<metadataServerUrl>%s/services/Soap/m/%s/%s</metadataServerUrl>`, x(inst), ep.version, org15)
	b.WriteString(`<passwordExpired>false</passwordExpired><sandbox>false</sandbox>`)
	fmt.Fprintf(&b, `<serverUrl>%s/services/Soap/%s/%s/%s</serverUrl>`, x(inst), ep.kind, ep.version, org15)
	fmt.Fprintf(&b, `<sessionId>%s</sessionId>`, x(sess.Token))
	fmt.Fprintf(&b, `<userId>%s</userId>`, u.id)
	b.WriteString(`<userInfo><accessibilityMode>false</accessibilityMode><currencySymbol>$</currencySymbol>`)
	b.WriteString(`<orgAttachmentFileSizeLimit>5242880</orgAttachmentFileSizeLimit><orgDefaultCurrencyIsoCode>USD</orgDefaultCurrencyIsoCode>`)
	b.WriteString(`<orgDisallowHtmlAttachments>false</orgDisallowHtmlAttachments><orgHasPersonAccounts>false</orgHasPersonAccounts>`)
	fmt.Fprintf(&b, `<organizationId>%s</organizationId>`, s.orgID)
	b.WriteString(`<organizationMultiCurrency>false</organizationMultiCurrency>`)
	fmt.Fprintf(&b, `<organizationName>%s</organizationName>`, x(s.orgName))
	fmt.Fprintf(&b, `<profileId>%s</profileId>`, s.profileID)
	b.WriteString(`<roleId xsi:nil="true"/>`)
	fmt.Fprintf(&b, `<sessionSecondsValid>%d</sessionSecondsValid>`, s.sessions.secondsValid())
	b.WriteString(`<userDefaultCurrencyIsoCode xsi:nil="true"/>`)
	fmt.Fprintf(&b, `<userEmail>%s</userEmail>`, x(u.Email))
	fmt.Fprintf(&b, `<userFullName>%s</userFullName>`, x(u.fullName()))
	fmt.Fprintf(&b, `<userId>%s</userId>`, u.id)
	b.WriteString(`<userLanguage>en_US</userLanguage><userLocale>en_US</userLocale>`)
	fmt.Fprintf(&b, `<userName>%s</userName>`, x(u.Username))
	b.WriteString(`<userTimeZone>America/Los_Angeles</userTimeZone><userType>Standard</userType><userUiSkin>Theme3</userUiSkin>`)
	b.WriteString(`</userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>`)
	writeSOAP(w, http.StatusOK, b.Bytes())
}

func writeSOAP(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", wire.ContentTypeSOAP)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeSOAPFault writes a SOAP 1.1 fault with HTTP 500. faultType names the
// detail element (sf:LoginFault, sf:UnexpectedErrorFault); "" omits detail.
func writeSOAPFault(w http.ResponseWriter, ep soapEndpoint, faultCode, faultType, exceptionCode, message, _ string) {
	var b bytes.Buffer
	esc := xmlText
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="`)
	b.WriteString(ep.faultNamespace())
	b.WriteString(`" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>`)
	fmt.Fprintf(&b, `<faultcode>%s</faultcode>`, esc(faultCode))
	fs := message
	if faultType != "" {
		fs = exceptionCode + ": " + message
	}
	fmt.Fprintf(&b, `<faultstring>%s</faultstring>`, esc(fs))
	if faultType != "" {
		elem := strings.TrimPrefix(faultType, "sf:")
		fmt.Fprintf(&b, `<detail><sf:%s xsi:type="%s"><sf:exceptionCode>%s</sf:exceptionCode><sf:exceptionMessage>%s</sf:exceptionMessage></sf:%s></detail>`,
			elem, faultType, esc(exceptionCode), esc(message), elem)
	}
	b.WriteString(`</soapenv:Fault></soapenv:Body></soapenv:Envelope>`)
	writeSOAP(w, http.StatusInternalServerError, b.Bytes())
}

// errBadCredentials is returned by authenticate for any credential mismatch;
// the caller answers with the API's generic invalid-login shape.
var errBadCredentials = errors.New("invalid credentials")

// xmlText escapes v for use as XML character data.
func xmlText(v string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(v))
	return b.String()
}
