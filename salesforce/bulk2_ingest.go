package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// Bulk API 2.0 limits.
const (
	// MaxBulk2UploadBytes is the largest job upload Bulk API 2.0 accepts, measured after the
	// base64 encoding Salesforce applies internally: 150 MB. Base64 turns every 3 raw bytes
	// into 4, so the raw CSV of one upload may be at most MaxBulk2UploadRawBytes
	// (112,500,000 bytes); Salesforce recommends staying at about 100 MB raw
	// (RecommendedBulk2UploadRawBytes).
	MaxBulk2UploadBytes = 150_000_000

	// MaxBulk2UploadRawBytes is the largest raw CSV upload whose base64 encoding fits in
	// MaxBulk2UploadBytes. UploadJobData refuses bodies larger than this.
	MaxBulk2UploadRawBytes = MaxBulk2UploadBytes / 4 * 3

	// RecommendedBulk2UploadRawBytes is the raw upload size Salesforce recommends as the
	// practical ceiling for one Bulk API 2.0 job (100 MB), leaving headroom under
	// MaxBulk2UploadRawBytes.
	RecommendedBulk2UploadRawBytes = 100_000_000

	// Bulk2InternalBatchRecords is the size of the internal batches Salesforce splits a
	// Bulk API 2.0 upload into; each counts toward the daily batch allocation.
	Bulk2InternalBatchRecords = 10_000

	// MaxBulk2ListPageJobs is the most jobs one page of a job list holds.
	MaxBulk2ListPageJobs = 1000

	// MinBulk2IngestAPIVersion is the first API version with Bulk API 2.0 ingest.
	MinBulk2IngestAPIVersion = 41.0
	// MinAssignmentRuleAPIVersion is the first API version accepting assignmentRuleId on a
	// Bulk API 2.0 job.
	MinAssignmentRuleAPIVersion = 49.0
)

// Bulk API 2.0 job states.
const (
	JobStateOpen           = "Open"
	JobStateUploadComplete = "UploadComplete"
	JobStateInProgress     = "InProgress"
	JobStateJobComplete    = "JobComplete"
	JobStateFailed         = "Failed"
	JobStateAborted        = "Aborted"
)

// Bulk2Base64Len is the size of n raw bytes after base64 encoding, the measure Salesforce
// applies to MaxBulk2UploadBytes.
func Bulk2Base64Len(n int64) int64 { return (n + 2) / 3 * 4 }

// IngestJobRequest is the body that creates a Bulk API 2.0 ingest job. Empty strings are left
// out of the request, so Salesforce's defaults apply (CSV, COMMA, LF).
type IngestJobRequest struct {
	// Object is the sObject API name, such as "Contact". Required.
	Object string `json:"object"`
	// Operation is insert, update, upsert, delete or hardDelete. Required.
	Operation string `json:"operation"`
	// ExternalIDFieldName is the external id field for upsert (required for upsert only).
	ExternalIDFieldName string `json:"externalIdFieldName,omitempty"`
	// ContentType is "CSV", the only type Bulk API 2.0 accepts ("" = CSV).
	ContentType string `json:"contentType,omitempty"`
	// ColumnDelimiter is COMMA (default), BACKQUOTE, CARET, PIPE, SEMICOLON or TAB.
	ColumnDelimiter string `json:"columnDelimiter,omitempty"`
	// LineEnding is LF (default) or CRLF; it must match the uploaded data.
	LineEnding string `json:"lineEnding,omitempty"`
	// AssignmentRuleID is a Case or Lead assignment rule id (API 49.0 and later).
	AssignmentRuleID string `json:"assignmentRuleId,omitempty"`
}

