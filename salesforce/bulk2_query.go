package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Bulk API 2.0 query limits.
const (
	// MinBulk2QueryAPIVersion is the first API version with Bulk API 2.0 query jobs.
	MinBulk2QueryAPIVersion = 47.0

	// MinResultPagesAPIVersion is the first API version with the resultPages resource.
	MinResultPagesAPIVersion = 58.0

	// MaxResultPagesPerResponse is the most result URLs one resultPages response holds.
	MaxResultPagesPerResponse = 5

	// MaxBulk2QueryJobsPerDay is the daily allocation of Bulk API 2.0 query jobs
	// (DailyBulkV2QueryJobs).
	MaxBulk2QueryJobsPerDay = 10_000
)

// QueryJobRequest is the body that creates a Bulk API 2.0 query job.
type QueryJobRequest struct {
	// Query is the SOQL query. Required.
	Query string `json:"query"`
	// Operation is "query" (default) or "queryAll" (includes deleted and archived records).
	Operation string `json:"operation"`
	// ColumnDelimiter of the result files: COMMA (default), BACKQUOTE, CARET, PIPE,
	// SEMICOLON or TAB.
	ColumnDelimiter string `json:"columnDelimiter,omitempty"`
	// LineEnding of the result files: LF (default) or CRLF.
	LineEnding string `json:"lineEnding,omitempty"`
	// ContentType is "CSV", the only type ("" = CSV).
	ContentType string `json:"contentType,omitempty"`
}

// QueryJob is the state of a Bulk API 2.0 query job as Salesforce reports it.
type QueryJob struct {
	ID              string `json:"id"`
	Operation       string `json:"operation"`
	Object          string `json:"object"`
	State           string `json:"state"`
	ErrorMessage    string `json:"errorMessage,omitempty"`
	ContentType     string `json:"contentType,omitempty"`
	ColumnDelimiter string `json:"columnDelimiter,omitempty"`
	LineEnding      string `json:"lineEnding,omitempty"`
	ConcurrencyMode string `json:"concurrencyMode,omitempty"`
	JobType         string `json:"jobType,omitempty"`
	// APIVersion is the job's API version, such as "62.0". Results must be fetched with it.
	APIVersion     string `json:"apiVersion,omitempty"`
	CreatedByID    string `json:"createdById,omitempty"`
	CreatedDate    string `json:"createdDate,omitempty"`
	SystemModstamp string `json:"systemModstamp,omitempty"`

	NumberRecordsProcessed int64 `json:"numberRecordsProcessed"`
	Retries                int64 `json:"retries"`
	TotalProcessingTime    int64 `json:"totalProcessingTime"`
	IsPkChunkingSupported  bool  `json:"isPkChunkingSupported"`
}

// UnmarshalJSON decodes a job, accepting apiVersion as a number or a string.
func (j *QueryJob) UnmarshalJSON(b []byte) error {
	type plain QueryJob
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
func (j *QueryJob) Terminal() bool { return terminalJobState(j.State) }

func (s *Bulk2Service) queryPath(elem ...string) string {
	return s.client.dataPath(append([]string{"jobs", "query"}, elem...)...)
}

// CreateQueryJob creates a query job. Salesforce starts running it at once (state
// UploadComplete); poll GetQueryJob until JobComplete, then read QueryResults.
func (s *Bulk2Service) CreateQueryJob(ctx context.Context, req QueryJobRequest) (*QueryJob, error) {
	if err := s.client.requireVersion("Bulk API 2.0 query", MinBulk2QueryAPIVersion); err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.Query) == "" {
		return nil, errors.New("salesforce: query job: Query is required")
	}
	switch req.Operation {
	case "":
		req.Operation = "query"
	case "query", "queryAll":
	default:
		return nil, fmt.Errorf("salesforce: query job: Operation %q is not query or queryAll", req.Operation)
	}
	var job QueryJob
	if err := s.client.doJSON(ctx, &request{method: http.MethodPost, path: s.queryPath()}, req, &job); err != nil {
		return nil, fmt.Errorf("salesforce: creating query job: %w", err)
	}
	return &job, nil
}

// GetQueryJob returns the query job's current state.
func (s *Bulk2Service) GetQueryJob(ctx context.Context, jobID string) (*QueryJob, error) {
	if err := checkJobID(jobID); err != nil {
		return nil, err
	}
	var job QueryJob
	if err := s.client.doJSON(ctx, &request{method: http.MethodGet, path: s.queryPath(jobID)}, nil, &job); err != nil {
		return nil, fmt.Errorf("salesforce: getting query job %s: %w", jobID, err)
	}
	return &job, nil
}

