package salesforce_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// These tests run the client against the local emulator of an org over real HTTPS.

func emuRetry() salesforce.RetryPolicy {
	return salesforce.RetryPolicy{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, MaxRetryAfter: 5 * time.Millisecond}
}

func TestEmulatorLoginFlows(t *testing.T) {
	t.Parallel()
	org := salesforcetest.New(t)
	cr := org.Credentials()
	tests := []struct {
		name string
		cfg  salesforce.LoginConfig
	}{
		{"soap", salesforce.LoginConfig{Username: cr.Username, Password: cr.Password, SecurityToken: cr.SecurityToken}},
		{"oauth password", salesforce.LoginConfig{ClientID: cr.ClientID, ClientSecret: cr.ClientSecret, Username: cr.Username, Password: cr.Password, SecurityToken: cr.SecurityToken}},
		{"client credentials", salesforce.LoginConfig{ClientID: cr.ClientID, ClientSecret: cr.ClientSecret}},
		{"refresh token", salesforce.LoginConfig{ClientID: cr.ClientID, ClientSecret: cr.ClientSecret, RefreshToken: org.RefreshToken()}},
		{"access token", salesforce.LoginConfig{AccessToken: org.AccessToken(), InstanceURL: org.URL()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			if cfg.LoginURL == "" && cfg.InstanceURL == "" {
				cfg.LoginURL = org.LoginURL()
			}
			cfg.HTTPClient = org.Client()
			c, err := salesforce.Login(t.Context(), cfg, salesforce.WithRetry(emuRetry()))
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			lim, err := c.Limits(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if lim[salesforce.LimitDailyAPIRequests].Max == 0 {
				t.Errorf("limits = %v", lim)
			}
			if li := c.LimitInfo(); li.Max == 0 {
				t.Errorf("no Sforce-Limit-Info parsed: %+v", li)
			}
		})
	}
	t.Run("bad password", func(t *testing.T) {
		t.Parallel()
		_, err := salesforce.Login(t.Context(), salesforce.LoginConfig{LoginURL: org.LoginURL(), HTTPClient: org.Client(), Username: cr.Username, Password: "wrong-password"})
		var apiErr *salesforce.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode != "INVALID_LOGIN" {
			t.Fatalf("err = %v, want INVALID_LOGIN", err)
		}
		if strings.Contains(err.Error(), "wrong-password") {
			t.Errorf("password in error: %v", err)
		}
	})
}

func TestEmulatorJWT(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	org := salesforcetest.New(t, salesforcetest.WithConnectedApps(salesforcetest.ConnectedApp{
		Name: "jwt", ClientID: "jwt-client", ClientSecret: "unused",
		CertificatePEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
	}))
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	c, err := salesforce.Login(t.Context(), salesforce.LoginConfig{
		LoginURL: org.LoginURL(), HTTPClient: org.Client(),
		ClientID: "jwt-client", Username: org.Credentials().Username, PrivateKeyPEM: keyPEM,
	})
	if err != nil {
		t.Fatalf("JWT login: %v", err)
	}
	if _, err := c.Limits(t.Context()); err != nil {
		t.Fatal(err)
	}
	// A key the app does not know is refused.
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, err = salesforce.Login(t.Context(), salesforce.LoginConfig{
		LoginURL: org.LoginURL(), HTTPClient: org.Client(),
		ClientID: "jwt-client", Username: org.Credentials().Username, PrivateKey: other,
	})
	if !salesforce.IsErrorCode(err, "invalid_grant") {
		t.Errorf("JWT with a foreign key: %v, want invalid_grant", err)
	}
}

func TestEmulatorSessionExpiry(t *testing.T) {
	t.Parallel()
	org := salesforcetest.New(t)
	cr := org.Credentials()
	c, err := salesforce.Login(t.Context(), salesforce.LoginConfig{
		LoginURL: org.LoginURL(), HTTPClient: org.Client(),
		Username: cr.Username, Password: cr.Password, SecurityToken: cr.SecurityToken,
	}, salesforce.WithRetry(emuRetry()))
	if err != nil {
		t.Fatal(err)
	}
	static, err := salesforce.New(org.URL(), salesforce.WithHTTPClient(org.Client()), salesforce.WithAccessToken(org.AccessToken()), salesforce.WithRetry(emuRetry()))
	if err != nil {
		t.Fatal(err)
	}
	first, _ := c.Token(t.Context())
	org.ExpireSessions()

	// Concurrent requests after expiry: all succeed, through one new login.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := c.Versions(t.Context()); err != nil {
				t.Error(err)
			}
			if _, err := c.Limits(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	second, _ := c.Token(t.Context())
	if first.AccessToken == second.AccessToken {
		t.Error("session was not renewed")
	}

	_, err = static.Limits(t.Context())
	if !errors.Is(err, salesforce.ErrSessionExpired) {
		t.Fatalf("static token after expiry: %v, want ErrSessionExpired", err)
	}
	if strings.Contains(err.Error(), org.AccessToken()) {
		t.Errorf("token in error: %v", err)
	}
}

func TestEmulatorFaults(t *testing.T) {
	t.Parallel()
	org := salesforcetest.New(t)
	c, err := salesforce.New(org.URL(), salesforce.WithHTTPClient(org.Client()), salesforce.WithAccessToken(org.AccessToken()), salesforce.WithRetry(emuRetry()))
	if err != nil {
		t.Fatal(err)
	}
	limitsPath := "/services/data/v62.0/limits*"
	tests := []struct {
		name     string
		fault    salesforcetest.Fault
		wantCode string // "" = the retry succeeds
	}{
		{name: "503 then success", fault: salesforcetest.Fault{Method: "GET", Path: limitsPath, Status: 503, Times: 2}},
		{name: "429 retry-after", fault: salesforcetest.Fault{Method: "GET", Path: limitsPath, Status: 429, RetryAfter: 1}},
		{name: "request limit exceeded", fault: salesforcetest.Fault{Method: "GET", Path: limitsPath, Status: 403, ErrorCode: "REQUEST_LIMIT_EXCEEDED", Message: "TotalRequests Limit exceeded."}},
		{name: "dropped connection", fault: salesforcetest.Fault{Method: "GET", Path: limitsPath, Drop: true}},
		{name: "persistent 503", fault: salesforcetest.Fault{Method: "GET", Path: limitsPath, Status: 503, Times: -1}, wantCode: "503"},
		{name: "400 not retried", fault: salesforcetest.Fault{Method: "GET", Path: limitsPath, Status: 400, ErrorCode: "INVALID_HEADER_TYPE", Times: -1}, wantCode: "INVALID_HEADER_TYPE"},
	}
	for _, tt := range tests { // sequential: faults are org-wide
		org.ClearFaults()
		if _, err := org.AddFault(tt.fault); err != nil {
			t.Fatal(err)
		}
		_, err := c.Limits(t.Context())
		switch {
		case tt.wantCode == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.wantCode == "503":
			var apiErr *salesforce.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("%s: err = %v, want a 503 *APIError", tt.name, err)
			}
		case tt.wantCode != "" && tt.wantCode != "503" && !salesforce.IsErrorCode(err, tt.wantCode):
			t.Errorf("%s: err = %v, want %s", tt.name, err, tt.wantCode)
		}
	}
	org.ClearFaults()
}

