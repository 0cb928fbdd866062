package bulk

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/emulator/wire"
)

// env is a Service over a fresh org behind a real loopback HTTP server with
// a tiny auth shim that puts a wire.Session in every request's context.
type env struct {
	t   testing.TB
	org *org.Org
	svc *Service
	srv *httptest.Server
}

func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	o, err := org.New(org.Options{Clock: opts.Clock, Seed: 1, DataFile: opts.DataFile})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := Open(o, opts)
	if err != nil {
		t.Fatal(err)
	}
	sess := &wire.Session{Token: "tok", UserID: o.DefaultUserID(), Username: "user@example.com", OrgID: o.ID()}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		svc.ServeHTTP(w, r.WithContext(wire.WithSession(r.Context(), sess)))
	}))
	e := &env{t: t, org: o, svc: svc, srv: srv}
	t.Cleanup(e.close)
	return e
}

// close stops the server, the service and the org. It is idempotent.
func (e *env) close() {
	e.srv.Close()
	_ = e.svc.Close()
	_ = e.org.Close()
}

// resp is a fully read response.
type resp struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(method, path, contentType, body string, hdr ...string) resp {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{res.StatusCode, res.Header, string(b)}
}

// idle waits until the service has no queued or running work.
func (e *env) idle() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), 20*time.Second)
	defer cancel()
	if err := e.svc.WaitIdle(ctx); err != nil {
		e.t.Fatalf("WaitIdle: %v", err)
	}
}

// tag returns the text of the first <name> element.
func tag(body, name string) string {
	m := regexp.MustCompile("<" + name + ">([^<]*)</" + name + ">").FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

func jsonMap(t testing.TB, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return m
}

func wantStatus(t testing.TB, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.status, status, r.body)
	}
}

func wantContentType(t testing.TB, r resp, ct string) {
	t.Helper()
	if got := r.header.Get("Content-Type"); got != ct {
		t.Errorf("Content-Type = %q, want %q", got, ct)
	}
}

// idPattern replaces 18-character record ids so result files compare
// byte for byte.
var idPattern = regexp.MustCompile(`\b(001|003|750|751|752)[0-9A-Za-z]{15}\b`)

func maskIDs(s string) string { return idPattern.ReplaceAllString(s, "${1}ID") }

const (
	xmlCT    = "application/xml; charset=UTF-8"
	jsonCT   = "application/json"
	asyncV   = "/services/async/62.0"
	dataV    = "/services/data/v62.0"
	jobXML   = `<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><operation>%s</operation><object>%s</object>%s<contentType>%s</contentType></jobInfo>`
	closeXML = `<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><state>Closed</state></jobInfo>`
	abortXML = `<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><state>Aborted</state></jobInfo>`
)

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
