package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// Bulk API 1.0 limits (per batch).
const (
	// MaxBatchRecords is the most records one Bulk API 1.0 batch may hold.
	MaxBatchRecords = 10_000
	// MaxBatchBytes is the largest Bulk API 1.0 batch file, in bytes (10 MB).
	MaxBatchBytes = 10_000_000
	// MaxBatchChars is the most characters one Bulk API 1.0 batch file may hold.
	MaxBatchChars = 10_000_000
	// DefaultPKChunkSize is the chunk size Salesforce uses when PK chunking is enabled
	// without one.
	DefaultPKChunkSize = 100_000
	// MaxPKChunkSize is the largest PK chunk size Salesforce accepts.
	MaxPKChunkSize = 250_000
)

// Bulk1Namespace is the XML namespace of Bulk API 1.0 bodies.
const Bulk1Namespace = "http://www.force.com/2009/06/asyncapi/dataload"

// Bulk API 1.0 job states (JobStateOpen, JobStateFailed and JobStateAborted are shared with
// Bulk API 2.0).
const (
	JobStateClosed = "Closed"
)

// Bulk API 1.0 batch states.
const (
	BatchStateQueued       = "Queued"
	BatchStateInProgress   = "InProgress"
	BatchStateCompleted    = "Completed"
	BatchStateFailed       = "Failed"
	BatchStateNotProcessed = "NotProcessed"
)

// JobRequest creates a Bulk API 1.0 job.
type JobRequest struct {
	// Object is the sObject API name (for query jobs, the FROM object). Required.
	Object string
	// Operation is insert, update, upsert, delete, hardDelete, query or queryAll. Required.
	Operation string
	// ExternalIDFieldName is required for upsert.
	ExternalIDFieldName string
	// ContentType of the batches and results: CSV (default), JSON or XML (also ZIP_CSV,
	// ZIP_JSON, ZIP_XML). A JSON job is created with a JSON request; the others with XML.
	ContentType string
	// ConcurrencyMode is Parallel (default) or Serial.
	ConcurrencyMode string
	// AssignmentRuleID is a Case or Lead assignment rule id.
	AssignmentRuleID string
	// PKChunking enables primary-key chunking (query jobs only) when non-nil.
	PKChunking *PKChunking
	// DisableBatchRetry sends Sforce-Disable-Batch-Retry: TRUE (failed batches are not
	// retried by Salesforce).
	DisableBatchRetry bool
	// LineEnding (LF or CRLF) sends Sforce-Line-Ending: how line breaks inside text area values
	// are read.
	LineEnding string
}

// PKChunking configures the Sforce-Enable-PKChunking header. The zero value enables chunking
// with Salesforce's defaults (chunk size 100,000).
type PKChunking struct {
	// ChunkSize is the number of records per chunk (0 = default 100,000; at most 250,000).
	ChunkSize int
	// Parent is the parent object when querying a sharing or history table
	// (for example "Account" for AccountShare).
	Parent string
	// StartRow is the 15- or 18-character id chunking starts from (to resume).
	StartRow string
}

// header returns the Sforce-Enable-PKChunking value.
func (p *PKChunking) header() (string, error) {
	if p.ChunkSize < 0 || p.ChunkSize > MaxPKChunkSize {
		return "", fmt.Errorf("salesforce: PK chunk size %d is outside 1..%d", p.ChunkSize, MaxPKChunkSize)
	}
	var parts []string
	if p.ChunkSize > 0 {
		parts = append(parts, "chunkSize="+strconv.Itoa(p.ChunkSize))
	}
	if p.Parent != "" {
		parts = append(parts, "parent="+p.Parent)
	}
	if p.StartRow != "" {
		parts = append(parts, "startRow="+p.StartRow)
	}
	if len(parts) == 0 {
		return "true", nil
	}
	return strings.Join(parts, "; "), nil
}

func (r JobRequest) validate() error {
	if r.Object == "" {
		return errors.New("salesforce: Bulk 1.0 job: Object is required")
	}
	switch r.Operation {
	case "insert", "update", "delete", "hardDelete", "query", "queryAll":
	case "upsert":
		if r.ExternalIDFieldName == "" {
			return errors.New("salesforce: Bulk 1.0 job: ExternalIDFieldName is required for upsert")
		}
	default:
		return fmt.Errorf("salesforce: Bulk 1.0 job: Operation %q is not insert, update, upsert, delete, hardDelete, query or queryAll", r.Operation)
	}
	switch r.ContentType {
	case "", "CSV", "JSON", "XML", "ZIP_CSV", "ZIP_JSON", "ZIP_XML":
	default:
		return fmt.Errorf("salesforce: Bulk 1.0 job: ContentType %q is not CSV, JSON, XML, ZIP_CSV, ZIP_JSON or ZIP_XML", r.ContentType)
	}
	switch r.ConcurrencyMode {
	case "", "Parallel", "Serial":
	default:
		return fmt.Errorf("salesforce: Bulk 1.0 job: ConcurrencyMode %q is not Parallel or Serial", r.ConcurrencyMode)
	}
	switch r.LineEnding {
	case "", "LF", "CRLF":
	default:
		return fmt.Errorf("salesforce: Bulk 1.0 job: LineEnding %q is not LF or CRLF", r.LineEnding)
	}
	if r.PKChunking != nil && r.Operation != "query" && r.Operation != "queryAll" {
		return errors.New("salesforce: Bulk 1.0 job: PK chunking applies to query jobs only")
	}
	return nil
}

