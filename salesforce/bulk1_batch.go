package salesforce

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strings"
)

// Batch is a Bulk API 1.0 batch (batchInfo) as Salesforce reports it.
type Batch struct {
	ID    string `xml:"id" json:"id"`
	JobID string `xml:"jobId" json:"jobId"`
	// State is Queued, InProgress, Completed, Failed or NotProcessed.
	State string `xml:"state" json:"state"`
	// StateMessage explains a Failed batch, such as "InvalidBatch : Field name not found : Foo".
	StateMessage            string `xml:"stateMessage" json:"stateMessage,omitempty"`
	CreatedDate             string `xml:"createdDate" json:"createdDate,omitempty"`
	SystemModstamp          string `xml:"systemModstamp" json:"systemModstamp,omitempty"`
	NumberRecordsProcessed  int64  `xml:"numberRecordsProcessed" json:"numberRecordsProcessed"`
	NumberRecordsFailed     int64  `xml:"numberRecordsFailed" json:"numberRecordsFailed"`
	TotalProcessingTime     int64  `xml:"totalProcessingTime" json:"totalProcessingTime"`
	APIActiveProcessingTime int64  `xml:"apiActiveProcessingTime" json:"apiActiveProcessingTime"`
	ApexProcessingTime      int64  `xml:"apexProcessingTime" json:"apexProcessingTime"`
}

// Terminal reports whether the batch will not change state any more (Completed, Failed or
// NotProcessed).
func (b *Batch) Terminal() bool {
	switch b.State {
	case BatchStateCompleted, BatchStateFailed, BatchStateNotProcessed:
		return true
	}
	return false
}

type bulk1Batch struct{ Batch }

func (b *bulk1Batch) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	if start.Name.Local != "batchInfo" {
		return fmt.Errorf("root element is <%s>, want <batchInfo>", start.Name.Local)
	}
	return d.DecodeElement(&b.Batch, &start)
}

type bulk1BatchList struct {
	Batches []*Batch `xml:"batchInfo" json:"batchInfo"`
}

func (l *bulk1BatchList) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	if start.Name.Local != "batchInfoList" {
		return fmt.Errorf("root element is <%s>, want <batchInfoList>", start.Name.Local)
	}
	var v struct {
		Batches []*Batch `xml:"batchInfo"`
	}
	if err := d.DecodeElement(&v, &start); err != nil {
		return err
	}
	l.Batches = v.Batches
	return nil
}

