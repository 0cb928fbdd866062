package salesforce

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// APIError is an error response from Salesforce. Every API's error shape is decoded into it:
// REST and Bulk 2.0 JSON arrays ([{"message","errorCode","fields"}]), Bulk API 1.0
// <error><exceptionCode> XML and its JSON form, OAuth {"error","error_description"} and SOAP
// faults. Use errors.As to branch on it, or IsErrorCode.
//
// Error never includes tokens, passwords or request bodies, and URL is sanitized.
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// ErrorCode is Salesforce's code ("INVALID_SESSION_ID", "MALFORMED_QUERY", Bulk 1.0
	// "InvalidJob", OAuth "invalid_grant", SOAP "INVALID_LOGIN"); empty if the body had none.
	ErrorCode string
	// Message is Salesforce's message, or a description of an unreadable body.
	Message string
	// Fields names the fields the error is about, when the server says.
	Fields []string
	// Details holds every error when the server sent several (REST arrays); the first is also
	// in ErrorCode, Message and Fields.
	Details []ErrorDetail
	// Method and URL of the request; URL has credentials and secret parameters removed.
	Method, URL string
	// RetryAfter is the server's Retry-After, if it sent one.
	RetryAfter time.Duration
}

// ErrorDetail is one entry of a REST error array.
type ErrorDetail struct {
	ErrorCode string   `json:"errorCode"`
	Message   string   `json:"message"`
	Fields    []string `json:"fields,omitempty"`
}

// Error formats the error as "salesforce: METHOD URL: STATUS CODE: message".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("salesforce: ")
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteByte(' ')
		b.WriteString(e.URL)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%d", e.StatusCode)
	if e.ErrorCode != "" {
		b.WriteByte(' ')
		b.WriteString(e.ErrorCode)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Fields) > 0 {
		b.WriteString(" (fields: ")
		b.WriteString(strings.Join(e.Fields, ", "))
		b.WriteByte(')')
	}
	if n := len(e.Details); n > 1 {
		fmt.Fprintf(&b, " (and %d more)", n-1)
	}
	return b.String()
}

// Is reports whether target is ErrSessionExpired and e is an expired-session error, so
// errors.Is(err, ErrSessionExpired) holds for both.
func (e *APIError) Is(target error) bool {
	return target == ErrSessionExpired && e.isInvalidSession()
}

// IsErrorCode reports whether err is (or wraps) an *APIError with the given code, in its main
// code or any of its details.
//
// Every *APIError in err's tree is checked, including each error of an errors.Join (as
// CompositeBatch.Execute returns with GroupErrors), not only the first one errors.As finds.
func IsErrorCode(err error, code string) bool {
	switch e := err.(type) {
	case nil:
		return false
	case *APIError:
		if e.ErrorCode == code {
			return true
		}
		for _, d := range e.Details {
			if d.ErrorCode == code {
				return true
			}
		}
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return IsErrorCode(u.Unwrap(), code)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if IsErrorCode(e, code) {
				return true
			}
		}
	}
	return false
}

// isInvalidSession reports whether the server rejected the session: REST INVALID_SESSION_ID,
// Bulk 1.0 InvalidSessionId, SOAP sf:INVALID_SESSION_ID, or a 401 without a code.
func (e *APIError) isInvalidSession() bool {
	switch e.ErrorCode {
	case "INVALID_SESSION_ID", "InvalidSessionId":
		return true
	case "":
		return e.StatusCode == http.StatusUnauthorized
	}
	return false
}

// redact removes each secret from the messages (in case a server echoed one). Secrets are
// removed longest first, so a secret that contains another (password+security token) goes
// whole; secrets shorter than 4 bytes are left alone, as replacing them would garble the text.
func (e *APIError) redact(secrets ...string) {
	secrets = slices.Clone(secrets)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, secret := range secrets {
		if len(secret) < 4 {
			continue
		}
		e.Message = strings.ReplaceAll(e.Message, secret, "[REDACTED]")
		for i := range e.Details {
			e.Details[i].Message = strings.ReplaceAll(e.Details[i].Message, secret, "[REDACTED]")
		}
	}
}