func (r IngestJobRequest) validate(c *Client) error {
	if err := c.requireVersion("Bulk API 2.0 ingest", MinBulk2IngestAPIVersion); err != nil {
		return err
	}
	if r.AssignmentRuleID != "" {
		if err := c.requireVersion("Bulk API 2.0 assignmentRuleId", MinAssignmentRuleAPIVersion); err != nil {
			return err
		}
	}
	if r.Object == "" {
		return errors.New("salesforce: ingest job: Object is required")
	}
	switch r.Operation {
	case "insert", "update", "delete", "hardDelete":
	case "upsert":
		if r.ExternalIDFieldName == "" {
			return errors.New("salesforce: ingest job: ExternalIDFieldName is required for upsert")
		}
	default:
		return fmt.Errorf("salesforce: ingest job: Operation %q is not insert, update, upsert, delete or hardDelete", r.Operation)
	}
	if r.ContentType != "" && r.ContentType != "CSV" {
		return fmt.Errorf("salesforce: ingest job: ContentType %q is not CSV", r.ContentType)
	}
	switch r.ColumnDelimiter {
	case "", "COMMA", "BACKQUOTE", "CARET", "PIPE", "SEMICOLON", "TAB":
	default:
		return fmt.Errorf("salesforce: ingest job: ColumnDelimiter %q is not COMMA, BACKQUOTE, CARET, PIPE, SEMICOLON or TAB", r.ColumnDelimiter)
	}
	switch r.LineEnding {
	case "", "LF", "CRLF":
	default:
		return fmt.Errorf("salesforce: ingest job: LineEnding %q is not LF or CRLF", r.LineEnding)
	}
	return nil
}

