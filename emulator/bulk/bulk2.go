package bulk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sfbatch/sfbatch/emulator/wire"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// Minimum API versions of the Bulk 2.0 resources (protocol reference §7.2).
const (
	minVersionIngest      = 41
	minVersionQuery       = 47
	minVersionResultPages = 58
)

const (
	msgNotFound       = "The requested resource does not exist"
	maxJobRequestSize = 1 << 20
)

// serveBulk2 routes /services/data/v{ver}/jobs/...
func (s *Service) serveBulk2(w http.ResponseWriter, r *http.Request, rest string) {
	verStr, rest, _ := strings.Cut(rest, "/")
	ver, err := wire.ParseVersion(verStr)
	if err != nil || !strings.HasPrefix(verStr, "v") {
		wire.WriteError(w, http.StatusNotFound, "NOT_FOUND", msgNotFound)
		return
	}
	sess := wire.SessionFrom(r.Context())
	if sess == nil {
		wire.WriteError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
		return
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	if len(parts) < 2 || parts[0] != "jobs" || (parts[1] != "ingest" && parts[1] != "query") {
		wire.WriteError(w, http.StatusNotFound, "NOT_FOUND", msgNotFound)
		return
	}
	ingest := parts[1] == "ingest"
	if (ingest && !ver.AtLeast(minVersionIngest)) || (!ingest && !ver.AtLeast(minVersionQuery)) {
		wire.WriteError(w, http.StatusNotFound, "NOT_FOUND", msgNotFound)
		return
	}
	if len(parts) == 2 {
		switch r.Method {
		case http.MethodPost:
			if ingest {
				s.v2CreateIngest(w, r, ver, sess.UserID)
			} else {
				s.v2CreateQuery(w, r, ver, sess.UserID)
			}
		case http.MethodGet:
			s.v2ListJobs(w, r, ver, ingest)
		default:
			methodNotAllowed(w, r, "GET, POST")
		}
		return
	}
	s.mu.Lock()
	j := s.lookupLocked(parts[2])
	if j != nil && (ingest && j.kind != kindV2Ingest || !ingest && j.kind != kindV2Query) {
		j = nil
	}
	s.mu.Unlock()
	if j == nil {
		wire.WriteError(w, http.StatusNotFound, "NOT_FOUND", msgNotFound)
		return
	}
	if len(parts) == 3 {
		switch r.Method {
		case http.MethodGet:
			s.writeV2Job(w, http.StatusOK, j, true)
		case http.MethodPatch:
			s.v2PatchJob(w, r, j)
		case http.MethodDelete:
			s.v2DeleteJob(w, j)
		default:
			methodNotAllowed(w, r, "GET, PATCH, DELETE")
		}
		return
	}
	if len(parts) != 4 {
		wire.WriteError(w, http.StatusNotFound, "NOT_FOUND", msgNotFound)
		return
	}
	sub := strings.ToLower(parts[3])
	switch {
	case ingest && sub == "batches" && r.Method == http.MethodPut:
		s.v2Upload(w, r, j)
	case ingest && r.Method == http.MethodGet && (sub == "successfulresults" || sub == "failedresults" || sub == "unprocessedrecords"):
		s.v2IngestResults(w, j, sub)
	case !ingest && sub == "results" && r.Method == http.MethodGet:
		s.v2QueryResults(w, r, j)
	case !ingest && sub == "resultpages" && r.Method == http.MethodGet:
		if !ver.AtLeast(minVersionResultPages) {
			wire.WriteError(w, http.StatusNotFound, "NOT_FOUND", msgNotFound)
			return
		}
		s.v2ResultPages(w, r, j, ver)
	default:
		wire.WriteError(w, http.StatusNotFound, "NOT_FOUND", msgNotFound)
	}
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, allowed string) {
	w.Header().Set("Allow", allowed)
	wire.WriteError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", fmt.Sprintf("HTTP Method '%s' not allowed. Allowed are %s", r.Method, allowed))
}

// ingestRequest is a Bulk 2.0 ingest or query job request. Empty strings
// mean absent.
type v2Request struct {
	Object              string `json:"object"`
	Operation           string `json:"operation"`
	ExternalIDFieldName string `json:"externalIdFieldName"`
	ContentType         string `json:"contentType"`
	ColumnDelimiter     string `json:"columnDelimiter"`
	LineEnding          string `json:"lineEnding"`
	AssignmentRuleID    string `json:"assignmentRuleId"`
	Query               string `json:"query"`
	State               string `json:"state"`
}

// isV2IngestOperation reports whether op is a Bulk API 2.0 ingest operation.
func isV2IngestOperation(op string) bool {
	switch op {
	case "insert", "update", "upsert", "delete", "hardDelete":
		return true
	}
	return false
}

// newV2Job validates a request and builds a job; the error is written as
// the response.
func (s *Service) newV2Job(w http.ResponseWriter, req v2Request, kind apiKind, ver wire.Version, userID string) *job {
	bad := func(msg string) *job {
		wire.WriteError(w, http.StatusBadRequest, "INVALIDJOB", msg)
		return nil
	}
	if req.ContentType != "" && req.ContentType != "CSV" {
		return bad("InvalidJob : Unsupported content type: " + req.ContentType + ". Only CSV is supported")
	}
	delim, err := sfcsv.ParseDelimiter(req.ColumnDelimiter)
	if err != nil {
		return bad("InvalidJob : Invalid column delimiter: " + req.ColumnDelimiter)
	}
	le := sfcsv.LF
	if req.LineEnding != "" {
		if le, err = sfcsv.ParseLineEnding(req.LineEnding); err != nil {
			return bad("InvalidJob : Invalid line ending: " + req.LineEnding)
		}
	}
	now := s.clk.Now()
	j := &job{
		kind: kind, version: ver, operation: req.Operation, contentType: "CSV", concurrency: "Parallel",
		delim: delim, lineEnding: le, createdBy: userID, created: now, modstamp: now, state: initialJobState(kind),
	}
	if kind == kindV2Query {
		return j
	}
	if !isV2IngestOperation(req.Operation) {
		return bad("InvalidJob : Invalid operation: " + req.Operation)
	}
	ob, ok := s.org.Object(req.Object)
	if !ok {
		return bad("InvalidJob : Unable to find object: " + req.Object)
	}
	j.object = ob.Name
	j.assignmentRuleID = req.AssignmentRuleID
	if req.Operation == "upsert" {
		if req.ExternalIDFieldName == "" {
			return bad("InvalidJob : External ID was blank for " + ob.Name + ". An External ID must be specified for upsert.")
		}
		f, ok := ob.Field(req.ExternalIDFieldName)
		if !ok {
			return bad("InvalidJob : Field name provided, " + req.ExternalIDFieldName + " does not match an External ID, Salesforce Id, or indexed field for " + ob.Name)
		}
		j.extID = f.Name
	}
	return j
}

func (s *Service) v2CreateIngest(w http.ResponseWriter, r *http.Request, ver wire.Version, userID string) {
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		s.v2CreateMultipart(w, r, ver, userID, params["boundary"])
		return
	}
	var req v2Request
	if !decodeJSON(w, r, &req) {
		return
	}
	if j := s.newV2Job(w, req, kindV2Ingest, ver, userID); j != nil {
		s.addV2Ingest(w, j, nil)
	}
}

