package salesforce

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParseTokenResponse feeds arbitrary bytes to the OAuth token response
// parser: no panic, and an accepted token has an access token and an
// instance URL.
func FuzzParseTokenResponse(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "auth-oauth2-token-success.json")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"access_token":"00D!x","instance_url":"https://na1.salesforce.com","id":"https://login.salesforce.com/id/00D/005","issued_at":"1700000000000"}`))
	f.Add([]byte(`{"access_token":"t","api_instance_url":"https://api.example.com","id":"/id/"}`))
	f.Add([]byte(`{"error":"invalid_grant"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := parseTokenResponse(data)
		if err != nil {
			return
		}
		if tok.AccessToken == "" || tok.InstanceURL == "" {
			t.Fatalf("accepted a token without access token or instance URL: %v", tok)
		}
	})
}

// FuzzParseLimitInfo feeds arbitrary Sforce-Limit-Info headers to the
// parser: no panic, and found usage is never negative.
func FuzzParseLimitInfo(f *testing.F) {
	f.Add("api-usage=25/15000")
	f.Add("api-usage=25/15000; per-app-api-usage=17/250(appName=sample-connected-app)")
	f.Add("per-app-api-usage=1/2(appName=x")
	f.Add("api-usage=-1/5")
	f.Fuzz(func(t *testing.T, h string) {
		li, ok := parseLimitInfo(h)
		if !ok {
			return
		}
		if li.Used < 0 || li.Max < 0 || li.AppUsed < 0 || li.AppMax < 0 || li.Remaining() < 0 {
			t.Fatalf("negative usage from %q: %+v", h, li)
		}
	})
}

// FuzzParseRetryAfter feeds arbitrary Retry-After values to the parser: no
// panic and never a negative wait.
func FuzzParseRetryAfter(f *testing.F) {
	f.Add("120")
	f.Add("Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add("-5")
	f.Add("99999999999999999999")
	now := time.Date(2015, 10, 21, 7, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d := parseRetryAfter(v, now); d < 0 {
			t.Fatalf("parseRetryAfter(%q) = %v", v, d)
		}
	})
}