// jobInfoRequest is the jobInfo body of create and state-change requests, in the element
// order Salesforce's clients send.
type jobInfoRequest struct {
	XMLName             xml.Name `xml:"http://www.force.com/2009/06/asyncapi/dataload jobInfo" json:"-"`
	Operation           string   `xml:"operation,omitempty" json:"operation,omitempty"`
	Object              string   `xml:"object,omitempty" json:"object,omitempty"`
	ExternalIDFieldName string   `xml:"externalIdFieldName,omitempty" json:"externalIdFieldName,omitempty"`
	State               string   `xml:"state,omitempty" json:"state,omitempty"`
	ConcurrencyMode     string   `xml:"concurrencyMode,omitempty" json:"concurrencyMode,omitempty"`
	AssignmentRuleID    string   `xml:"assignmentRuleId,omitempty" json:"assignmentRuleId,omitempty"`
	ContentType         string   `xml:"contentType,omitempty" json:"contentType,omitempty"`
}

// Job is a Bulk API 1.0 job (jobInfo) as Salesforce reports it.
type Job struct {
	ID                  string `xml:"id" json:"id"`
	Operation           string `xml:"operation" json:"operation"`
	Object              string `xml:"object" json:"object"`
	ExternalIDFieldName string `xml:"externalIdFieldName" json:"externalIdFieldName,omitempty"`
	CreatedByID         string `xml:"createdById" json:"createdById,omitempty"`
	CreatedDate         string `xml:"createdDate" json:"createdDate,omitempty"`
	SystemModstamp      string `xml:"systemModstamp" json:"systemModstamp,omitempty"`
	State               string `xml:"state" json:"state"`
	ConcurrencyMode     string `xml:"concurrencyMode" json:"concurrencyMode,omitempty"`
	ContentType         string `xml:"contentType" json:"contentType,omitempty"`
	AssignmentRuleID    string `xml:"assignmentRuleId" json:"assignmentRuleId,omitempty"`
	// APIVersion is the job's API version, such as "62.0".
	APIVersion string `xml:"apiVersion" json:"apiVersion,omitempty"`

	NumberBatchesQueued     int64 `xml:"numberBatchesQueued" json:"numberBatchesQueued"`
	NumberBatchesInProgress int64 `xml:"numberBatchesInProgress" json:"numberBatchesInProgress"`
	NumberBatchesCompleted  int64 `xml:"numberBatchesCompleted" json:"numberBatchesCompleted"`
	NumberBatchesFailed     int64 `xml:"numberBatchesFailed" json:"numberBatchesFailed"`
	NumberBatchesTotal      int64 `xml:"numberBatchesTotal" json:"numberBatchesTotal"`
	NumberRecordsProcessed  int64 `xml:"numberRecordsProcessed" json:"numberRecordsProcessed"`
	NumberRecordsFailed     int64 `xml:"numberRecordsFailed" json:"numberRecordsFailed"`
	NumberRetries           int64 `xml:"numberRetries" json:"numberRetries"`
	TotalProcessingTime     int64 `xml:"totalProcessingTime" json:"totalProcessingTime"`
	APIActiveProcessingTime int64 `xml:"apiActiveProcessingTime" json:"apiActiveProcessingTime"`
	ApexProcessingTime      int64 `xml:"apexProcessingTime" json:"apexProcessingTime"`
}

// UnmarshalJSON decodes a JSON jobInfo, accepting apiVersion as a number or a string.
func (j *Job) UnmarshalJSON(b []byte) error {
	type plain Job
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

// Done reports whether every batch of a Closed job has finished (completed or failed). Bulk
// API 1.0 jobs have no "complete" state of their own.
func (j *Job) Done() bool {
	return j.NumberBatchesQueued == 0 && j.NumberBatchesInProgress == 0 &&
		j.NumberBatchesCompleted+j.NumberBatchesFailed >= j.NumberBatchesTotal
}

func (s *Bulk1Service) jobPath(elem ...string) string {
	return s.client.asyncPath(append([]string{"job"}, elem...)...)
}

// bulk1Request returns a request with Bulk API 1.0 auth and error format.
func bulk1Request(method, path string) *request {
	return &request{method: method, path: path, auth: authSession, errFormat: errBulk1, header: http.Header{}}
}

// encodeBulk1 sets r's body to v as XML (with the XML declaration) or JSON.
func encodeBulk1(r *request, v any, asJSON bool) error {
	var b []byte
	var err error
	if asJSON {
		b, err = json.Marshal(v)
		r.contentType = "application/json"
	} else {
		var out []byte
		out, err = xml.Marshal(v)
		b = append([]byte(xml.Header), out...)
		r.contentType = "application/xml; charset=UTF-8"
	}
	if err != nil {
		return fmt.Errorf("salesforce: encoding %s %s request: %w", r.method, r.path, err)
	}
	r.body = BytesBody(b)
	return nil
}

// doBulk1 sends r and decodes the response into out as JSON or XML, by the response
// Content-Type.
func (c *Client) doBulk1(ctx context.Context, r *request, out any) error {
	resp, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return &TransportError{Method: r.method, URL: sanitizeURL(resp.Request.URL.String()), Err: fmt.Errorf("reading response: %w", err)}
	}
	if err := decodeBulk1(resp.Header.Get("Content-Type"), body, out); err != nil {
		return &DecodeError{Method: r.method, URL: sanitizeURL(resp.Request.URL.String()), StatusCode: resp.StatusCode, Err: err}
	}
	return nil
}