// addV2Ingest registers a new Bulk 2.0 ingest job, unless MaxOpenJobs
// leaves no room, and answers with it. content, when not nil, is uploaded
// with the job's creation (a multipart request), which also closes it.
func (s *Service) addV2Ingest(w http.ResponseWriter, j *job, content []byte) {
	s.mu.Lock()
	if s.openJobsFullLocked() {
		s.mu.Unlock()
		wire.WriteError(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", msgOpenJobs(s.maxOpen))
		return
	}
	j.id = s.newIDLocked(prefixJob)
	if content != nil {
		if s.st != nil {
			s.noteStoreErr(s.st.saveUpload(j.id, string(content)))
		}
		j.upload, j.uploaded = string(content), true
		// An upload and an UploadComplete in one request; both are allowed
		// from the Open state newV2Job gave the job.
		s.jobStepLocked(j, jobUpload, "")
		s.jobStepLocked(j, jobUploadComplete, stateUploadComplete)
	}
	s.addJobLocked(j)
	if content != nil {
		s.enqueueLocked(&work{job: j})
	}
	s.mu.Unlock()
	s.writeV2Job(w, http.StatusOK, j, false)
}

func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxJobRequestSize))
	if err == nil {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		wire.WriteError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "Unable to parse the request body: "+err.Error())
		return false
	}
	return true
}