func TestEmulatorRESTCalls(t *testing.T) {
	t.Parallel()
	org := salesforcetest.New(t)
	ctx := t.Context()
	c, err := salesforce.New(org.URL(), salesforce.WithHTTPClient(org.Client()), salesforce.WithAccessToken(org.AccessToken()),
		salesforce.WithRetry(emuRetry()), salesforce.WithGzipRequests(256))
	if err != nil {
		t.Fatal(err)
	}
	vs, err := c.Versions(ctx)
	if err != nil || len(vs) == 0 {
		t.Fatalf("Versions = %v, %v", vs, err)
	}
	g, err := c.DescribeGlobal(ctx)
	if err != nil || len(g.SObjects) == 0 {
		t.Fatalf("DescribeGlobal = %v, %v", g, err)
	}
	d, err := c.Describe(ctx, "Contact")
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := d.Field("LastName"); !ok || !f.Required() {
		t.Errorf("Contact.LastName = %+v", f)
	}
	if _, err := c.Describe(ctx, "NoSuchObject__c"); !salesforce.IsErrorCode(err, "NOT_FOUND") {
		t.Errorf("Describe(NoSuchObject__c) = %v", err)
	}

	// Seed 450 contacts directly, then page through them 200 at a time.
	recs := make([]map[string]any, 450)
	for i := range recs {
		recs[i] = map[string]any{"LastName": fmt.Sprintf("Emu %03d", i)}
	}
	if _, err := org.Insert(ctx, "Contact", recs...); err != nil {
		t.Fatal(err)
	}
	n := 0
	for rec, err := range c.Query(ctx, "SELECT Id, LastName FROM Contact WHERE LastName LIKE 'Emu %'", salesforce.QueryBatchSize(200)) {
		if err != nil {
			t.Fatal(err)
		}
		if rec.Type() != "Contact" || rec.ID() == "" {
			t.Fatalf("record %d: %v %v", n, rec.Type(), rec.ID())
		}
		n++
	}
	if n != 450 {
		t.Errorf("query returned %d records, want 450", n)
	}
	for _, err := range c.Query(ctx, "SELECT Nope__x FROM Contact") {
		if !salesforce.IsErrorCode(err, "INVALID_FIELD") {
			t.Errorf("bad field query: %v", err)
		}
	}

	// CRUD and upsert by external id.
	contacts := c.SObject("Contact")
	id, err := contacts.Create(ctx, map[string]any{"LastName": "Lovelace", "Description": strings.Repeat("gzip me ", 100)})
	if err != nil {
		t.Fatal(err)
	}
	if err := contacts.Update(ctx, id, map[string]any{"FirstName": "Ada"}); err != nil {
		t.Fatal(err)
	}
	rec, err := contacts.Get(ctx, id, "FirstName", "LastName")
	if err != nil {
		t.Fatal(err)
	}
	if fn, _ := rec.String("FirstName"); fn != "Ada" {
		t.Errorf("FirstName = %q", fn)
	}
	if _, err := contacts.Create(ctx, map[string]any{"FirstName": "NoLastName"}); !salesforce.IsErrorCode(err, "REQUIRED_FIELD_MISSING") {
		t.Errorf("create without LastName: %v", err)
	}
	up, err := contacts.Upsert(ctx, "External_Id__c", "EXT-1", map[string]any{"LastName": "Babbage"})
	if err != nil || !up.Created || up.ID == "" {
		t.Fatalf("first upsert = %+v, %v", up, err)
	}
	up2, err := contacts.Upsert(ctx, "External_Id__c", "EXT-1", map[string]any{"LastName": "Babbage 2"})
	if err != nil || up2.Created || up2.ID != up.ID {
		t.Fatalf("second upsert = %+v, %v (first %+v)", up2, err, up)
	}
	if err := contacts.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := contacts.Get(ctx, id); err == nil {
		t.Error("Get after Delete succeeded")
	}
	n = 0
	for rec, err := range c.QueryAll(ctx, "SELECT Id, IsDeleted FROM Contact WHERE Id = '"+id+"'") {
		if err != nil {
			t.Fatal(err)
		}
		if del, _ := rec.Bool("IsDeleted"); !del {
			t.Errorf("queryAll record not deleted: %v", rec.Map())
		}
		n++
	}
	if n != 1 {
		t.Errorf("queryAll found %d deleted records, want 1", n)
	}
}