func isJSONMedia(contentType string, body []byte) bool {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil {
		switch {
		case strings.HasSuffix(mt, "json"):
			return true
		case strings.HasSuffix(mt, "xml"):
			return false
		}
	}
	t := bytes.TrimSpace(body)
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

func decodeBulk1(contentType string, body []byte, out any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("empty body")
	}
	if isJSONMedia(contentType, body) {
		return json.Unmarshal(body, out)
	}
	return xml.Unmarshal(body, out)
}

// bulk1Job decodes a jobInfo response (XML root <jobInfo>, or JSON).
type bulk1Job struct{ Job }

func (j *bulk1Job) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	if start.Name.Local != "jobInfo" {
		return fmt.Errorf("root element is <%s>, want <jobInfo>", start.Name.Local)
	}
	return d.DecodeElement(&j.Job, &start)
}

// CreateJob creates a Bulk API 1.0 job in state Open.
func (s *Bulk1Service) CreateJob(ctx context.Context, req JobRequest) (*Job, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	ct := req.ContentType
	if ct == "" {
		ct = "CSV"
	}
	r := bulk1Request(http.MethodPost, s.jobPath())
	if req.PKChunking != nil {
		h, err := req.PKChunking.header()
		if err != nil {
			return nil, err
		}
		r.header.Set("Sforce-Enable-PKChunking", h)
	}
	if req.DisableBatchRetry {
		r.header.Set("Sforce-Disable-Batch-Retry", "TRUE")
	}
	if req.LineEnding != "" {
		r.header.Set("Sforce-Line-Ending", req.LineEnding)
	}
	body := jobInfoRequest{
		Operation:           req.Operation,
		Object:              req.Object,
		ExternalIDFieldName: req.ExternalIDFieldName,
		ConcurrencyMode:     req.ConcurrencyMode,
		AssignmentRuleID:    req.AssignmentRuleID,
		ContentType:         ct,
	}
	if err := encodeBulk1(r, body, ct == "JSON"); err != nil {
		return nil, err
	}
	var job bulk1Job
	if err := s.client.doBulk1(ctx, r, &job); err != nil {
		return nil, fmt.Errorf("salesforce: creating Bulk 1.0 %s job on %s: %w", req.Operation, req.Object, err)
	}
	return &job.Job, nil
}

// GetJob returns the job's state and counters.
func (s *Bulk1Service) GetJob(ctx context.Context, jobID string) (*Job, error) {
	if err := checkJobID(jobID); err != nil {
		return nil, err
	}
	var job bulk1Job
	if err := s.client.doBulk1(ctx, bulk1Request(http.MethodGet, s.jobPath(jobID)), &job); err != nil {
		return nil, fmt.Errorf("salesforce: getting Bulk 1.0 job %s: %w", jobID, err)
	}
	return &job.Job, nil
}

func (s *Bulk1Service) setJobState(ctx context.Context, jobID, state string) (*Job, error) {
	if err := checkJobID(jobID); err != nil {
		return nil, err
	}
	r := bulk1Request(http.MethodPost, s.jobPath(jobID))
	if err := encodeBulk1(r, jobInfoRequest{State: state}, false); err != nil {
		return nil, err
	}
	var job bulk1Job
	if err := s.client.doBulk1(ctx, r, &job); err != nil {
		return nil, fmt.Errorf("salesforce: setting Bulk 1.0 job %s to %s: %w", jobID, state, err)
	}
	return &job.Job, nil
}

// CloseJob closes the job: no more batches can be added; batches already added keep running.
func (s *Bulk1Service) CloseJob(ctx context.Context, jobID string) (*Job, error) {
	return s.setJobState(ctx, jobID, JobStateClosed)
}

// AbortJob aborts the job: batches not yet started become NotProcessed.
func (s *Bulk1Service) AbortJob(ctx context.Context, jobID string) (*Job, error) {
	return s.setJobState(ctx, jobID, JobStateAborted)
}