func (s *Service) v2CreateMultipart(w http.ResponseWriter, r *http.Request, ver wire.Version, userID, boundary string) {
	if boundary == "" {
		wire.WriteError(w, http.StatusBadRequest, "INVALIDJOB", "InvalidJob : multipart request has no boundary")
		return
	}
	mr := multipart.NewReader(r.Body, boundary)
	var req v2Request
	var content []byte
	haveJob, haveContent := false, false
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			wire.WriteError(w, http.StatusBadRequest, "INVALIDJOB", "InvalidJob : malformed multipart request: "+err.Error())
			return
		}
		switch p.FormName() {
		case "job":
			b, err := io.ReadAll(io.LimitReader(p, maxJobRequestSize))
			if err == nil {
				err = json.Unmarshal(b, &req)
			}
			if err != nil {
				wire.WriteError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "Unable to parse the job part: "+err.Error())
				return
			}
			haveJob = true
		case "content":
			b, err := io.ReadAll(io.LimitReader(p, 4*MaxMultipartChars+1))
			if err != nil {
				wire.WriteError(w, http.StatusBadRequest, "INVALIDJOB", "InvalidJob : failed to read the content part: "+err.Error())
				return
			}
			content, haveContent = b, true
		}
	}
	if !haveJob || !haveContent {
		wire.WriteError(w, http.StatusBadRequest, "INVALIDJOB", "InvalidJob : a multipart request needs the parts 'job' and 'content'")
		return
	}
	if utf8.RuneCount(content) > MaxMultipartChars {
		wire.WriteError(w, http.StatusBadRequest, "INVALIDJOB", fmt.Sprintf("InvalidJob : the content part exceeds %d characters; upload large data with PUT .../batches", MaxMultipartChars))
		return
	}
	if j := s.newV2Job(w, req, kindV2Ingest, ver, userID); j != nil {
		s.addV2Ingest(w, j, content)
	}
}

