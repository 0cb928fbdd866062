package emulator

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestGlobMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"/services/data/*/query*", "/services/data/v62.0/query/", true},
		{"/services/data/*/query*", "/services/data/v62.0/sobjects/Contact", false},
		{"*", "/anything", true},
		{"/a", "/a", true},
		{"/a", "/ab", false},
		{"*/batch", "/services/async/62.0/job/750/batch", true},
		{"/x*y*z", "/xAAyBBz", true},
		{"/x*y*z", "/xAAyBB", false},
		{"/services/async/*/job/{id}", "/services/async/62.0/job/750000000000001AAA", true},
		{"/services/async/*/job/{id}", "/services/async/62.0/job/750000000000001AAA/batch", false},
		{"/services/async/*/job/{id}", "/services/async/62.0/job/", false},
		{"/services/async/*/job/{id}/batch", "/services/async/62.0/job/750/batch", true},
		{"/a/{x}/{y}", "/a/b/c", true},
		{"/a/{x}/{y}", "/a/b/c/d", false},
		{"/a/{x", "/a/{x", true},
	} {
		if got := globMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestFailNext(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	tok := mustToken(t, s)
	if err := s.FailNext(2, "GET", "/services/data/*/limits*", 503, ""); err != nil {
		t.Fatal(err)
	}
	u := s.URL() + "/services/data/v62.0/limits"
	for i := range 2 {
		r := do(t, s.Client(), "GET", u, bearer(tok), nil)
		if r.status != 503 || r.body != `[{"message":"Server is temporarily unavailable. Please try again later.","errorCode":"SERVER_UNAVAILABLE"}]` {
			t.Errorf("request %d: %d %s", i, r.status, r.body)
		}
	}
	if r := do(t, s.Client(), "GET", u, bearer(tok), nil); r.status != 200 {
		t.Errorf("third request: %d %s", r.status, r.body)
	}
	// Other methods and paths are not affected; the shape follows the API.
	if err := s.FailNext(1, "POST", "/services/async/*", 500, "Unknown"); err != nil {
		t.Fatal(err)
	}
	if r := do(t, s.Client(), "GET", u, bearer(tok), nil); r.status != 200 {
		t.Errorf("unrelated request: %d", r.status)
	}
	r := do(t, s.Client(), "POST", s.URL()+"/services/async/62.0/job", map[string]string{"X-SFDC-Session": tok, "Content-Type": "application/xml"}, strings.NewReader("<x/>"))
	if r.status != 500 || !strings.Contains(r.body, "<exceptionCode>Unknown</exceptionCode>") || r.header.Get("Content-Type") != "application/xml" {
		t.Errorf("bulk1 fault: %d %s", r.status, r.body)
	}
}

// TestFaultByBody: a Bulk API 1.0 close and abort share a path with no batch
// below it ("{id}" is one segment) and differ by body; a fault told to match
// "Closed" disturbs the close only, gzipped or not, and leaves batch adds and
// aborts alone.
func TestFaultByBody(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	tok := mustToken(t, s)
	hdr := map[string]string{"X-SFDC-Session": tok, "Content-Type": "application/xml"}
	base := s.URL() + "/services/async/62.0/job"
	newJob := func() string {
		t.Helper()
		r := do(t, s.Client(), "POST", base, hdr, strings.NewReader(`<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><operation>insert</operation><object>Contact</object><contentType>CSV</contentType></jobInfo>`))
		_, rest, ok := strings.Cut(r.body, "<id>")
		id, _, ok2 := strings.Cut(rest, "</id>")
		if r.status != http.StatusCreated || !ok || !ok2 {
			t.Fatalf("create job: %d %s", r.status, r.body)
		}
		return id
	}
	state := func(st string) string {
		return `<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><state>` + st + `</state></jobInfo>`
	}
	if _, err := s.AddFault(Fault{Method: "POST", Path: "/services/async/*/job/{id}", BodyContains: "Closed", Status: 500, Times: -1}); err != nil {
		t.Fatal(err)
	}
	job := newJob()
	csvHdr := map[string]string{"X-SFDC-Session": tok, "Content-Type": "text/csv"}
	if r := do(t, s.Client(), "POST", base+"/"+job+"/batch", csvHdr, strings.NewReader("LastName\nClosed\n")); r.status != http.StatusCreated {
		t.Errorf("batch add (its data says Closed, its path is not the job's): %d %s", r.status, r.body)
	}
	if r := do(t, s.Client(), "POST", base+"/"+job, hdr, strings.NewReader(state("Closed"))); r.status != 500 {
		t.Errorf("close: %d %s, want the fault's 500", r.status, r.body)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(state("Closed")))
	_ = zw.Close()
	gzHdr := map[string]string{"X-SFDC-Session": tok, "Content-Type": "application/xml", "Content-Encoding": "gzip"}
	if r := do(t, s.Client(), "POST", base+"/"+job, gzHdr, &gz); r.status != 500 {
		t.Errorf("gzipped close: %d %s, want the fault's 500", r.status, r.body)
	}
	if r := do(t, s.Client(), "POST", base+"/"+job, hdr, strings.NewReader(state("Aborted"))); r.status != http.StatusOK || !strings.Contains(r.body, "<state>Aborted</state>") {
		t.Errorf("abort: %d %s", r.status, r.body)
	}
	s.ClearFaults()
	job = newJob()
	if r := do(t, s.Client(), "POST", base+"/"+job, hdr, strings.NewReader(state("Closed"))); r.status != http.StatusOK || !strings.Contains(r.body, "<state>Closed</state>") {
		t.Errorf("close once the fault is cleared: %d %s", r.status, r.body)
	}
}

func TestDropConnection(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	tok := mustToken(t, s)
	for _, base := range []string{s.HTTPURL(), s.URL()} {
		if _, err := s.AddFault(Fault{Path: "/services/data/v62.0/limits", Drop: true}); err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"/services/data/v62.0/limits", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		c := s.Client()
		c.Transport.(*http.Transport).DisableKeepAlives = true
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Errorf("%s: got %d, want a transport error", base, resp.StatusCode)
		}
	}
}