// CheckResponse returns nil for a 2xx response. For any other status it reads at most
// MaxErrorBodyBytes of resp's body, closes it and returns the *APIError the body describes
// (status, code, message, fields, Retry-After), with the request's method and its URL
// sanitized of credentials. It understands every error shape Salesforce uses (REST JSON,
// Bulk API 1.0 XML and JSON, SOAP faults). Use it on responses of requests sent without the
// Client, such as a raw http.Client call to an instance.
func CheckResponse(resp *http.Response) error {
	method, rawURL := "", ""
	if resp.Request != nil {
		method = resp.Request.Method
		if resp.Request.URL != nil {
			rawURL = resp.Request.URL.String()
		}
	}
	if e := checkResponse(resp, method, rawURL, errREST); e != nil {
		return e
	}
	return nil
}

// checkResponse is CheckResponse with the request's method, URL and error format given.
func checkResponse(resp *http.Response, method, rawURL string, format errFormat) *APIError {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return decodeError(resp, method, rawURL, format)
}

// decodeError reads (at most MaxErrorBodyBytes of) resp's body, closes it and returns the
// error it describes.
func decodeError(resp *http.Response, method, rawURL string, format errFormat) *APIError {
	body, truncated := readLimited(resp.Body, MaxErrorBodyBytes)
	resp.Body.Close()
	e := parseErrorBody(resp.StatusCode, resp.Header.Get("Content-Type"), body, truncated, format)
	e.Method = method
	e.URL = sanitizeURL(rawURL)
	e.RetryAfter = retryAfter(resp)
	return e
}

// readLimited reads up to limit bytes, then discards (a bounded amount of) the rest so the
// connection can be reused.
func readLimited(r io.Reader, limit int64) ([]byte, bool) {
	b, _ := io.ReadAll(io.LimitReader(r, limit+1))
	if int64(len(b)) > limit {
		_, _ = io.CopyN(io.Discard, r, 4<<20)
		return b[:limit], true
	}
	return b, false
}

// parseErrorBody turns an error body of any Salesforce shape into an *APIError (without
// Method and URL). It never fails: unreadable bodies are described in Message.
func parseErrorBody(status int, contentType string, body []byte, truncated bool, format errFormat) *APIError {
	e := &APIError{StatusCode: status}
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))
	ok := false
	if len(trimmed) > 0 {
		switch trimmed[0] {
		case '[':
			ok = e.parseJSONArray(trimmed)
		case '{':
			ok = e.parseJSONObject(trimmed)
		case '<':
			ok = e.parseXML(trimmed)
		}
	}
	if ok {
		return e
	}
	switch {
	case len(trimmed) == 0:
		e.Message = "empty error body"
		if t := http.StatusText(status); t != "" {
			e.Message = t + " (empty body)"
		}
	case truncated:
		e.Message = fmt.Sprintf("error body larger than %d bytes (Content-Type %q), starting %s", MaxErrorBodyBytes, contentType, snippet(trimmed))
	default:
		e.Message = fmt.Sprintf("malformed %s error body (Content-Type %q): %s", formatName(format), contentType, snippet(trimmed))
	}
	return e
}

func formatName(f errFormat) string {
	switch f {
	case errBulk1:
		return "Bulk API 1.0"
	case errSOAP:
		return "SOAP"
	}
	return "REST"
}

// snippet quotes the start of an unreadable body for an error message.
func snippet(b []byte) string {
	const max = 120
	if len(b) > max {
		return fmt.Sprintf("%q…", b[:max])
	}
	return fmt.Sprintf("%q", b)
}

func (e *APIError) parseJSONArray(b []byte) bool {
	var items []struct {
		ErrorCode  string          `json:"errorCode"`
		StatusCode string          `json:"statusCode"`
		Message    string          `json:"message"`
		Fields     json.RawMessage `json:"fields"`
	}
	if err := json.Unmarshal(b, &items); err != nil || len(items) == 0 {
		var urls []string // 300 Multiple Choices: the URLs of the matching records
		if json.Unmarshal(b, &urls) == nil && len(urls) > 0 {
			e.ErrorCode = "MULTIPLE_CHOICES"
			e.Message = fmt.Sprintf("%d records match: %s", len(urls), strings.Join(urls, ", "))
			return true
		}
		return false
	}
	for _, it := range items {
		code := it.ErrorCode
		if code == "" {
			code = it.StatusCode
		}
		e.Details = append(e.Details, ErrorDetail{ErrorCode: code, Message: it.Message, Fields: decodeFields(it.Fields)})
	}
	e.ErrorCode, e.Message, e.Fields = e.Details[0].ErrorCode, e.Details[0].Message, e.Details[0].Fields
	return e.ErrorCode != "" || e.Message != ""
}