// UnmarshalJSON accepts {"batchInfo":[…]} and {"batchInfo":{…}} (a single batch).
func (l *bulk1BatchList) UnmarshalJSON(b []byte) error {
	var v struct {
		BatchInfo json.RawMessage `json:"batchInfo"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	raw := strings.TrimSpace(string(v.BatchInfo))
	switch {
	case raw == "" || raw == "null":
		l.Batches = nil
		return nil
	case strings.HasPrefix(raw, "{"):
		var one Batch
		if err := json.Unmarshal(v.BatchInfo, &one); err != nil {
			return err
		}
		l.Batches = []*Batch{&one}
		return nil
	}
	return json.Unmarshal(v.BatchInfo, &l.Batches)
}

// batchMediaType maps a job content type name to the batch request media type; anything with
// a slash is taken as a media type already.
func batchMediaType(contentType string) string {
	switch strings.ToUpper(contentType) {
	case "", "CSV":
		return "text/csv; charset=UTF-8"
	case "JSON":
		return "application/json"
	case "XML":
		return "application/xml; charset=UTF-8"
	case "ZIP_CSV":
		return "zip/csv"
	case "ZIP_JSON":
		return "zip/json"
	case "ZIP_XML":
		return "zip/xml"
	}
	return contentType
}

// AddBatch adds a batch to an Open job. contentType is the job's content type (CSV, JSON,
// XML, ZIP_*) or a media type such as "text/csv; charset=UTF-8". The data is streamed from
// data, which is opened again if the request is retried; it must stay within MaxBatchRecords,
// MaxBatchBytes and MaxBatchChars (data over MaxBatchBytes is refused with an
// *UploadTooLargeError). For query jobs the data is the SOQL text (see
// AddQueryBatch).
func (s *Bulk1Service) AddBatch(ctx context.Context, jobID, contentType string, data Body) (*Batch, error) {
	if err := checkJobID(jobID); err != nil {
		return nil, err
	}
	if data == nil {
		return nil, errors.New("salesforce: AddBatch: data is nil")
	}
	return s.addBatch(ctx, jobID, contentType, data, MaxBatchBytes)
}

func (s *Bulk1Service) addBatch(ctx context.Context, jobID, contentType string, data Body, limit int64) (*Batch, error) {
	var sl sizeLimit
	r := bulk1Request(http.MethodPost, s.jobPath(jobID, "batch"))
	r.body = sl.wrap(data, jobID, limit)
	r.contentType = batchMediaType(contentType)
	var b bulk1Batch
	err := s.client.doBulk1(ctx, r, &b)
	if e := sl.tooBig.Load(); e != nil {
		return nil, e
	}
	if err != nil {
		return nil, fmt.Errorf("salesforce: adding batch to Bulk 1.0 job %s: %w", jobID, err)
	}
	return &b.Batch, nil
}

// AddQueryBatch adds a batch holding the SOQL query to an Open query job. contentType is the
// job's content type (CSV, JSON or XML).
func (s *Bulk1Service) AddQueryBatch(ctx context.Context, jobID, contentType, soql string) (*Batch, error) {
	if strings.TrimSpace(soql) == "" {
		return nil, errors.New("salesforce: AddQueryBatch: query is empty")
	}
	ct := batchMediaType(contentType)
	if strings.HasPrefix(ct, "text/csv") {
		ct = "text/csv"
	}
	return s.AddBatch(ctx, jobID, ct, BytesBody([]byte(soql)))
}

// GetBatch returns the batch's state and counters.
func (s *Bulk1Service) GetBatch(ctx context.Context, jobID, batchID string) (*Batch, error) {
	if err := checkJobID(jobID); err != nil {
		return nil, err
	}
	if err := checkJobID(batchID); err != nil {
		return nil, fmt.Errorf("salesforce: batch id: %w", err)
	}
	var b bulk1Batch
	if err := s.client.doBulk1(ctx, bulk1Request(http.MethodGet, s.jobPath(jobID, "batch", batchID)), &b); err != nil {
		return nil, fmt.Errorf("salesforce: getting batch %s of Bulk 1.0 job %s: %w", batchID, jobID, err)
	}
	return &b.Batch, nil
}

// ListBatches returns every batch of the job (including the chunk batches PK chunking
// creates).
func (s *Bulk1Service) ListBatches(ctx context.Context, jobID string) ([]*Batch, error) {
	if err := checkJobID(jobID); err != nil {
		return nil, err
	}
	var l bulk1BatchList
	if err := s.client.doBulk1(ctx, bulk1Request(http.MethodGet, s.jobPath(jobID, "batch")), &l); err != nil {
		return nil, fmt.Errorf("salesforce: listing batches of Bulk 1.0 job %s: %w", jobID, err)
	}
	return l.Batches, nil
}

func (s *Bulk1Service) stream(ctx context.Context, what, jobID string, elem ...string) (io.ReadCloser, error) {
	if err := checkJobID(jobID); err != nil {
		return nil, err
	}
	for _, e := range elem {
		if err := checkJobID(e); err != nil {
			return nil, fmt.Errorf("salesforce: %s: %w", what, err)
		}
	}
	resp, err := s.client.do(ctx, bulk1Request(http.MethodGet, s.jobPath(append([]string{jobID}, elem...)...)))
	if err != nil {
		return nil, fmt.Errorf("salesforce: getting %s of Bulk 1.0 job %s: %w", what, jobID, err)
	}
	return resp.Body, nil
}

// BatchRequest streams the data originally submitted for the batch. The caller must close it.
func (s *Bulk1Service) BatchRequest(ctx context.Context, jobID, batchID string) (io.ReadCloser, error) {
	return s.stream(ctx, "batch request "+batchID, jobID, "batch", batchID, "request")
}

// BatchResults streams an ingest batch's results, one per input record in input order, in the
// job's content type. For CSV: header "Id","Success","Created","Error". ReadBatchResults
// decodes any of the three formats. The caller must close it.
func (s *Bulk1Service) BatchResults(ctx context.Context, jobID, batchID string) (io.ReadCloser, error) {
	return s.stream(ctx, "results of batch "+batchID, jobID, "batch", batchID, "result")
}

// QueryResultList returns the result ids of a completed query batch; fetch each with
// QueryResult.
func (s *Bulk1Service) QueryResultList(ctx context.Context, jobID, batchID string) ([]string, error) {
	if err := checkJobID(jobID); err != nil {
		return nil, err
	}
	if err := checkJobID(batchID); err != nil {
		return nil, fmt.Errorf("salesforce: batch id: %w", err)
	}
	var l resultList
	r := bulk1Request(http.MethodGet, s.jobPath(jobID, "batch", batchID, "result"))
	if err := s.client.doBulk1(ctx, r, &l); err != nil {
		return nil, fmt.Errorf("salesforce: getting result list of batch %s of Bulk 1.0 job %s: %w", batchID, jobID, err)
	}
	return l.IDs, nil
}

type resultList struct{ IDs []string }

func (l *resultList) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	if start.Name.Local != "result-list" {
		return fmt.Errorf("root element is <%s>, want <result-list>", start.Name.Local)
	}
	var v struct {
		Results []string `xml:"result"`
	}
	if err := d.DecodeElement(&v, &start); err != nil {
		return err
	}
	l.IDs = v.Results
	return nil
}

func (l *resultList) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &l.IDs) }

// QueryResult streams one query result file (records in the job's content type). The caller
// must close it.
func (s *Bulk1Service) QueryResult(ctx context.Context, jobID, batchID, resultID string) (io.ReadCloser, error) {
	return s.stream(ctx, "query result "+resultID, jobID, "batch", batchID, "result", resultID)
}

// ParseResultError decodes a Bulk API error string as it appears in a Bulk 1.0 CSV result's
// Error column and a Bulk 2.0 sf__Error column: "CODE:message:field1,field2 --". A string
// with no colon is taken as a bare code.
func ParseResultError(s string) RecordError {
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimSuffix(s, "--"))
	code, rest, ok := strings.Cut(s, ":")
	if !ok {
		return RecordError{StatusCode: s}
	}
	e := RecordError{StatusCode: code}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		e.Message = rest[:i]
		for _, f := range strings.Split(rest[i+1:], ",") {
			if f = strings.TrimSpace(f); f != "" {
				e.Fields = append(e.Fields, f)
			}
		}
	} else {
		e.Message = rest
	}
	return e
}

// ReadBatchResults decodes a Bulk API 1.0 ingest results file (as returned by BatchResults)
// into one SaveResult per input record, in input order. contentType is the job's content type
// (CSV, JSON or XML) or the response media type. CSV is streamed; JSON and XML are decoded
// element by element.
func ReadBatchResults(r io.Reader, contentType string) iter.Seq2[SaveResult, error] {
	ct := strings.ToUpper(contentType)
	switch {
	case strings.Contains(ct, "JSON"):
		return readJSONResults(r)
	case strings.Contains(ct, "XML"):
		return readXMLResults(r)
	}
	return readCSVResults(r)
}

// resultsError wraps an error met while reading a results file. An io.EOF
// there means the file ended early (truncated), so it is reported as
// io.ErrUnexpectedEOF: a caller testing errors.Is(err, io.EOF) must not take a
// truncated file for a complete one.
func resultsError(err error) error {
	if errors.Is(err, io.EOF) {
		err = fmt.Errorf("%w (results file truncated)", io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("salesforce: reading batch results: %w", err)
}

func readCSVResults(r io.Reader) iter.Seq2[SaveResult, error] {
	return func(yield func(SaveResult, error) bool) {
		cr := csv.NewReader(r)
		cr.FieldsPerRecord = -1
		cr.ReuseRecord = true
		header, err := cr.Read()
		if err != nil {
			if err == io.EOF {
				err = errors.New("results file is empty (no header)")
			}
			yield(SaveResult{}, resultsError(err))
			return
		}
		col := map[string]int{}
		for i, h := range header {
			col[strings.TrimPrefix(h, "\ufeff")] = i
		}
		for _, name := range []string{"Id", "Success", "Created", "Error"} {
			if _, ok := col[name]; !ok {
				yield(SaveResult{}, fmt.Errorf("salesforce: reading batch results: header %q has no %s column", header, name))
				return
			}
		}
		get := func(rec []string, name string) string {
			if i := col[name]; i < len(rec) {
				return rec[i]
			}
			return ""
		}
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(SaveResult{}, resultsError(err))
				return
			}
			res := SaveResult{
				ID:      get(rec, "Id"),
				Success: strings.EqualFold(get(rec, "Success"), "true"),
				Created: strings.EqualFold(get(rec, "Created"), "true"),
			}
			if msg := get(rec, "Error"); msg != "" {
				res.Errors = []RecordError{ParseResultError(msg)}
			}
			if !yield(res, nil) {
				return
			}
		}
	}
}

func readJSONResults(r io.Reader) iter.Seq2[SaveResult, error] {
	return func(yield func(SaveResult, error) bool) {
		dec := json.NewDecoder(r)
		tok, err := dec.Token()
		if err != nil || tok != json.Delim('[') {
			if err == nil {
				err = fmt.Errorf("want a JSON array, got %v", tok)
			}
			yield(SaveResult{}, resultsError(err))
			return
		}
		for dec.More() {
			var res SaveResult
			if err := dec.Decode(&res); err != nil {
				yield(SaveResult{}, resultsError(err))
				return
			}
			if !yield(res, nil) {
				return
			}
		}
		if _, err := dec.Token(); err != nil {
			yield(SaveResult{}, resultsError(err))
			return
		}
		// More results after the array would otherwise be dropped without a word.
		if _, err := dec.Token(); err != io.EOF {
			yield(SaveResult{}, errors.New("salesforce: reading batch results: unexpected content after the array of results"))
		}
	}
}

type xmlResult struct {
	ID      string `xml:"id"`
	Success bool   `xml:"success"`
	Created bool   `xml:"created"`
	Errors  []struct {
		Fields     []string `xml:"fields"`
		Message    string   `xml:"message"`
		StatusCode string   `xml:"statusCode"`
	} `xml:"errors"`
}

func readXMLResults(r io.Reader) iter.Seq2[SaveResult, error] {
	return func(yield func(SaveResult, error) bool) {
		dec := xml.NewDecoder(r)
		sawRoot := false
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				if !sawRoot {
					yield(SaveResult{}, errors.New("salesforce: reading batch results: no <results> element"))
				}
				return
			}
			if err != nil {
				yield(SaveResult{}, resultsError(err))
				return
			}
			se, ok := tok.(xml.StartElement)
			if !ok {
				continue
			}
			switch se.Name.Local {
			case "results":
				sawRoot = true
			case "result":
				var x xmlResult
				if err := dec.DecodeElement(&x, &se); err != nil {
					yield(SaveResult{}, resultsError(err))
					return
				}
				res := SaveResult{ID: x.ID, Success: x.Success, Created: x.Created}
				for _, e := range x.Errors {
					res.Errors = append(res.Errors, RecordError{StatusCode: e.StatusCode, Message: e.Message, Fields: e.Fields})
				}
				if !yield(res, nil) {
					return
				}
			default:
				yield(SaveResult{}, fmt.Errorf("salesforce: reading batch results: unexpected element <%s>", se.Name.Local))
				return
			}
		}
	}
}