func TestLatencyFollowsClock(t *testing.T) {
	t.Parallel()
	s, fc := newTestServer(t)
	tok := mustToken(t, s)
	if _, err := s.AddFault(Fault{Path: "/services/data/*", Latency: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	done := make(chan response, 1)
	go func() {
		done <- do(t, s.Client(), "GET", s.URL()+"/services/data/v62.0/limits", bearer(tok), nil)
	}()
	// Wait until the request is parked on the clock, then release it.
	for fc.Waiters() == 0 {
		select {
		case r := <-done:
			t.Fatalf("request finished before the clock moved: %d", r.status)
		case <-time.After(time.Millisecond):
		}
	}
	fc.Advance(30 * time.Second)
	if r := <-done; r.status != 200 {
		t.Errorf("delayed request: %d %s", r.status, r.body)
	}
}

func TestProbabilityIsDeterministic(t *testing.T) {
	t.Parallel()
	run := func() []bool {
		fs := newFaultSet(42)
		if _, err := fs.add(Fault{Times: -1, Probability: 0.5, Status: 500}); err != nil {
			t.Fatal(err)
		}
		var out []bool
		for range 32 {
			_, ok := fs.match("GET", "/x", nil)
			out = append(out, ok)
		}
		return out
	}
	a, b := run(), run()
	hits := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("runs differ at %d", i)
		}
		if a[i] {
			hits++
		}
	}
	if hits == 0 || hits == 32 {
		t.Errorf("probability 0.5 hit %d of 32", hits)
	}
}

func TestFaultValidation(t *testing.T) {
	t.Parallel()
	fs := newFaultSet(1)
	for _, f := range []Fault{{}, {Status: 99}, {Status: 500, Probability: 2}} {
		if _, err := fs.add(f); err == nil {
			t.Errorf("add(%+v) accepted", f)
		}
	}
	if _, err := New(Config{Faults: []Fault{{Path: "/x"}}}); err == nil {
		t.Error("New accepted a fault that does nothing")
	}
}

