package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRestartKeepsCertificateAndJobs restarts an emulator over the same
// data file: clients keep trusting it (the CA certificate is the same),
// their access and refresh tokens stay valid, and a Bulk API 2.0 load begun
// before the restart is finished after it.
func TestRestartKeepsCertificateAndJobs(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "org.db")
	start := func() *Server {
		t.Helper()
		s, err := New(Config{TLS: true, DataFile: path, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		return s
	}
	first := start()
	ca := first.CACertPEM()
	client := first.Client() // trusts the first run's certificate only
	tok := mustToken(t, first)
	refresh, err := first.NewRefreshToken(DefaultUsername, DefaultApp().ClientID)
	if err != nil {
		t.Fatal(err)
	}
	jobs := first.URL() + "/services/data/v62.0/jobs/ingest"
	r := do(t, client, "POST", jobs, map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"},
		strings.NewReader(`{"object":"Contact","operation":"insert"}`))
	if r.status != http.StatusOK {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var job struct{ ID, State string }
	if err := json.Unmarshal([]byte(r.body), &job); err != nil {
		t.Fatal(err)
	}
	r = do(t, client, "PUT", jobs+"/"+job.ID+"/batches", map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "text/csv"},
		strings.NewReader("LastName\nBefore\nRestart\n"))
	if r.status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := start()
	t.Cleanup(func() { _ = second.Close() })
	if !bytes.Equal(second.CACertPEM(), ca) {
		t.Fatal("the CA certificate changed across the restart")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("data file holding the TLS key: %v, %v; want mode 0600", fi.Mode(), err)
	}
	for _, name := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(name)
		if err == nil && (bytes.Contains(b, []byte(tok)) || bytes.Contains(b, []byte(refresh))) {
			t.Errorf("%s holds a token as it was issued", name)
		}
	}
	if !second.SessionValid(tok) {
		t.Fatal("the access token of the first run is not valid after the restart")
	}
	r = postForm(t, second, second.URL(), url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {DefaultApp().ClientID}}, nil)
	if r.status != http.StatusOK {
		t.Fatalf("refresh token after the restart: %d %s", r.status, r.body)
	}
	jobs = second.URL() + "/services/data/v62.0/jobs/ingest"
	r = do(t, client, "PATCH", jobs+"/"+job.ID, map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"},
		strings.NewReader(`{"state":"UploadComplete"}`))
	if r.status != http.StatusOK {
		t.Fatalf("close after the restart: %d %s", r.status, r.body)
	}
	if err := second.Bulk().WaitIdle(t.Context()); err != nil {
		t.Fatal(err)
	}
	r = do(t, client, "GET", jobs+"/"+job.ID+"/successfulResults", bearer(tok), nil)
	if r.status != http.StatusOK || strings.Count(r.body, "\n") != 3 || !strings.Contains(r.body, "Before") {
		t.Fatalf("results after the restart: %d %q", r.status, r.body)
	}
	if n := second.Org().Count("Contact"); n != 2 {
		t.Errorf("org holds %d contacts, want 2", n)
	}
}
