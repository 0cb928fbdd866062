package emulator

import (
	"strings"
	"testing"
)

// TestBulkMounted checks that both Bulk APIs are reachable through the
// server with its authentication and API counting.
func TestBulkMounted(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	tok := mustToken(t, s)
	hdr := bearer(tok)
	hdr["Content-Type"] = "application/json"
	r := do(t, s.Client(), "POST", s.URL()+"/services/data/v62.0/jobs/ingest", hdr, strings.NewReader(`{"object":"Contact","operation":"insert"}`))
	if r.status != 200 || !strings.Contains(r.body, `"state":"Open"`) || r.header.Get("Sforce-Limit-Info") == "" {
		t.Errorf("Bulk 2.0 create: %d %s", r.status, r.body)
	}
	r = do(t, s.Client(), "POST", s.URL()+"/services/async/62.0/job",
		map[string]string{"X-SFDC-Session": tok, "Content-Type": "application/xml; charset=utf-8"},
		strings.NewReader(`<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><operation>insert</operation><object>Contact</object><contentType>CSV</contentType></jobInfo>`))
	if r.status != 201 || !strings.Contains(r.body, "<state>Open</state>") {
		t.Errorf("Bulk 1.0 create: %d %s", r.status, r.body)
	}
}