func TestControlEndpoint(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	tok := mustToken(t, s)
	ctl := func(method, p, body string) response {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		return do(t, s.Client(), method, s.URL()+ControlPrefix+p, bearer(tok), rd)
	}
	if r := do(t, s.Client(), "GET", s.URL()+ControlPrefix+"faults", nil, nil); r.status != 401 {
		t.Errorf("control without session: %d", r.status)
	}
	r := ctl("POST", "faults", `{"method":"GET","path":"/services/data/*/sobjects","times":1,"status":500,"errorCode":"UNKNOWN_EXCEPTION","message":"boom","latency":"1s"}`)
	if r.status != 201 || r.body != `{"id":1}` {
		t.Fatalf("add fault: %d %s", r.status, r.body)
	}
	r = ctl("GET", "faults", "")
	var list []struct {
		ID        int
		Fault     Fault
		Remaining int
	}
	if err := json.Unmarshal([]byte(r.body), &list); err != nil || len(list) != 1 || list[0].Fault.Latency != time.Second || list[0].Remaining != 1 {
		t.Fatalf("list: %s (%v)", r.body, err)
	}
	if r := ctl("DELETE", "faults/1", ""); r.status != 204 {
		t.Errorf("delete fault: %d %s", r.status, r.body)
	}
	if r := ctl("POST", "faults", `{"status":700}`); r.status != 400 {
		t.Errorf("bad fault: %d %s", r.status, r.body)
	}
	if r := ctl("POST", "limits/DailyApiRequests", `{"remaining":0}`); r.status != 200 || r.body != `{"Max":15000,"Remaining":0}` {
		t.Errorf("exhaust limit: %d %s", r.status, r.body)
	}
	if r := do(t, s.Client(), "GET", s.URL()+"/services/data/v62.0/sobjects", bearer(tok), nil); r.status != 403 ||
		r.body != `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]` {
		t.Errorf("request over limit: %d %s", r.status, r.body)
	}
	// Limits refill at midnight UTC on the server's clock.
	if r := ctl("POST", "clock/advance", `{"duration":"24h"}`); r.status != 200 {
		t.Fatalf("advance: %d %s", r.status, r.body)
	}
	if r := do(t, s.Client(), "GET", s.URL()+"/services/data/v62.0/sobjects", bearer(tok), nil); r.status != 401 {
		// 24h idle also expired the session.
		t.Errorf("after a day: %d", r.status)
	}
	tok = mustToken(t, s)
	if r := do(t, s.Client(), "GET", s.URL()+"/services/data/v62.0/sobjects", bearer(tok), nil); r.status != 200 {
		t.Errorf("next day: %d %s", r.status, r.body)
	}
	if r := ctl("POST", "sessions/expire", ""); r.status != 200 || !strings.Contains(r.body, `"expired":`) {
		t.Errorf("expire: %d %s", r.status, r.body)
	}
	if r := do(t, s.Client(), "GET", s.URL()+"/services/data/v62.0/sobjects", bearer(tok), nil); r.status != 401 {
		t.Errorf("after expire: %d", r.status)
	}
	tok = mustToken(t, s)
	for _, p := range []string{"bulk/fail-next-job", "bulk/query-timeouts", "bulk/drop-uploads", "bulk/lock-contention"} {
		if r := ctl("POST", p, `{"message":"x","count":1,"rate":0}`); r.status != 204 {
			t.Errorf("%s: %d %s", p, r.status, r.body)
		}
	}
	if r := ctl("GET", "nope", ""); r.status != 404 {
		t.Errorf("unknown control path: %d", r.status)
	}
}

// TestFaultAfter: a fault with After serves the request (the record is created) and then
// loses its answer.
func TestFaultAfter(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	tok := mustToken(t, s)
	u := s.URL() + "/services/data/v62.0/sobjects/Contact"
	body := func() io.Reader { return strings.NewReader(`{"LastName":"After"}`) }
	hdr := map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
	if _, err := s.AddFault(Fault{Method: "POST", Path: "/services/data/*/sobjects/Contact", Status: 500, After: true}); err != nil {
		t.Fatal(err)
	}
	if r := do(t, s.Client(), "POST", u, hdr, body()); r.status != 500 {
		t.Fatalf("answer: %d %s, want the fault's 500", r.status, r.body)
	}
	if n := s.Org().Count("Contact"); n != 1 {
		t.Fatalf("org has %d contacts after a served request, want 1", n)
	}
	if _, err := s.AddFault(Fault{Method: "POST", Path: "/services/data/*/sobjects/Contact", Drop: true, After: true}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "POST", u, body())
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	c := s.Client()
	c.Transport.(*http.Transport).DisableKeepAlives = true
	if resp, err := c.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("got %d, want a dropped connection", resp.StatusCode)
	}
	if n := s.Org().Count("Contact"); n != 2 {
		t.Fatalf("org has %d contacts, want 2: the dropped request was served first", n)
	}
}
