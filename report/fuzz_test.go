package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseError: any sf__Error text gives a code without a colon and only field names.
func FuzzParseError(f *testing.F) {
	for _, s := range []string{
		"REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --",
		"INVALID_EMAIL_ADDRESS:Email: invalid email address: a:b:c:Email --",
		"A:x:F1,F2 --B:y:F3 --",
		"SFBATCH_NO_RESULT:no result:",
		"", ":", " --", "CODE", "C:m:Bad Field --",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, fields := parseError(s)
		if strings.Contains(code, ":") {
			t.Errorf("code %q has a colon", code)
		}
		for _, fl := range fields {
			if fl == "" || !isFieldName(fl) {
				t.Errorf("field %q from %q", fl, s)
			}
		}
	})
}

// FuzzEvents: whatever events.jsonl holds (a run killed mid-line, a file from another tool),
// Build reads it without an error or a panic, within its caps.
func FuzzEvents(f *testing.F) {
	f.Add(`{"event":"run_started","time":"2026-01-01T00:00:00Z","run_id":"r"}
{"event":"job","job":"750A","state":"Open","time":"2026-01-01T00:00:01Z"}
{"event":"request_retried","error":"salesforce: GET u: 503 X: y","wait":"1s","url":"/jobs/ingest/750A"}
{"event":"job_info","job":"750A","total_processing_ms":"12"}
{"event":"rows_retried","rows":"x","pass":1.5}
{"event":"job","job":"750A","sta`)
	f.Add("\n\n{}\n[1,2]\nnull\n{\"event\":5}")
	f.Fuzz(func(t *testing.T, events string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, EventsFile), []byte(events), 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := Build(t.Context(), dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Jobs) > MaxJobs || len(d.Retries) > MaxRetryMarks {
			t.Errorf("%d jobs, %d retries past the caps", len(d.Jobs), len(d.Retries))
		}
	})
}

func TestRetryCause(t *testing.T) {
	for msg, want := range map[string]string{
		"salesforce: POST https://h/services/data/v62.0/jobs/ingest: 503 SERVER_UNAVAILABLE: Server is temporarily unavailable.": "503 SERVER_UNAVAILABLE",
		"salesforce: GET https://h/x: 429 REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.":                                 "429 REQUEST_LIMIT_EXCEEDED",
		"salesforce: GET https://h/x: 502 Bad Gateway":                                                                           "502",
		"salesforce: GET https://h/x: read tcp 127.0.0.1:1->127.0.0.1:2: connection reset by peer":                               "connection lost",
		"salesforce: GET https://h/x: context deadline exceeded (Client.Timeout exceeded)":                                       "timeout",
		"": "unknown",
	} {
		if got := retryCause(msg); got != want {
			t.Errorf("retryCause(%q) = %q, want %q", msg, got, want)
		}
	}
	if got := jobInURL("https://h/services/data/v62.0/jobs/ingest/750A/successfulResults?x=1"); got != "750A" {
		t.Errorf("jobInURL: %q", got)
	}
	if got := jobInURL("https://h/services/async/62.0/job/750B/batch/751C"); got != "750B" {
		t.Errorf("jobInURL bulk1: %q", got)
	}
}
