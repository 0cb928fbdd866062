package salesforce

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseErrorBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		ctype  string
		body   string
		format errFormat
		want   APIError
		msgHas string // when Message is a description
	}{
		{
			name: "rest array", status: 400, ctype: "application/json;charset=UTF-8",
			body: `[{"message":"Required fields are missing: [LastName]","errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName"]}]`,
			want: APIError{StatusCode: 400, ErrorCode: "REQUIRED_FIELD_MISSING", Message: "Required fields are missing: [LastName]", Fields: []string{"LastName"},
				Details: []ErrorDetail{{ErrorCode: "REQUIRED_FIELD_MISSING", Message: "Required fields are missing: [LastName]", Fields: []string{"LastName"}}}},
		},
		{
			name: "rest array several", status: 400,
			body: `[{"message":"a","errorCode":"A"},{"message":"b","errorCode":"B","fields":[]}]`,
			want: APIError{StatusCode: 400, ErrorCode: "A", Message: "a", Details: []ErrorDetail{{ErrorCode: "A", Message: "a"}, {ErrorCode: "B", Message: "b"}}},
		},
		{
			name: "invalid session", status: 401,
			body: `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`,
			want: APIError{StatusCode: 401, ErrorCode: "INVALID_SESSION_ID", Message: "Session expired or invalid", Details: []ErrorDetail{{ErrorCode: "INVALID_SESSION_ID", Message: "Session expired or invalid"}}},
		},
		{
			name: "bare rest object", status: 404,
			body: `{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}`,
			want: APIError{StatusCode: 404, ErrorCode: "NOT_FOUND", Message: "The requested resource does not exist"},
		},
		{
			name: "bulk1 xml", status: 400, ctype: "application/xml", format: errBulk1,
			body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<error xmlns=\"http://www.force.com/2009/06/asyncapi/dataload\">\n  <exceptionCode>InvalidJob</exceptionCode>\n  <exceptionMessage>Invalid job id: 7505g00000FAKE1</exceptionMessage>\n</error>",
			want: APIError{StatusCode: 400, ErrorCode: "InvalidJob", Message: "Invalid job id: 7505g00000FAKE1"},
		},
		{
			name: "bulk1 json", status: 400, ctype: "application/json", format: errBulk1,
			body: `{"exceptionCode":"InvalidSessionId","exceptionMessage":"Invalid session id"}`,
			want: APIError{StatusCode: 400, ErrorCode: "InvalidSessionId", Message: "Invalid session id"},
		},
		{
			name: "bulk1 json nested", status: 400, format: errBulk1,
			body: `{"error":{"exceptionCode":"InvalidBatch","exceptionMessage":"Records not found"}}`,
			want: APIError{StatusCode: 400, ErrorCode: "InvalidBatch", Message: "Records not found"},
		},
		{
			name: "oauth invalid client id", status: 400, ctype: "application/json",
			body: "{\"error\": \"invalid_client_id\", \"error_description\": \"client identifier invalid\"}\n",
			want: APIError{StatusCode: 400, ErrorCode: "invalid_client_id", Message: "client identifier invalid"},
		},
		{
			name: "oauth not approved", status: 400,
			body: `{"error": "invalid_grant", "error_description": "user hasn't approved this consumer"}`,
			want: APIError{StatusCode: 400, ErrorCode: "invalid_grant", Message: "user hasn't approved this consumer"},
		},
		{
			name: "soap fault sample", status: 500, ctype: "text/xml", format: errSOAP,
			body: `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: Invalid username, password, security token; or user locked out.</faultstring><detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode><sf:exceptionMessage>Invalid username, password, security token; or user locked out.</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
			want: APIError{StatusCode: 500, ErrorCode: "INVALID_LOGIN", Message: "Invalid username, password, security token; or user locked out."},
		},
		{
			name: "soap fault without detail", status: 500, format: errSOAP,
			body: `<se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Body><se:Fault><faultcode>sf:INVALID_SESSION_ID</faultcode><faultstring>INVALID_SESSION_ID: Invalid Session ID found in SessionHeader</faultstring></se:Fault></se:Body></se:Envelope>`,
			want: APIError{StatusCode: 500, ErrorCode: "INVALID_SESSION_ID", Message: "Invalid Session ID found in SessionHeader"},
		},
		{
			name: "multiple choices", status: 300,
			body: `["/services/data/v62.0/sobjects/Account/001A","/services/data/v62.0/sobjects/Account/001B"]`,
			want: APIError{StatusCode: 300, ErrorCode: "MULTIPLE_CHOICES", Message: "2 records match: /services/data/v62.0/sobjects/Account/001A, /services/data/v62.0/sobjects/Account/001B"},
		},
		{name: "malformed json", status: 400, ctype: "application/json", body: `[{"message":"x","errorCode":`, want: APIError{StatusCode: 400}, msgHas: `malformed REST error body (Content-Type "application/json")`},
		{name: "malformed xml", status: 400, ctype: "application/xml", format: errBulk1, body: `<error><exceptionCode>X</error>`, want: APIError{StatusCode: 400}, msgHas: "malformed Bulk API 1.0 error body"},
		{name: "html", status: 502, ctype: "text/html", body: `<html><body>Bad Gateway</body></html>`, want: APIError{StatusCode: 502}, msgHas: "malformed REST error body"},
		{name: "empty", status: 503, want: APIError{StatusCode: 503}, msgHas: "Service Unavailable (empty body)"},
		{name: "json without codes", status: 400, body: `{"foo":1}`, want: APIError{StatusCode: 400}, msgHas: "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := parseErrorBody(tt.status, tt.ctype, []byte(tt.body), false, tt.format)
			if tt.msgHas != "" {
				if !strings.Contains(got.Message, tt.msgHas) {
					t.Errorf("Message = %q, want containing %q", got.Message, tt.msgHas)
				}
				got.Message = ""
			}
			if diff := cmp.Diff(&tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("parseErrorBody (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAPIErrorString(t *testing.T) {
	t.Parallel()
	e := &APIError{StatusCode: 400, ErrorCode: "REQUIRED_FIELD_MISSING", Message: "Required fields are missing: [LastName]", Fields: []string{"LastName"},
		Details: []ErrorDetail{{}, {}}, Method: "POST", URL: "https://x/services/data/v62.0/sobjects/Contact"}
	want := "salesforce: POST https://x/services/data/v62.0/sobjects/Contact: 400 REQUIRED_FIELD_MISSING: Required fields are missing: [LastName] (fields: LastName) (and 1 more)"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q\nwant      %q", got, want)
	}
	wrapped := fmt.Errorf("loading: %w", e)
	if !IsErrorCode(wrapped, "REQUIRED_FIELD_MISSING") || IsErrorCode(wrapped, "OTHER") || IsErrorCode(errors.New("x"), "x") {
		t.Error("IsErrorCode")
	}
}

func TestSanitizeURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"https://user:pw@x.my.salesforce.com/services/data/v62.0/query?q=SELECT+Id", "https://x.my.salesforce.com/services/data/v62.0/query?q=SELECT+Id"},
		{"https://x/cb?access_token=SECRET&state=1", "https://x/cb?access_token=REDACTED&state=1"},
		{"https://x/t?client_secret=S&refresh_token=R&password=P", "https://x/t?client_secret=REDACTED&password=REDACTED&refresh_token=REDACTED"},
		{"::not a url", "<unparseable URL>"},
	} {
		if got := sanitizeURL(tt.in); got != tt.want {
			t.Errorf("sanitizeURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestOversizedErrorBody(t *testing.T) {
	t.Parallel()
	huge := `[{"message":"` + strings.Repeat("x", 200<<10) + `","errorCode":"BIG"}]`
	_, c := coreServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		io.WriteString(w, huge)
	}))
	_, err := c.Limits(t.Context())
	var e *APIError
	if !errors.As(err, &e) || e.StatusCode != 400 {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(e.Message, "larger than 65536 bytes") || len(err.Error()) > 1024 {
		t.Errorf("message %q (len %d)", e.Message[:min(len(e.Message), 200)], len(err.Error()))
	}
}

func TestErrorRedactsEchoedToken(t *testing.T) {
	t.Parallel()
	_, c := coreServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		coreRESTError(w, 400, "INVALID_HEADER", "bad header: "+r.Header.Get("Authorization"))
	}))
	_, err := c.Versions(t.Context())
	if err == nil || strings.Contains(err.Error(), "SECRET-TOKEN") || !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("err = %v", err)
	}
}

func FuzzParseErrorBody(f *testing.F) {
	for _, seed := range []string{
		`[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`,
		`[{"message":"m","errorCode":"C","fields":"one"}]`,
		`{"error":"invalid_grant","error_description":"authentication failure"}`,
		`{"exceptionCode":"InvalidJob","exceptionMessage":"x"}`,
		`{"error":{"error":{"exceptionCode":"X"}}}`,
		`<error><exceptionCode>InvalidSessionId</exceptionCode><exceptionMessage>Invalid session id</exceptionMessage></error>`,
		`<Envelope><Body><Fault><faultcode>sf:X</faultcode><faultstring>X: y</faultstring></Fault></Body></Envelope>`,
		`["/a","/b"]`, ``, `<`, `[`, `{`,
	} {
		f.Add(400, []byte(seed))
	}
	f.Add(500, coreTestdata(f, "auth-soap-login-fault-invalid-login.xml"))
	f.Add(400, coreTestdata(f, "auth-oauth2-token-error-user-not-approved.json"))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := parseErrorBody(status, "application/octet-stream", body, false, errREST)
		if e == nil || e.StatusCode != status {
			t.Fatalf("got %+v", e)
		}
		if e.ErrorCode == "" && e.Message == "" {
			t.Fatalf("no code and no message for %q", body)
		}
		_ = e.Error()
		if strings.HasPrefix(e.Message, "malformed") && len(e.Message) > 1024 {
			t.Fatalf("description quotes too much of the body: %d bytes", len(e.Message))
		}
	})
}

// TestIsErrorCodeJoined checks that IsErrorCode looks at every *APIError in
// the tree, as CompositeBatch.Execute with GroupErrors joins one per failed
// subrequest.
func TestIsErrorCodeJoined(t *testing.T) {
	t.Parallel()
	first := &APIError{StatusCode: 400, ErrorCode: "REQUIRED_FIELD_MISSING"}
	second := &APIError{StatusCode: 404, ErrorCode: "NOT_FOUND", Details: []ErrorDetail{{ErrorCode: "NOT_FOUND"}, {ErrorCode: "ENTITY_IS_DELETED"}}}
	joined := fmt.Errorf("batch: %w", errors.Join(first, fmt.Errorf("subrequest 2: %w", second)))
	for _, code := range []string{"REQUIRED_FIELD_MISSING", "NOT_FOUND", "ENTITY_IS_DELETED"} {
		if !IsErrorCode(joined, code) {
			t.Errorf("IsErrorCode(joined, %s) = false", code)
		}
	}
	if IsErrorCode(joined, "OTHER") || IsErrorCode(nil, "") {
		t.Error("IsErrorCode matched a code that is not there")
	}
}