// writeV2Job writes a Bulk 2.0 job; full adds the counters of job info.
func (s *Service) writeV2Job(w http.ResponseWriter, status int, j *job, full bool) {
	s.mu.Lock()
	b := appendJSONObject(nil, v2JobFields(j, full))
	s.mu.Unlock()
	w.Header().Set("Content-Type", wire.ContentTypeJSON)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// v2JobFields renders a job as Bulk 2.0 JSON. Caller holds s.mu.
func v2JobFields(j *job, full bool) []field {
	fs := []field{
		str("id", j.id),
		str("operation", j.operation),
		str("object", j.object),
		str("createdById", j.createdBy),
		str("createdDate", wire.FormatDateTime(j.created)),
		str("systemModstamp", wire.FormatDateTime(j.modstamp)),
		str("state", j.state),
	}
	if j.extID != "" {
		fs = append(fs, str("externalIdFieldName", j.extID))
	}
	if j.assignmentRuleID != "" {
		fs = append(fs, str("assignmentRuleId", j.assignmentRuleID))
	}
	fs = append(fs,
		str("concurrencyMode", j.concurrency),
		str("contentType", j.contentType),
		field{"apiVersion", j.version.String(), 'n'},
	)
	if j.kind == kindV2Ingest {
		fs = append(fs, str("contentUrl", "services/data/v"+j.version.String()+"/jobs/ingest/"+j.id+"/batches"))
	}
	if j.kind != kindBulk1 {
		fs = append(fs, str("lineEnding", j.lineEnding.String()), str("columnDelimiter", j.delim.Name()))
	}
	if !full {
		return fs
	}
	processed, failed, totalMS, apiMS := j.processed, j.failed, j.totalMS, j.apiMS
	switch j.kind {
	case kindBulk1:
		c := j.counts()
		processed, failed, totalMS, apiMS = c.processed, c.recFailed, c.totalMS, c.apiMS
		fs = append(fs, str("jobType", "Classic"))
	case kindV2Ingest:
		fs = append(fs, str("jobType", "V2Ingest"))
	case kindV2Query:
		fs = append(fs, str("jobType", "V2Query"))
	}
	fs = append(fs, num("numberRecordsProcessed", processed))
	if j.kind != kindV2Query {
		fs = append(fs, num("numberRecordsFailed", failed))
	}
	fs = append(fs,
		num("retries", j.retries),
		num("totalProcessingTime", totalMS),
	)
	if j.kind == kindV2Query {
		fs = append(fs, field{"isPkChunkingSupported", "true", 'b'})
	} else {
		fs = append(fs, num("apiActiveProcessingTime", apiMS), num("apexProcessingTime", 0))
	}
	if j.errorMessage != "" {
		fs = append(fs, str("errorMessage", j.errorMessage))
	}
	return fs
}

func (s *Service) v2PatchJob(w http.ResponseWriter, r *http.Request, j *job) {
	var req v2Request
	if !decodeJSON(w, r, &req) {
		return
	}
	var ev jobEvent
	switch req.State {
	case stateUploadComplete:
		ev = jobUploadComplete
	case stateAborted:
		ev = jobAbort
	}
	s.mu.Lock()
	var e *stateError
	if ev == "" {
		e = jobRefusal(j, ev, req.State)
	} else {
		e = s.jobStepLocked(j, ev, req.State)
	}
	switch {
	case e != nil:
	case ev == jobUploadComplete:
		s.enqueueLocked(&work{job: j})
	case ev == jobAbort:
		s.abortWorkLocked(j)
	}
	s.mu.Unlock()
	if e != nil {
		e.write(w, j)
		return
	}
	s.writeV2Job(w, http.StatusOK, j, false)
}

func (s *Service) v2DeleteJob(w http.ResponseWriter, j *job) {
	s.mu.Lock()
	e := s.jobStepLocked(j, jobDelete, "")
	if e == nil {
		j.deleted = true
		s.dropPendingLocked(j)
		s.saveJobLocked(j)
	}
	s.mu.Unlock()
	if e != nil {
		e.write(w, j)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) v2Upload(w http.ResponseWriter, r *http.Request, j *job) {
	s.mu.Lock()
	uploaded := j.uploaded
	var refused *stateError
	if !jobAllowsLocked(j, jobUpload) {
		refused = jobRefusal(j, jobUpload, "")
	}
	s.mu.Unlock()
	if uploaded {
		wire.WriteError(w, http.StatusBadRequest, "BULK_API_ERROR", "Found multiple contents for job: "+j.id+", please 'Close' / 'Abort' / 'Delete' the current Job then create a new Job and make sure you only do 'PUT' once on a given Job.")
		return
	}
	if refused != nil {
		refused.write(w, j)
		return
	}
	// 150 MB of base64 is 112,500,000 raw bytes.
	data, tooBig, dropped, err := s.readUploadText(w, r, MaxUploadBytes/4*3)
	if dropped {
		return
	}
	if err != nil {
		wire.WriteError(w, http.StatusBadRequest, "BULK_API_ERROR", "Failed to read the uploaded data: "+err.Error())
		return
	}
	if tooBig {
		wire.WriteError(w, http.StatusBadRequest, "BULK_API_ERROR", fmt.Sprintf("Exceeded max size limit of %d bytes (base64-encoded) for job data", MaxUploadBytes))
		return
	}
	if s.st != nil {
		// Written before the job says it has data, so a restart never finds
		// an uploaded job without its upload.
		if err := s.st.saveUpload(j.id, data); err != nil {
			wire.WriteError(w, http.StatusInternalServerError, "UNKNOWN_EXCEPTION", "the emulator could not keep the upload: "+err.Error())
			return
		}
	}
	s.mu.Lock()
	// Another upload, or an abort, may have come in while this one was read.
	if j.uploaded || s.jobStepLocked(j, jobUpload, "") != nil {
		s.mu.Unlock()
		wire.WriteError(w, http.StatusBadRequest, "BULK_API_ERROR", "Found multiple contents for job: "+j.id+", please 'Close' / 'Abort' / 'Delete' the current Job then create a new Job and make sure you only do 'PUT' once on a given Job.")
		return
	}
	j.upload, j.uploaded = data, true
	s.saveJobLocked(j)
	s.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
}

// segmentSource reads one internal batch: the job's header then the rows.
// Its simple rows are split without the CSV reader (see csvSource.split):
// their cells are substrings of seg.
func (s *Service) segmentSource(j *job, seg string) (*csvSource, error) {
	open := func() io.Reader {
		return io.MultiReader(bytes.NewReader(j.headerLine), strings.NewReader(j.lineEnding.Terminator()), strings.NewReader(seg))
	}
	if !j.delim.Valid() || j.delim == 0 {
		return newCSVSource(open(), j.delim)
	}
	c, err := newCSVSource(io.MultiReader(bytes.NewReader(j.headerLine), strings.NewReader(j.lineEnding.Terminator())), j.delim)
	if err != nil {
		return nil, err
	}
	c.text, c.delim = seg, byte(j.delim)
	c.takeOver = func(skip int) (*sfcsv.Reader, error) { return readerAfter(open(), j.delim, skip) }
	return c, nil
}

// failJobLocked moves a Bulk 2.0 job to Failed with msg, if the table
// allows it from its state. Caller holds s.mu.
func (s *Service) failJobLocked(j *job, msg string) {
	if jobAllowsLocked(j, jobFail) {
		j.errorMessage = msg
		s.jobStepLocked(j, jobFail, "")
	}
}

// splitUpload validates a Bulk 2.0 upload and splits it into internal
// batches of MaxBatchRecords rows, which then queue for the worker pool. The
// job stays UploadComplete until a worker takes up its first batch (see
// next): splitting takes no batch slot.
func (s *Service) splitUpload(_ context.Context, j *job) {
	s.mu.Lock()
	if j.deleted || !jobAllowsLocked(j, jobStart) {
		s.mu.Unlock()
		return
	}
	if msg, ok := s.takeJobFaultLocked(); ok {
		s.failJobLocked(j, msg)
		s.mu.Unlock()
		return
	}
	data := j.upload
	s.mu.Unlock()

	header, headerLine, hdrEnd, msg := s.checkUpload(j, data)
	if msg != "" {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.failJobLocked(j, msg)
		return
	}
	segs := segmentUpload(j, data, hdrEnd)
	s.mu.Lock()
	j.header, j.headerLine = header, headerLine
	now := s.clk.Now()
	for i, b := range segs {
		b.id = s.newIDLocked(prefixBatch)
		b.seq = i
		b.created, b.modstamp = now, now
		s.saveBatchLocked(b)
	}
	j.batches = segs
	s.mu.Unlock()

	if s.contentionRate() > 0 {
		for _, b := range segs {
			if src, err := s.segmentSource(j, b.seg); err == nil {
				s.collectParents(j, b.seq, src)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queueSegmentsLocked(j, segs)
}

// checkUpload validates a Bulk 2.0 upload's header: data present, the
// job's line ending, known columns. It returns the header's fields, its
// line without terminator or byte order mark, and where the rows start;
// msg is the job's errorMessage when the upload is refused.
func (s *Service) checkUpload(j *job, data string) (header []string, headerLine []byte, hdrEnd int, msg string) {
	if !j.uploaded || len(strings.TrimSpace(data)) == 0 {
		return nil, nil, 0, "InvalidBatch : No data was uploaded for this job"
	}
	hdrEnd = headerEnd(data)
	if hdrEnd < len(data) || strings.HasSuffix(data[:hdrEnd], "\n") {
		crlf := strings.HasSuffix(data[:hdrEnd], "\r\n")
		if crlf != (j.lineEnding == sfcsv.CRLF) {
			return nil, nil, 0, "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is " + j.lineEnding.String()
		}
	}
	cs, err := newCSVSource(strings.NewReader(data[:hdrEnd]), j.delim)
	if err != nil {
		return nil, nil, 0, err.Error()
	}
	if msg := s.checkColumns(j.object, cs.header); msg != "" {
		return nil, nil, 0, msg
	}
	line := strings.TrimPrefix(strings.TrimLeft(strings.TrimRight(data[:hdrEnd], "\r\n"), "\r\n"), sfcsv.BOM)
	return cs.header, []byte(line), hdrEnd, ""
}

// segmentUpload cuts the rows after hdrEnd into queued batches of at most
// MaxBatchRecords non-blank records each.
func segmentUpload(j *job, data string, hdrEnd int) []*batch {
	var segs []*batch
	pos := hdrEnd
	for pos < len(data) {
		start, n := pos, 0
		for pos < len(data) && n < MaxBatchRecords {
			end := nextRecordEnd(data, pos)
			if !isBlankLine(data[pos:end]) {
				n++
			}
			pos = end
		}
		if n == 0 {
			break
		}
		segs = append(segs, &batch{job: j, state: batchQueued, seg: data[start:pos], from: start, to: pos, records: n})
	}
	return segs
}

// queueSegmentsLocked charges each batch to DailyBulkApiBatches and queues
// it; a batch over the allowance fails the job and is, with every later
// one, not processed. A job aborted meanwhile queues nothing. Caller holds
// s.mu.
func (s *Service) queueSegmentsLocked(j *job, segs []*batch) {
	if j.state != stateUploadComplete {
		for _, b := range segs {
			s.batchStepLocked(b, batchSkip)
		}
		return
	}
	for _, b := range segs {
		if err := s.org.Consume(limitBatches, 1); err != nil {
			s.failJobLocked(j, "ExceededQuota : Maximum number of batches per rolling 24-hour period exceeded; the rest of the job was not processed")
			for _, rest := range segs[b.seq:] {
				s.batchStepLocked(rest, batchSkip)
			}
			break
		}
		j.pendingBatches++
		s.enqueueLocked(&work{job: j, batch: b})
	}
	if j.pendingBatches == 0 && j.state == stateUploadComplete {
		s.jobStepLocked(j, jobStart, "")
		s.jobStepLocked(j, jobFinish, "")
	}
}

func (s *Service) v2IngestResults(w http.ResponseWriter, j *job, which string) {
	s.mu.Lock()
	delim, eol := byte(j.delim), j.lineEnding.Terminator()
	header := j.header
	if header == nil && j.uploaded {
		if cs, err := newCSVSource(strings.NewReader(j.upload), j.delim); err == nil {
			header = cs.header
		}
	}
	var bodies [][]byte
	var oks []okPart
	var unprocessed []*batch
	for _, b := range j.batches {
		switch which {
		case "successfulresults":
			if b.ok.rows != nil {
				oks = append(oks, okPart{len(bodies), b.ok, b.seg})
			}
			bodies = append(bodies, b.results)
		case "failedresults":
			bodies = append(bodies, b.failures)
		default:
			if b.attempted < b.records && b.state != batchInProgress {
				unprocessed = append(unprocessed, b)
			}
		}
	}
	wholeUpload := which == "unprocessedrecords" && j.batches == nil && j.uploaded &&
		(j.state == stateAborted || j.state == stateFailed)
	s.mu.Unlock()

	var head []byte
	switch which {
	case "successfulresults":
		head = appendRow(head, delim, "", "sf__Id", "sf__Created")
	case "failedresults":
		head = appendRow(head, delim, "", "sf__Id", "sf__Error")
	}
	for i, h := range header {
		if i > 0 || len(head) > 0 {
			head = append(head, delim)
		}
		head = appendQuoted(head, h)
	}
	head = append(head, eol...)
	w.Header().Set("Content-Type", wire.ContentTypeCSV)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(head)
	var buf []byte
	for i, b := range bodies {
		if len(oks) > 0 && oks[0].at == i {
			var err error
			if buf, err = oks[0].rows.writeTo(w, buf, oks[0].seg, delim, eol); err != nil {
				return
			}
			oks = oks[1:]
			if _, err := w.Write(buf); err != nil {
				return
			}
			buf = buf[:0]
		}
		if _, err := w.Write(b); err != nil {
			return
		}
	}
	emit := func(src *csvSource, skip int) {
		buf := make([]byte, 0, 64<<10)
		for i := 0; ; i++ {
			r, err := src.next()
			if err != nil {
				break
			}
			if i < skip {
				continue
			}
			buf = appendRow(buf, delim, eol, r.raw...)
			if len(buf) > 32<<10 {
				if _, err := w.Write(buf); err != nil {
					return
				}
				buf = buf[:0]
			}
		}
		_, _ = w.Write(buf)
	}
	for _, b := range unprocessed {
		s.mu.Lock()
		skip := b.attempted
		s.mu.Unlock()
		if src, err := s.segmentSource(j, b.seg); err == nil {
			emit(src, skip)
		}
	}
	if wholeUpload {
		if src, err := newCSVSource(strings.NewReader(j.upload), j.delim); err == nil {
			emit(src, 0)
		}
	}
}

// okPart is a batch's okRows in a successfulResults download: the rows of
// bodies[at], the batch's segment.
type okPart struct {
	at   int
	rows okRows
	seg  string
}

// listLocator encodes a job-list offset as a query locator.
func listLocator(offset int) string { return "01gSB00000000000AAA-" + strconv.Itoa(offset) }

func (s *Service) v2ListJobs(w http.ResponseWriter, r *http.Request, ver wire.Version, ingest bool) {
	q := r.URL.Query()
	offset := 0
	if loc := q.Get("queryLocator"); loc != "" {
		_, n, _ := strings.Cut(loc, "-")
		v, err := strconv.Atoi(n)
		if err != nil || v < 0 {
			wire.WriteError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
			return
		}
		offset = v
	}
	jobType := q.Get("jobType")
	pk := q.Get("isPkChunkingEnabled")
	s.mu.Lock()
	var match []*job
	for _, j := range s.order {
		if j.deleted {
			continue
		}
		var jt string
		switch {
		case j.kind == kindBulk1 && j.isQuery() != ingest:
			jt = "Classic"
		case j.kind == kindV2Ingest && ingest:
			jt = "V2Ingest"
		case j.kind == kindV2Query && !ingest:
			jt = "V2Query"
		default:
			continue
		}
		if jobType != "" && !strings.EqualFold(jobType, jt) {
			continue
		}
		if pk != "" && strings.EqualFold(pk, "true") != (j.pk != nil) {
			continue
		}
		match = append(match, j)
	}
	var recs []byte
	end := min(offset+MaxListJobs, len(match))
	for i := offset; i < end; i++ {
		if i > offset {
			recs = append(recs, ',')
		}
		recs = appendJSONObject(recs, v2ListFields(match[i]))
	}
	s.mu.Unlock()
	kind := "query"
	if ingest {
		kind = "ingest"
	}
	out := []byte(`{"done":`)
	if end < len(match) {
		out = append(out, `false,"nextRecordsUrl":`...)
		next, _ := json.Marshal("/services/data/v" + ver.String() + "/jobs/" + kind + "?queryLocator=" + listLocator(end))
		out = append(out, next...)
	} else {
		out = append(out, `true,"nextRecordsUrl":null`...)
	}
	out = append(out, `,"records":[`...)
	out = append(out, recs...)
	out = append(out, "]}"...)
	w.Header().Set("Content-Type", wire.ContentTypeJSON)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// v2ListFields renders one job of a job list. Caller holds s.mu.
func v2ListFields(j *job) []field {
	jt := "Classic"
	switch j.kind {
	case kindV2Ingest:
		jt = "V2Ingest"
	case kindV2Query:
		jt = "V2Query"
	}
	fs := []field{
		str("id", j.id), str("operation", j.operation), str("object", j.object),
		str("createdById", j.createdBy), str("createdDate", wire.FormatDateTime(j.created)),
		str("systemModstamp", wire.FormatDateTime(j.modstamp)), str("state", j.state),
		str("concurrencyMode", j.concurrency), str("contentType", j.contentType),
		field{"apiVersion", j.version.String(), 'n'}, str("jobType", jt),
	}
	if j.kind == kindV2Ingest {
		fs = append(fs, str("contentUrl", "services/data/v"+j.version.String()+"/jobs/ingest/"+j.id+"/batches"))
	}
	if j.kind != kindBulk1 {
		fs = append(fs, str("lineEnding", j.lineEnding.String()), str("columnDelimiter", j.delim.Name()))
	}
	return fs
}