// AbortQueryJob aborts a query job (state Aborted).
func (s *Bulk2Service) AbortQueryJob(ctx context.Context, jobID string) (*QueryJob, error) {
	if err := checkJobID(jobID); err != nil {
		return nil, err
	}
	var job QueryJob
	r := &request{method: http.MethodPatch, path: s.queryPath(jobID)}
	if err := s.client.doJSON(ctx, r, jobStateRequest{State: JobStateAborted}, &job); err != nil {
		return nil, fmt.Errorf("salesforce: aborting query job %s: %w", jobID, err)
	}
	return &job, nil
}

// DeleteQueryJob deletes a query job and its results.
func (s *Bulk2Service) DeleteQueryJob(ctx context.Context, jobID string) error {
	if err := checkJobID(jobID); err != nil {
		return err
	}
	if err := s.client.doJSON(ctx, &request{method: http.MethodDelete, path: s.queryPath(jobID)}, nil, nil); err != nil {
		return fmt.Errorf("salesforce: deleting query job %s: %w", jobID, err)
	}
	return nil
}

// ListQueryJobs iterates over the query jobs the org reports under /jobs/query, following
// nextRecordsUrl. Iteration stops after the first error.
func (s *Bulk2Service) ListQueryJobs(ctx context.Context) iter.Seq2[*QueryJob, error] {
	return listJobs[QueryJob](ctx, s.client, s.queryPath(), "query")
}

// QueryResults is one page of a query job's results.
type QueryResults struct {
	// Body is a complete CSV file (with its own header row) in the job's delimiter and line
	// ending. The caller must close it.
	Body io.ReadCloser
	// Locator fetches the next page; "" when this is the last page (Salesforce sends the
	// literal "null"). A response without the Sforce-Locator header is an error.
	Locator string
	// NumberOfRecords is the number of records in this page (Sforce-NumberOfRecords), or -1
	// when the server did not say.
	NumberOfRecords int
}

// QueryResults fetches one page of results. locator "" is the first page; maxRecords 0 lets
// Salesforce size the page.
func (s *Bulk2Service) QueryResults(ctx context.Context, jobID, locator string, maxRecords int) (*QueryResults, error) {
	if err := checkJobID(jobID); err != nil {
		return nil, err
	}
	if maxRecords < 0 {
		return nil, fmt.Errorf("salesforce: QueryResults: maxRecords %d is negative", maxRecords)
	}
	q := url.Values{}
	if locator != "" {
		q.Set("locator", locator)
	}
	if maxRecords > 0 {
		q.Set("maxRecords", strconv.Itoa(maxRecords))
	}
	return s.fetchResults(ctx, &request{method: http.MethodGet, path: s.queryPath(jobID, "results"), query: q}, jobID)
}

func (s *Bulk2Service) fetchResults(ctx context.Context, r *request, jobID string) (*QueryResults, error) {
	r.header = http.Header{"Accept": {"text/csv"}}
	resp, err := s.client.do(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("salesforce: getting results of query job %s: %w", jobID, err)
	}
	res := &QueryResults{Body: resp.Body, NumberOfRecords: -1}
	locs := resp.Header.Values("Sforce-Locator")
	if len(locs) == 0 || strings.TrimSpace(locs[0]) == "" {
		// Salesforce sends the header on every page ("null" on the last): without it the
		// client cannot tell whether pages follow, and guessing "last" would drop them.
		resp.Body.Close()
		return nil, fmt.Errorf("salesforce: getting results of query job %s: response has no Sforce-Locator header", jobID)
	}
	if loc := strings.TrimSpace(locs[0]); loc != "null" {
		res.Locator = loc
	}
	if n := strings.TrimSpace(resp.Header.Get("Sforce-NumberOfRecords")); n != "" {
		v, err := strconv.Atoi(n)
		if err != nil || v < 0 {
			resp.Body.Close()
			return nil, fmt.Errorf("salesforce: getting results of query job %s: invalid Sforce-NumberOfRecords %q", jobID, n)
		}
		res.NumberOfRecords = v
	}
	return res, nil
}

