package salesforcetest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/emulator/clock"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

func get(t *testing.T, c *http.Client, u, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServerBasics(t *testing.T) {
	t.Parallel()
	fc := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	srv := salesforcetest.New(t, salesforcetest.WithClock(fc), salesforcetest.WithSessionLifetime(time.Hour))
	if !strings.HasPrefix(srv.URL(), "https://127.0.0.1:") || srv.LoginURL() != srv.URL() || !strings.HasPrefix(srv.HTTPURL(), "http://127.0.0.1:") {
		t.Fatalf("URLs: %s %s %s", srv.URL(), srv.LoginURL(), srv.HTTPURL())
	}
	ids, err := srv.Insert(t.Context(), "Contact", map[string]any{"LastName": "One"}, map[string]any{"LastName": "Two", "Email": "two@example.com"})
	if err != nil || len(ids) != 2 || srv.Count("Contact") != 2 {
		t.Fatalf("Insert: %v %v", ids, err)
	}
	if _, err := srv.Insert(t.Context(), "Contact", map[string]any{"FirstName": "NoLast"}); err == nil || !strings.Contains(err.Error(), "record 0: REQUIRED_FIELD_MISSING") {
		t.Errorf("Insert without LastName: %v", err)
	}
	tok := srv.AccessToken()
	q := url.QueryEscape("SELECT LastName FROM Contact ORDER BY LastName")
	status, body := get(t, srv.Client(), srv.URL()+"/services/data/v62.0/query?q="+q, tok)
	if status != 200 || !strings.Contains(body, `"LastName":"One"`) {
		t.Fatalf("query: %d %s", status, body)
	}
	if srv.AccessToken() != tok {
		t.Error("AccessToken changed while valid")
	}
	if n := srv.ExpireSessions(); n < 1 {
		t.Errorf("ExpireSessions = %d", n)
	}
	if status, _ := get(t, srv.Client(), srv.URL()+"/services/data/v62.0/limits", tok); status != 401 {
		t.Errorf("after ExpireSessions: %d", status)
	}
	tok2 := srv.AccessToken()
	if tok2 == tok {
		t.Error("AccessToken did not renew an expired session")
	}
	fc.Advance(2 * time.Hour)
	if status, _ := get(t, srv.Client(), srv.URL()+"/services/data/v62.0/limits", tok2); status != 401 {
		t.Errorf("after the lifetime: %d", status)
	}
	if err := srv.FailNext(1, "GET", "*", 503, ""); err != nil {
		t.Fatal(err)
	}
	if status, _ := get(t, srv.Client(), srv.URL()+"/services/data/", ""); status != 503 {
		t.Errorf("FailNext: %d", status)
	}
	c := srv.Credentials()
	if c.Username == "" || c.Password == "" || c.SecurityToken == "" || c.ClientID == "" || c.ClientSecret == "" || srv.RefreshToken() == "" {
		t.Errorf("Credentials: %+v", c)
	}
	if len(srv.CACertPEM()) == 0 || srv.Org() == nil || srv.Bulk() == nil || srv.Clock() != fc {
		t.Error("accessors")
	}
}

func TestWithoutTLSAndDataFile(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/org.db"
	srv := salesforcetest.NewServer(salesforcetest.WithoutTLS(), salesforcetest.WithDataFile(path))
	if !strings.HasPrefix(srv.URL(), "http://") || srv.CACertPEM() != nil {
		t.Errorf("WithoutTLS: %s", srv.URL())
	}
	if _, err := srv.Insert(t.Context(), "Account", map[string]any{"Name": "Persisted"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	srv2 := salesforcetest.New(t, salesforcetest.WithDataFile(path))
	if got := srv2.Count("Account"); got != 1 {
		t.Errorf("after restart: %d accounts, want 1", got)
	}
	// The default user is found again, not duplicated.
	if got := srv2.Count("User"); got != 1 {
		t.Errorf("after restart: %d users, want 1", got)
	}
}

func ExampleNewServer() {
	srv := salesforcetest.NewServer()
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL()+"/services/data/v62.0/query?q=SELECT+COUNT()+FROM+Contact", nil)
	req.Header.Set("Authorization", "Bearer "+srv.AccessToken())
	resp, err := srv.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output: 200 {"totalSize":0,"done":true,"records":[]}
}

// TestExportedControls uses only this package's exported names to step a
// realistic Bulk profile with a fake clock, as code outside the module must.
func TestExportedControls(t *testing.T) {
	t.Parallel()
	fake := salesforcetest.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	var opts salesforcetest.BulkOptions
	opts.Profile = salesforcetest.DefaultRealistic()
	srv := salesforcetest.New(t, salesforcetest.WithClock(fake), salesforcetest.WithBulkOptions(opts))
	if got := srv.Clock().Now(); !got.Equal(fake.Now()) {
		t.Fatalf("server clock = %v, want the fake clock's %v", got, fake.Now())
	}
	fake.Advance(time.Hour)
	if got := srv.Clock().Now(); !got.Equal(time.Date(2026, 1, 2, 4, 4, 5, 0, time.UTC)) {
		t.Errorf("after Advance, server clock = %v", got)
	}
	var _ *salesforcetest.BulkService = srv.Bulk()
	var _ *salesforcetest.Org = srv.Org()
}
