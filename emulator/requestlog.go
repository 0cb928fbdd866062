package emulator

import (
	"net/http"
	"net/url"
	"strings"
)

// secretParams are query parameters whose values never reach the request
// log: codes, tokens and PKCE verifiers.
var secretParams = map[string]bool{
	"code": true, "code_verifier": true, "token": true, "access_token": true,
	"refresh_token": true, "password": true, "client_secret": true, "assertion": true,
}

// redactQuery renders a request's query for the log with secret values
// replaced.
func redactQuery(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	c := make(url.Values, len(q))
	for k, vs := range q {
		if secretParams[strings.ToLower(k)] {
			c[k] = []string{"REDACTED"}
			continue
		}
		c[k] = vs
	}
	s, err := url.QueryUnescape(c.Encode())
	if err != nil {
		return c.Encode()
	}
	return s
}

// cleanSlashes collapses repeated slashes in the request path, as
// Salesforce's front end does: clients that keep the instance URL with a
// trailing slash (the Salesforce CLI) send //services/data/....
func cleanSlashes(r *http.Request) {
	if !strings.Contains(r.URL.Path, "//") {
		return
	}
	var b strings.Builder
	prev := byte(0)
	for i := 0; i < len(r.URL.Path); i++ {
		c := r.URL.Path[i]
		if c == '/' && prev == '/' {
			continue
		}
		b.WriteByte(c)
		prev = c
	}
	r.URL.Path = b.String()
	r.URL.RawPath = ""
}