// IngestJob is the state of a Bulk API 2.0 ingest job as Salesforce reports it.
type IngestJob struct {
	ID                  string `json:"id"`
	Object              string `json:"object"`
	Operation           string `json:"operation"`
	State               string `json:"state"`
	ExternalIDFieldName string `json:"externalIdFieldName,omitempty"`
	ContentType         string `json:"contentType,omitempty"`
	ColumnDelimiter     string `json:"columnDelimiter,omitempty"`
	LineEnding          string `json:"lineEnding,omitempty"`
	AssignmentRuleID    string `json:"assignmentRuleId,omitempty"`
	ConcurrencyMode     string `json:"concurrencyMode,omitempty"`
	// ContentURL is the upload path relative to the instance, without a leading slash, as
	// Salesforce sends it ("services/data/v62.0/jobs/ingest/750…/batches").
	ContentURL   string `json:"contentUrl,omitempty"`
	JobType      string `json:"jobType,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
	// APIVersion is the job's API version, such as "62.0" (a JSON number on the wire).
	APIVersion     string `json:"apiVersion,omitempty"`
	CreatedByID    string `json:"createdById,omitempty"`
	CreatedDate    string `json:"createdDate,omitempty"`
	SystemModstamp string `json:"systemModstamp,omitempty"`

	NumberRecordsProcessed  int64 `json:"numberRecordsProcessed"`
	NumberRecordsFailed     int64 `json:"numberRecordsFailed"`
	Retries                 int64 `json:"retries"`
	TotalProcessingTime     int64 `json:"totalProcessingTime"`
	APIActiveProcessingTime int64 `json:"apiActiveProcessingTime"`
	ApexProcessingTime      int64 `json:"apexProcessingTime"`
}

// UnmarshalJSON decodes a job, accepting apiVersion as a number or a string.
func (j *IngestJob) UnmarshalJSON(b []byte) error {
	type plain IngestJob
	w := struct {
		*plain
		APIVersion jsonVersion `json:"apiVersion"`
	}{plain: (*plain)(j)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	j.APIVersion = string(w.APIVersion)
	return nil
}

// Terminal reports whether the job will not change state any more (JobComplete, Failed or
// Aborted).
func (j *IngestJob) Terminal() bool { return terminalJobState(j.State) }

// terminalJobState reports whether a Bulk API 2.0 job state is final.
func terminalJobState(state string) bool {
	switch state {
	case JobStateJobComplete, JobStateFailed, JobStateAborted:
		return true
	}
	return false
}

// jsonVersion decodes an API version written as a JSON number (62.0) or string ("62.0").
type jsonVersion string

func (v *jsonVersion) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		s = str
	} else if _, err := strconv.ParseFloat(s, 64); err != nil {
		return fmt.Errorf("apiVersion %s is not a number", s)
	}
	if s != "" && !strings.Contains(s, ".") {
		s += ".0"
	}
	*v = jsonVersion(s)
	return nil
}

func (s *Bulk2Service) ingestPath(elem ...string) string {
	return s.client.dataPath(append([]string{"jobs", "ingest"}, elem...)...)
}

func checkJobID(id string) error { return checkPathElem("job id", id, "/?#%") }

// checkPathElem refuses an empty value or one with a character of bad: it is put into a URL
// path.
func checkPathElem(what, v, bad string) error {
	if v == "" {
		return fmt.Errorf("salesforce: %s is empty", what)
	}
	if strings.ContainsAny(v, bad) {
		return fmt.Errorf("salesforce: invalid %s %q", what, v)
	}
	return nil
}

// CreateIngestJob creates an ingest job in state Open, ready for UploadJobData.
func (s *Bulk2Service) CreateIngestJob(ctx context.Context, req IngestJobRequest) (*IngestJob, error) {
	if err := req.validate(s.client); err != nil {
		return nil, err
	}
	var job IngestJob
	r := &request{method: http.MethodPost, path: s.ingestPath()}
	if err := s.client.doJSON(ctx, r, req, &job); err != nil {
		return nil, fmt.Errorf("salesforce: creating %s ingest job on %s: %w", req.Operation, req.Object, err)
	}
	return &job, nil
}

// UploadTooLargeError reports data larger than the API accepts in one request: a Bulk API 2.0
// upload over MaxBulk2UploadRawBytes (or a multipart create over MaxBulk2MultipartBytes), or a
// Bulk API 1.0 batch over MaxBatchBytes.
type UploadTooLargeError struct {
	JobID string
	// Size is the number of raw bytes seen when the limit was crossed (at least Limit+1).
	Size, Limit int64
}

// Error says which job, how big and what the limit is.
func (e *UploadTooLargeError) Error() string {
	return fmt.Sprintf("salesforce: upload to job %s is larger than %d bytes (%d bytes seen): split the data into several jobs", e.JobID, e.Limit, e.Size)
}

// UploadJobData uploads the CSV data of an Open ingest job (PUT …/batches, one upload per
// job). The data is streamed from data, which is opened again if the request is retried, and
// must use the job's column delimiter and line ending. Data larger than
// MaxBulk2UploadRawBytes is refused with an *UploadTooLargeError before or while it is sent.
func (s *Bulk2Service) UploadJobData(ctx context.Context, jobID string, data Body) error {
	if err := checkJobID(jobID); err != nil {
		return err
	}
	if data == nil {
		return errors.New("salesforce: UploadJobData: data is nil")
	}
	return s.uploadJobData(ctx, jobID, data, MaxBulk2UploadRawBytes)
}

// sizeLimit wraps data so that reading more than limit bytes fails with an
// *UploadTooLargeError, which tooBig then reports; later opens fail at once so the request is
// not retried.
type sizeLimit struct {
	tooBig atomic.Pointer[UploadTooLargeError]
}

func (sl *sizeLimit) wrap(data Body, jobID string, limit int64) Body {
	return func() (io.ReadCloser, error) {
		if e := sl.tooBig.Load(); e != nil {
			return nil, e
		}
		rc, err := data()
		if err != nil {
			return nil, err
		}
		if n, ok := knownSize(rc); ok && n > limit {
			rc.Close()
			e := &UploadTooLargeError{JobID: jobID, Size: n, Limit: limit}
			sl.tooBig.Store(e)
			return nil, e
		}
		return &limitedBody{rc: rc, limit: limit, onExceed: func(n int64) error {
			e := &UploadTooLargeError{JobID: jobID, Size: n, Limit: limit}
			sl.tooBig.Store(e)
			return e
		}}, nil
	}
}

func (s *Bulk2Service) uploadJobData(ctx context.Context, jobID string, data Body, limit int64) error {
	var sl sizeLimit
	body := sl.wrap(data, jobID, limit)
	r := &request{
		method:      http.MethodPut,
		path:        s.ingestPath(jobID, "batches"),
		body:        body,
		contentType: "text/csv",
		header:      http.Header{"Accept": {"application/json"}},
	}
	resp, err := s.client.do(ctx, r)
	if e := sl.tooBig.Load(); e != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return e
	}
	if err != nil {
		return fmt.Errorf("salesforce: uploading data to ingest job %s: %w", jobID, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxErrorBodyBytes))
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("salesforce: uploading data to ingest job %s: unexpected status %d (want 201)", jobID, resp.StatusCode)
	}
	return nil
}

// knownSize reports the size of readers whose length is known without reading them.
func knownSize(r io.Reader) (int64, bool) {
	switch v := r.(type) {
	case *os.File:
		fi, err := v.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return 0, false
		}
		return fi.Size(), true
	case *bytes.Reader:
		return int64(v.Len()), true
	case *strings.Reader:
		return int64(v.Len()), true
	case interface{ Len() int }:
		return int64(v.Len()), true
	}
	return 0, false
}

// limitedBody fails the read that would take it past limit.
type limitedBody struct {
	rc       io.ReadCloser
	n, limit int64
	onExceed func(n int64) error
}

func (l *limitedBody) Read(p []byte) (int, error) {
	n, err := l.rc.Read(p)
	l.n += int64(n)
	if l.n > l.limit {
		return 0, l.onExceed(l.n)
	}
	return n, err
}

func (l *limitedBody) Close() error { return l.rc.Close() }

// size is the body's length when it is known and within the limit (an upload over the
// limit is refused before it is opened, see sizeLimit.wrap).
func (l *limitedBody) size() (int64, bool) {
	n, ok := knownSize(l.rc)
	return n, ok && n <= l.limit
}

type jobStateRequest struct {
	State string `json:"state"`
}

func (s *Bulk2Service) setIngestState(ctx context.Context, jobID, state string) (*IngestJob, error) {
	if err := checkJobID(jobID); err != nil {
		return nil, err
	}
	var job IngestJob
	r := &request{method: http.MethodPatch, path: s.ingestPath(jobID)}
	if err := s.client.doJSON(ctx, r, jobStateRequest{State: state}, &job); err != nil {
		return nil, fmt.Errorf("salesforce: setting ingest job %s to %s: %w", jobID, state, err)
	}
	return &job, nil
}

// CloseIngestJob marks the upload complete (state UploadComplete) so Salesforce starts
// processing the job.
func (s *Bulk2Service) CloseIngestJob(ctx context.Context, jobID string) (*IngestJob, error) {
	return s.setIngestState(ctx, jobID, JobStateUploadComplete)
}

// AbortIngestJob aborts the job (state Aborted). Records already processed stay processed.
func (s *Bulk2Service) AbortIngestJob(ctx context.Context, jobID string) (*IngestJob, error) {
	return s.setIngestState(ctx, jobID, JobStateAborted)
}

// GetIngestJob returns the job's current state and counters.
func (s *Bulk2Service) GetIngestJob(ctx context.Context, jobID string) (*IngestJob, error) {
	if err := checkJobID(jobID); err != nil {
		return nil, err
	}
	var job IngestJob
	if err := s.client.doJSON(ctx, &request{method: http.MethodGet, path: s.ingestPath(jobID)}, nil, &job); err != nil {
		return nil, fmt.Errorf("salesforce: getting ingest job %s: %w", jobID, err)
	}
	return &job, nil
}

// DeleteIngestJob deletes a job and its data. The job must be UploadComplete, JobComplete,
// Aborted or Failed.
func (s *Bulk2Service) DeleteIngestJob(ctx context.Context, jobID string) error {
	if err := checkJobID(jobID); err != nil {
		return err
	}
	if err := s.client.doJSON(ctx, &request{method: http.MethodDelete, path: s.ingestPath(jobID)}, nil, nil); err != nil {
		return fmt.Errorf("salesforce: deleting ingest job %s: %w", jobID, err)
	}
	return nil
}

// ListIngestJobs iterates over every job the org reports under /jobs/ingest (which also lists
// Bulk API 1.0 jobs, JobType "Classic"), following nextRecordsUrl page by page. Iteration stops
// after the first error.
func (s *Bulk2Service) ListIngestJobs(ctx context.Context) iter.Seq2[*IngestJob, error] {
	return listJobs[IngestJob](ctx, s.client, s.ingestPath(), "ingest")
}

type jobListPage[T any] struct {
	Done           bool    `json:"done"`
	NextRecordsURL *string `json:"nextRecordsUrl"`
	Records        []*T    `json:"records"`
}

func listJobs[T any](ctx context.Context, c *Client, first, kind string) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		next := first
		for next != "" {
			var page jobListPage[T]
			if err := c.doJSON(ctx, &request{method: http.MethodGet, path: next}, nil, &page); err != nil {
				yield(nil, fmt.Errorf("salesforce: listing %s jobs: %w", kind, err))
				return
			}
			for _, j := range page.Records {
				if !yield(j, nil) {
					return
				}
			}
			next = ""
			if !page.Done && page.NextRecordsURL != nil && *page.NextRecordsURL != "" {
				p, err := instancePath(*page.NextRecordsURL)
				if err != nil {
					yield(nil, fmt.Errorf("salesforce: listing %s jobs: %w", kind, err))
					return
				}
				next = p
			}
		}
	}
}

// instancePath turns a URL Salesforce returned (absolute path, path without leading slash, or
// full URL) into a path (with query) on the instance.
func instancePath(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("invalid next page URL %q: %w", raw, err)
	}
	p := u.EscapedPath()
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p, nil
}

func (s *Bulk2Service) resultFile(ctx context.Context, jobID, name string) (io.ReadCloser, error) {
	if err := checkJobID(jobID); err != nil {
		return nil, err
	}
	r := &request{method: http.MethodGet, path: s.ingestPath(jobID, name), header: http.Header{"Accept": {"text/csv"}}}
	resp, err := s.client.do(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("salesforce: getting %s of ingest job %s: %w", name, jobID, err)
	}
	return resp.Body, nil
}

// SuccessfulResults streams the job's successful-records CSV: columns sf__Id, sf__Created,
// then the uploaded columns. Rows are not in upload order. The caller must close it.
func (s *Bulk2Service) SuccessfulResults(ctx context.Context, jobID string) (io.ReadCloser, error) {
	return s.resultFile(ctx, jobID, "successfulResults")
}

// FailedResults streams the job's failed-records CSV: columns sf__Id, sf__Error
// ("CODE:message:fields --"), then the uploaded columns. The caller must close it.
func (s *Bulk2Service) FailedResults(ctx context.Context, jobID string) (io.ReadCloser, error) {
	return s.resultFile(ctx, jobID, "failedResults")
}

// UnprocessedRecords streams the CSV of rows that were never attempted (aborted or failed
// job), with the uploaded columns only. The caller must close it.
func (s *Bulk2Service) UnprocessedRecords(ctx context.Context, jobID string) (io.ReadCloser, error) {
	return s.resultFile(ctx, jobID, "unprocessedrecords")
}

// MaxBulk2MultipartBytes is the most CSV data CreateIngestJobWithData sends in one multipart
// request. Salesforce documents the multipart form for small loads, capping the data at
// 100,000 characters (20,000 in older versions); larger data belongs in UploadJobData.
const MaxBulk2MultipartBytes = 100_000

// CreateIngestJobWithData creates an ingest job and uploads its data in one multipart request
// (parts "job" and "content"). Salesforce closes the job itself: the returned job is in state
// UploadComplete. data may hold at most MaxBulk2MultipartBytes; it is read once and kept in
// memory so the request can be retried.
func (s *Bulk2Service) CreateIngestJobWithData(ctx context.Context, req IngestJobRequest, data Body) (*IngestJob, error) {
	if err := req.validate(s.client); err != nil {
		return nil, err
	}
	if data == nil {
		return nil, errors.New("salesforce: CreateIngestJobWithData: data is nil")
	}
	rc, err := data()
	if err != nil {
		return nil, fmt.Errorf("salesforce: CreateIngestJobWithData: opening data: %w", err)
	}
	csvData, err := io.ReadAll(io.LimitReader(rc, MaxBulk2MultipartBytes+1))
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("salesforce: CreateIngestJobWithData: reading data: %w", err)
	}
	if len(csvData) > MaxBulk2MultipartBytes {
		return nil, &UploadTooLargeError{JobID: "(multipart create)", Size: int64(len(csvData)), Limit: MaxBulk2MultipartBytes}
	}
	jobJSON, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("salesforce: CreateIngestJobWithData: %w", err)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	jobPart, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":        {"application/json"},
		"Content-Disposition": {`form-data; name="job"`},
	})
	if err == nil {
		_, err = jobPart.Write(jobJSON)
	}
	if err == nil {
		var content io.Writer
		content, err = mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":        {"text/csv"},
			"Content-Disposition": {`form-data; name="content"; filename="content"`},
		})
		if err == nil {
			_, err = content.Write(csvData)
		}
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("salesforce: CreateIngestJobWithData: building request: %w", err)
	}
	r := &request{
		method:      http.MethodPost,
		path:        s.ingestPath(),
		body:        BytesBody(buf.Bytes()),
		contentType: mw.FormDataContentType(),
	}
	var job IngestJob
	if err := s.client.doJSON(ctx, r, nil, &job); err != nil {
		return nil, fmt.Errorf("salesforce: creating %s ingest job on %s with data: %w", req.Operation, req.Object, err)
	}
	return &job, nil
}