// IterQueryResults iterates over every result page of a completed query job, following
// Sforce-Locator until it is "null". Each page's Body is closed when the loop body returns,
// so read it inside the loop. Iteration stops after the first error.
func (s *Bulk2Service) IterQueryResults(ctx context.Context, jobID string, maxRecords int) iter.Seq2[*QueryResults, error] {
	return func(yield func(*QueryResults, error) bool) {
		locator := ""
		seen := map[string]bool{}
		for {
			page, err := s.QueryResults(ctx, jobID, locator, maxRecords)
			if err != nil {
				yield(nil, err)
				return
			}
			cont := yield(page, nil)
			page.Body.Close()
			if !cont || page.Locator == "" {
				return
			}
			if seen[page.Locator] {
				yield(nil, fmt.Errorf("salesforce: results of query job %s: locator %q repeated", jobID, page.Locator))
				return
			}
			seen[page.Locator] = true
			locator = page.Locator
		}
	}
}

// ResultPage is one result URL from the resultPages resource; fetch it with
// QueryResultPage. Pages can be fetched in parallel.
type ResultPage struct {
	// ResultURL is the instance-relative URL of the page, with its locator and maxRecords.
	ResultURL string `json:"resultUrl"`
}

type resultPagesResponse struct {
	ResultPages    []ResultPage `json:"resultPages"`
	Done           bool         `json:"done"`
	NextRecordsURL *string      `json:"nextRecordsUrl"`
	NextRecordURL  *string      `json:"nextRecordUrl"`
}

// APIVersionError reports a call that needs a newer API version than the client uses.
type APIVersionError struct {
	Feature           string
	Have, NeedAtLeast string
}

// Error names the feature and both versions.
func (e *APIVersionError) Error() string {
	return fmt.Sprintf("salesforce: %s needs API version %s or later; the client uses %s", e.Feature, e.NeedAtLeast, e.Have)
}

func (c *Client) requireVersion(feature string, min float64) error {
	v, err := strconv.ParseFloat(c.APIVersion(), 64)
	if err == nil && v >= min {
		return nil
	}
	return &APIVersionError{Feature: feature, Have: c.APIVersion(), NeedAtLeast: strconv.FormatFloat(min, 'f', 1, 64)}
}

// QueryResultPages lists every result page URL of a completed query job through the
// resultPages resource (API 58.0 and later), following its paging. maxRecords 0 lets
// Salesforce size the pages. Fetch each page with QueryResultPage, in parallel if desired.
func (s *Bulk2Service) QueryResultPages(ctx context.Context, jobID string, maxRecords int) ([]ResultPage, error) {
	if err := checkJobID(jobID); err != nil {
		return nil, err
	}
	if err := s.client.requireVersion("Bulk API 2.0 resultPages", MinResultPagesAPIVersion); err != nil {
		return nil, err
	}
	var q url.Values
	if maxRecords > 0 {
		q = url.Values{"maxRecords": {strconv.Itoa(maxRecords)}}
	}
	var pages []ResultPage
	r := &request{method: http.MethodGet, path: s.queryPath(jobID, "resultPages"), query: q}
	seen := map[string]bool{}
	for {
		var resp resultPagesResponse
		if err := s.client.doJSON(ctx, r, nil, &resp); err != nil {
			return nil, fmt.Errorf("salesforce: listing result pages of query job %s: %w", jobID, err)
		}
		pages = append(pages, resp.ResultPages...)
		next := resp.NextRecordsURL
		if next == nil || *next == "" {
			next = resp.NextRecordURL
		}
		if resp.Done || next == nil || *next == "" {
			return pages, nil
		}
		p, err := instancePath(*next)
		if err != nil {
			return nil, fmt.Errorf("salesforce: listing result pages of query job %s: %w", jobID, err)
		}
		if seen[p] {
			return nil, fmt.Errorf("salesforce: listing result pages of query job %s: next page %q repeated", jobID, p)
		}
		seen[p] = true
		r = &request{method: http.MethodGet, path: p}
	}
}

// QueryResultPage fetches one page listed by QueryResultPages.
func (s *Bulk2Service) QueryResultPage(ctx context.Context, page ResultPage) (*QueryResults, error) {
	if page.ResultURL == "" {
		return nil, errors.New("salesforce: QueryResultPage: empty result URL")
	}
	p, err := instancePath(page.ResultURL)
	if err != nil {
		return nil, fmt.Errorf("salesforce: QueryResultPage: %w", err)
	}
	return s.fetchResults(ctx, &request{method: http.MethodGet, path: p}, page.ResultURL)
}
