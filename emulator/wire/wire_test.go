package wire

import (
	"net/http/httptest"
	"testing"
	"time"
)

func TestWriteError(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	WriteError(rec, 401, "INVALID_SESSION_ID", "Session expired or invalid")
	if got, want := rec.Code, 401; got != want {
		t.Errorf("status = %d, want %d", got, want)
	}
	if got := rec.Header().Get("Content-Type"); got != ContentTypeJSON {
		t.Errorf("Content-Type = %q, want %q", got, ContentTypeJSON)
	}
	if got, want := rec.Body.String(), `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`; got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
}

func TestParseVersion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in        string
		want      Version
		wantErr   bool
		supported bool
	}{
		{in: "62.0", want: Version{62, 0}, supported: true},
		{in: "v59.0", want: Version{59, 0}, supported: true},
		{in: "30.0", want: Version{30, 0}},
		{in: "62", wantErr: true},
		{in: "x.0", wantErr: true},
	} {
		got, err := ParseVersion(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseVersion(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if err == nil && (got != tc.want || got.Supported() != tc.supported) {
			t.Errorf("ParseVersion(%q) = %v (supported %v), want %v (%v)", tc.in, got, got.Supported(), tc.want, tc.supported)
		}
	}
}

func TestFormatDateTime(t *testing.T) {
	t.Parallel()
	ts := time.Date(2024, 1, 3, 23, 52, 1, 0, time.UTC)
	if got, want := FormatDateTime(ts), "2024-01-03T23:52:01.000+0000"; got != want {
		t.Errorf("FormatDateTime = %q, want %q", got, want)
	}
	if got, want := FormatBulk1DateTime(ts), "2024-01-03T23:52:01.000Z"; got != want {
		t.Errorf("FormatBulk1DateTime = %q, want %q", got, want)
	}
}

func TestWriteJSONDoesNotEscapeHTML(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	WriteError(rec, 400, "INVALIDJOBSTATE", "Found multiple contents for job: <7505g000001>")
	if got, want := rec.Body.String(), `[{"message":"Found multiple contents for job: <7505g000001>","errorCode":"INVALIDJOBSTATE"}]`; got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
}