// decodeFields accepts fields as an array of strings or a single string.
func decodeFields(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		if len(list) == 0 {
			return nil
		}
		return list
	}
	var one string
	if json.Unmarshal(raw, &one) == nil && one != "" {
		return []string{one}
	}
	return nil
}

func (e *APIError) parseJSONObject(b []byte) bool {
	var o struct {
		// OAuth
		Error            json.RawMessage `json:"error"`
		ErrorDescription string          `json:"error_description"`
		// Bulk 1.0 JSON
		ExceptionCode    string `json:"exceptionCode"`
		ExceptionMessage string `json:"exceptionMessage"`
		// A bare REST error object
		ErrorCode string          `json:"errorCode"`
		Message   string          `json:"message"`
		Fields    json.RawMessage `json:"fields"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return false
	}
	switch {
	case o.ExceptionCode != "":
		e.ErrorCode, e.Message = o.ExceptionCode, o.ExceptionMessage
	case len(o.Error) > 0:
		var s string
		if json.Unmarshal(o.Error, &s) == nil {
			e.ErrorCode, e.Message = s, o.ErrorDescription
		} else {
			// {"error":{"exceptionCode":…}} as some Bulk 1.0 JSON renderings nest it
			return e.parseJSONObject(o.Error)
		}
	case o.ErrorCode != "" || o.Message != "":
		e.ErrorCode, e.Message, e.Fields = o.ErrorCode, o.Message, decodeFields(o.Fields)
	default:
		return false
	}
	return e.ErrorCode != "" || e.Message != ""
}

// parseXML decodes a Bulk 1.0 <error> or a SOAP fault, by local element names.
func (e *APIError) parseXML(b []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(b))
	var (
		stack                  []string
		exCode, exMsg          string
		faultCode, faultString string
		sawError, sawFault     bool
		text                   strings.Builder
	)
	for {
		tok, err := d.Token()
		if err != nil {
			if err != io.EOF {
				return false
			}
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
			text.Reset()
			if len(stack) == 1 && t.Name.Local == "error" {
				sawError = true
			}
			if t.Name.Local == "Fault" {
				sawFault = true
			}
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			if len(stack) == 0 {
				return false
			}
			v := strings.TrimSpace(text.String())
			switch stack[len(stack)-1] {
			case "exceptionCode":
				if exCode == "" {
					exCode = v
				}
			case "exceptionMessage":
				if exMsg == "" {
					exMsg = v
				}
			case "faultcode":
				faultCode = v
			case "faultstring":
				faultString = v
			}
			stack = stack[:len(stack)-1]
			text.Reset()
		}
	}
	switch {
	case sawError || (exCode != "" && !sawFault):
		e.ErrorCode, e.Message = exCode, exMsg
	case sawFault:
		code := exCode
		if code == "" {
			code = faultCode
			if i := strings.LastIndexByte(code, ':'); i >= 0 {
				code = code[i+1:]
			}
		}
		msg := exMsg
		if msg == "" {
			msg = strings.TrimPrefix(faultString, code+": ")
		}
		e.ErrorCode, e.Message = code, msg
	default:
		return false
	}
	return e.ErrorCode != "" || e.Message != ""
}

// isSensitiveParam reports whether a query parameter's value must never appear in errors or logs.
func isSensitiveParam(name string) bool {
	switch strings.ToLower(name) {
	case "access_token", "refresh_token", "client_secret", "password", "assertion", "code", "sid", "token", "code_verifier":
		return true
	}
	return false
}

// sanitizeURL removes user info and secret query parameter values from u.
func sanitizeURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "<unparseable URL>"
	}
	p.User = nil
	if p.RawQuery != "" {
		q := p.Query()
		changed := false
		for k := range q {
			if isSensitiveParam(k) {
				q[k] = []string{"REDACTED"}
				changed = true
			}
		}
		if changed {
			p.RawQuery = q.Encode()
		}
	}
	return p.String()
}
