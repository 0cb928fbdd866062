package conformance

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// soapCreds are what a SOAP login() needs: the emulator's default user, or a real org's
// SF_USERNAME, SF_PASSWORD and SF_SECURITY_TOKEN.
type soapCreds struct {
	loginURL, username, password, securityToken string
	hc                                          *http.Client
}

func soapCredsFor(t *testing.T, e *Env) soapCreds {
	t.Helper()
	if e.Emulator != nil {
		cr := e.Emulator.Credentials()
		return soapCreds{e.Emulator.LoginURL(), cr.Username, cr.Password, cr.SecurityToken, e.Emulator.Client()}
	}
	c := soapCreds{os.Getenv("SF_LOGIN_URL"), os.Getenv("SF_USERNAME"), os.Getenv("SF_PASSWORD"), os.Getenv("SF_SECURITY_TOKEN"), http.DefaultClient}
	if c.username == "" || c.password == "" {
		t.Skip("the org was not reached with a username and password")
	}
	if c.loginURL == "" {
		c.loginURL = salesforce.ProductionLoginURL
	}
	return c
}

// testSOAPLoginVersions: login() is refused at API 65.0 with Salesforce's INVALID_OPERATION
// fault, and the client, pinned to a version that still offers it, logs in while its data
// calls use 65.0.
func testSOAPLoginVersions(t *testing.T, e *Env) {
	cr := soapCredsFor(t, e)
	envelope := `<?xml version="1.0" encoding="utf-8"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com"><env:Body><urn:login><urn:username>` +
		xmlEscape(cr.username) + `</urn:username><urn:password>` + xmlEscape(cr.password+cr.securityToken) + `</urn:password></urn:login></env:Body></env:Envelope>`
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, strings.TrimRight(cr.loginURL, "/")+"/services/Soap/u/65.0", strings.NewReader(envelope))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	req.Header.Set("SOAPAction", "login")
	resp, err := cr.hc.Do(req)
	if err != nil {
		t.Fatalf("login at 65.0: %v", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || !bytes.Contains(body, []byte("INVALID_OPERATION")) ||
		!bytes.Contains(body, []byte("The SOAP Login operation is not available in the API version specified (65.0)")) {
		t.Errorf("login at 65.0 answered %d (want 500 INVALID_OPERATION): %.300s", resp.StatusCode, body)
	}

	c, err := salesforce.Login(t.Context(), salesforce.LoginConfig{
		Flow: salesforce.FlowSOAP, LoginURL: cr.loginURL, HTTPClient: cr.hc,
		Username: cr.username, Password: cr.password, SecurityToken: cr.securityToken,
		APIVersion: "65.0",
	})
	if errors.Is(err, salesforce.ErrSOAPLoginRefused) && e.Emulator == nil {
		t.Skipf("this org refuses SOAP login(): %v", err)
	}
	if err != nil {
		t.Fatalf("SOAP login with data calls at 65.0: %v", err)
	}
	if c.APIVersion() != "65.0" {
		t.Errorf("client API version %s, want 65.0", c.APIVersion())
	}
	if _, err := c.Limits(t.Context()); err != nil {
		t.Errorf("a 65.0 data call with the session from a 64.0 login: %v", err)
	}
}

// testSOAPLoginDisabled: an org whose "Enable SOAP API login()" setting is off refuses
// login() at every version, and the error names the flows that replace it.
func testSOAPLoginDisabled(t *testing.T, e *Env) {
	srv := salesforcetest.New(t, salesforcetest.WithSeed(2))
	srv.Emulator().SetSOAPLoginEnabled(false)
	cr := srv.Credentials()
	_, err := salesforce.Login(t.Context(), salesforce.LoginConfig{
		LoginURL: srv.LoginURL(), HTTPClient: srv.Client(),
		Username: cr.Username, Password: cr.Password, SecurityToken: cr.SecurityToken,
	})
	var refused *salesforce.SOAPLoginRefusedError
	if !errors.As(err, &refused) || !errors.Is(err, salesforce.ErrSOAPLoginRefused) {
		t.Fatalf("login to an org with SOAP login() off: %v, want a SOAPLoginRefusedError", err)
	}
	if refused.Err.ErrorCode != "INVALID_OPERATION" || !strings.Contains(refused.Err.Message, "SOAP API login() is disabled by default in this org") {
		t.Errorf("fault = %s: %s", refused.Err.ErrorCode, refused.Err.Message)
	}
	for _, flow := range []string{"JWT bearer", "client credentials", "refresh token"} {
		if !strings.Contains(err.Error(), flow) {
			t.Errorf("error does not name %s: %v", flow, err)
		}
	}
	if strings.Contains(err.Error(), cr.Password) {
		t.Error("error shows the password")
	}
}

func xmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
