package bulk

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sfbatch/sfbatch/emulator/wire"
	"github.com/sfbatch/sfbatch/sfcsv"
)

const (
	// maxJobInfoBytes bounds a jobInfo request body.
	maxJobInfoBytes = 1 << 20
	// maxJobAge is how long a Bulk 1.0 job accepts batches.
	maxJobAge = 24 * time.Hour
)

// serveBulk1 routes /services/async/{ver}/{rest}.
func (s *Service) serveBulk1(w http.ResponseWriter, r *http.Request, rest string) {
	verStr, rest, _ := strings.Cut(rest, "/")
	f := requestFormat(r)
	ver, err := wire.ParseVersion(verStr)
	if err != nil || !ver.Supported() {
		writeBulk1Error(w, f, http.StatusBadRequest, "InvalidVersion", "Invalid API version: "+verStr)
		return
	}
	sess := wire.SessionFrom(r.Context())
	if sess == nil {
		writeBulk1Error(w, f, http.StatusBadRequest, "InvalidSessionId", "Invalid session id")
		return
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	if len(parts) == 0 || parts[0] != "job" {
		writeBulk1Error(w, f, http.StatusBadRequest, "InvalidUrl", "Unknown URL: "+r.URL.Path)
		return
	}
	if len(parts) == 1 {
		if r.Method != http.MethodPost {
			writeBulk1Error(w, f, http.StatusMethodNotAllowed, "InvalidUrl", "HTTP method '"+r.Method+"' not allowed")
			return
		}
		s.bulk1CreateJob(w, r, ver, sess.UserID)
		return
	}
	s.mu.Lock()
	j := s.lookupLocked(parts[1])
	if j != nil && j.kind != kindBulk1 {
		j = nil
	}
	s.mu.Unlock()
	if j == nil {
		writeBulk1Error(w, f, http.StatusBadRequest, "InvalidJob", "Invalid job id: "+parts[1])
		return
	}
	f = formatOf(j.contentType)
	switch {
	case len(parts) == 2 && r.Method == http.MethodGet:
		s.mu.Lock()
		fs := jobInfoFields(j)
		s.mu.Unlock()
		writeBulk1Object(w, f, http.StatusOK, "jobInfo", fs)
	case len(parts) == 2 && r.Method == http.MethodPost:
		s.bulk1UpdateJob(w, r, j)
	case len(parts) == 3 && parts[2] == "batch" && r.Method == http.MethodPost:
		s.bulk1AddBatch(w, r, j)
	case len(parts) == 3 && parts[2] == "batch" && r.Method == http.MethodGet:
		s.bulk1ListBatches(w, j)
	case len(parts) >= 4 && parts[2] == "batch" && r.Method == http.MethodGet:
		s.mu.Lock()
		var b *batch
		for _, x := range j.batches {
			if sameID(x.id, parts[3]) {
				b = x
			}
		}
		s.mu.Unlock()
		if b == nil {
			writeBulk1Error(w, f, http.StatusBadRequest, "InvalidBatch", "Invalid batch id: "+parts[3])
			return
		}
		switch {
		case len(parts) == 4:
			s.mu.Lock()
			fs := batchInfoFields(b)
			s.mu.Unlock()
			writeBulk1Object(w, f, http.StatusOK, "batchInfo", fs)
		case len(parts) == 5 && parts[4] == "request":
			s.bulk1BatchRequest(w, b)
		case len(parts) == 5 && parts[4] == "result":
			s.bulk1BatchResult(w, b)
		case len(parts) == 6 && parts[4] == "result":
			s.bulk1QueryResult(w, r, b, parts[5])
		default:
			writeBulk1Error(w, f, http.StatusBadRequest, "InvalidUrl", "Unknown URL: "+r.URL.Path)
		}
	default:
		writeBulk1Error(w, f, http.StatusBadRequest, "InvalidUrl", "Unknown URL: "+r.URL.Path)
	}
}

// isBulk1Operation reports whether op is a Bulk API 1.0 job operation
// (case-sensitive, as on Salesforce).
func isBulk1Operation(op string) bool {
	switch op {
	case "insert", "update", "upsert", "delete", "hardDelete", "query", "queryAll":
		return true
	}
	return false
}

func (s *Service) bulk1CreateJob(w http.ResponseWriter, r *http.Request, ver wire.Version, userID string) {
	f := requestFormat(r)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxJobInfoBytes))
	if err != nil {
		writeBulk1Error(w, f, http.StatusBadRequest, "ClientInputError", "Failed to read request: "+err.Error())
		return
	}
	jr, err := parseJobRequest(body, f)
	if err != nil {
		code := "InvalidXML"
		if f == fmtJSON {
			code = "InvalidJob"
		}
		writeBulk1Error(w, f, http.StatusBadRequest, code, "Unable to parse Job: "+err.Error())
		return
	}
	if jr.ContentType == "" {
		jr.ContentType = "CSV"
	}
	switch jr.ContentType {
	case "CSV", "JSON", "XML":
	default:
		writeBulk1Error(w, f, http.StatusBadRequest, "InvalidJob", "Unsupported content type: "+jr.ContentType)
		return
	}
	if !isBulk1Operation(jr.Operation) {
		writeBulk1Error(w, f, http.StatusBadRequest, "InvalidJob", "Invalid operation: "+jr.Operation)
		return
	}
	ob, ok := s.org.Object(jr.Object)
	if !ok {
		writeBulk1Error(w, f, http.StatusBadRequest, "InvalidJob", "Unable to find object: "+jr.Object)
		return
	}
	if jr.Operation == "upsert" {
		fld, ok := ob.Field(jr.ExternalIDFieldName)
		if jr.ExternalIDFieldName == "" || !ok {
			writeBulk1Error(w, f, http.StatusBadRequest, "InvalidJob", "External ID was blank or not found for "+ob.Name+": "+jr.ExternalIDFieldName)
			return
		}
		jr.ExternalIDFieldName = fld.Name
	} else {
		jr.ExternalIDFieldName = ""
	}
	switch jr.ConcurrencyMode {
	case "", "Parallel":
		jr.ConcurrencyMode = "Parallel"
	case "Serial":
	default:
		writeBulk1Error(w, f, http.StatusBadRequest, "InvalidJob", "Invalid concurrency mode: "+jr.ConcurrencyMode)
		return
	}
	if jr.State != "" && jr.State != stateOpen {
		writeBulk1Error(w, f, http.StatusBadRequest, "InvalidJobState", "A new job must be Open, not "+jr.State)
		return
	}
	var pk *pkChunking
	if h := r.Header.Get("Sforce-Enable-PKChunking"); h != "" {
		pk, err = parsePKChunking(h)
		if err != nil {
			writeBulk1Error(w, f, http.StatusBadRequest, "InvalidJob", err.Error())
			return
		}
		if pk != nil && jr.Operation != "query" && jr.Operation != "queryAll" {
			pk = nil
		}
	}
	now := s.clk.Now()
	j := &job{
		kind: kindBulk1, version: ver, operation: jr.Operation, object: ob.Name, extID: jr.ExternalIDFieldName,
		contentType: jr.ContentType, concurrency: jr.ConcurrencyMode, assignmentRuleID: jr.AssignmentRuleID,
		delim: sfcsv.Comma, lineEnding: sfcsv.LF, createdBy: userID, created: now, modstamp: now, state: initialJobState(kindBulk1), pk: pk,
	}
	s.mu.Lock()
	if s.openJobsFullLocked() {
		s.mu.Unlock()
		writeBulk1Error(w, f, http.StatusBadRequest, "ExceededQuota", msgOpenJobs(s.maxOpen))
		return
	}
	j.id = s.newIDLocked(prefixJob)
	s.addJobLocked(j)
	fs := jobInfoFields(j)
	s.mu.Unlock()
	// The job did not exist when the request came: answer in the request's
	// format, not the new job's (an XML-created JSON job gets XML here).
	writeBulk1Object(w, f, http.StatusCreated, "jobInfo", fs)
}

// addJobLocked registers a new job. Caller holds s.mu.
func (s *Service) addJobLocked(j *job) {
	j.order = len(s.order)
	s.jobs[j.id[:15]] = j
	s.order = append(s.order, j)
	s.saveJobLocked(j)
}

func (s *Service) bulk1UpdateJob(w http.ResponseWriter, r *http.Request, j *job) {
	f := formatOf(j.contentType)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxJobInfoBytes))
	if err != nil {
		writeBulk1Error(w, f, http.StatusBadRequest, "ClientInputError", "Failed to read request: "+err.Error())
		return
	}
	rf := requestFormat(r)
	if len(bytes.TrimSpace(body)) > 0 && bytes.TrimSpace(body)[0] == '<' {
		rf = fmtXML
	} else if len(bytes.TrimSpace(body)) > 0 && bytes.TrimSpace(body)[0] == '{' {
		rf = fmtJSON
	}
	jr, err := parseJobRequest(body, rf)
	if err != nil {
		writeBulk1Error(w, f, http.StatusBadRequest, "InvalidXML", "Unable to parse Job: "+err.Error())
		return
	}
	var ev jobEvent
	switch jr.State {
	case stateClosed:
		ev = jobClose
	case stateAborted:
		ev = jobAbort
	default:
		writeBulk1Error(w, f, http.StatusBadRequest, "InvalidJobState", "Invalid job state: "+jr.State)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.jobStepLocked(j, ev, jr.State); e != nil {
		e.write(w, j)
		return
	}
	if ev == jobAbort {
		s.abortWorkLocked(j)
	}
	writeBulk1Object(w, f, http.StatusOK, "jobInfo", jobInfoFields(j))
}

// dropPendingLocked removes a job's queued work. Caller holds s.mu.
func (s *Service) dropPendingLocked(j *job) {
	n := 0
	for _, w := range s.pending {
		if w.job != j {
			s.pending[n] = w
			n++
		}
	}
	clear(s.pending[n:])
	s.pending = s.pending[:n]
	s.notifyLocked()
}

// readUpload reads a request body up to limit bytes, gunzipping it if
// needed. It reports whether the body was larger than limit. A pending
// DropNextUploads fault closes the connection half way instead.
func (s *Service) readUpload(w http.ResponseWriter, r *http.Request, limit int64) (data []byte, tooBig, dropped bool, err error) {
	body, size, closeBody, dropped, err := s.openUpload(w, r, limit)
	if dropped || err != nil {
		return nil, false, dropped, err
	}
	defer closeBody()
	if size > 0 {
		var buf bytes.Buffer
		// Room for the body and the read that finds its end, so the
		// buffer is not copied into one twice its size at the last byte.
		buf.Grow(int(size) + bytes.MinRead)
		n, err := io.Copy(&buf, io.LimitReader(body, limit+1))
		if err != nil {
			return nil, false, false, err
		}
		if n > limit {
			return nil, true, false, nil
		}
		return buf.Bytes(), false, false, nil
	}
	return readChunked(io.LimitReader(body, limit+1), limit)
}

// readUploadText is readUpload returning the body as a string, read into
// it directly.
func (s *Service) readUploadText(w http.ResponseWriter, r *http.Request, limit int64) (data string, tooBig, dropped bool, err error) {
	body, size, closeBody, dropped, err := s.openUpload(w, r, limit)
	if dropped || err != nil {
		return "", false, dropped, err
	}
	defer closeBody()
	var sb strings.Builder
	if size > 0 {
		sb.Grow(int(size))
		n, err := io.Copy(&sb, io.LimitReader(body, limit+1))
		if err != nil {
			return "", false, false, err
		}
		if n > limit {
			return "", true, false, nil
		}
		return sb.String(), false, false, nil
	}
	chunks, n, err := readChunks(io.LimitReader(body, limit+1))
	if err != nil {
		return "", false, false, err
	}
	if n > limit {
		return "", true, false, nil
	}
	sb.Grow(int(n))
	for _, c := range chunks {
		sb.Write(c)
	}
	return sb.String(), false, false, nil
}

// openUpload returns the body of an upload (gunzipped if needed), its size
// when the request says it and it is within limit (0 otherwise), and what
// closes it. A pending DropNextUploads fault closes the connection instead
// (dropped).
func (s *Service) openUpload(w http.ResponseWriter, r *http.Request, limit int64) (body io.Reader, size int64, closeBody func(), dropped bool, err error) {
	s.mu.Lock()
	drop := s.faults.dropUploads > 0
	if drop {
		s.faults.dropUploads--
	}
	s.mu.Unlock()
	if drop {
		_, _ = io.CopyN(io.Discard, r.Body, 1024)
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return nil, 0, nil, true, nil
			}
		}
		panic(http.ErrAbortHandler)
	}
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, 0, nil, false, err
		}
		return zr, 0, func() { _ = zr.Close() }, false, nil
	}
	if r.ContentLength > 0 && r.ContentLength <= limit {
		size = r.ContentLength
	}
	return r.Body, size, func() {}, false, nil
}

// Chunk sizes of readChunked: the first chunk, and the largest.
const (
	minUploadChunk = 64 << 10
	maxUploadChunk = 8 << 20
)

// readChunked reads a body of unknown length (chunked, or gzipped) into
// chunks of growing size, then into one slice of its exact length: each byte
// is copied once and the upload the job keeps has no spare capacity.
func readChunked(body io.Reader, limit int64) (data []byte, tooBig, dropped bool, err error) {
	chunks, n, err := readChunks(body)
	if err != nil {
		return nil, false, false, err
	}
	if n > limit {
		return nil, true, false, nil
	}
	switch len(chunks) {
	case 0:
		return nil, false, false, nil
	case 1:
		return chunks[0], false, false, nil
	}
	data = make([]byte, 0, n)
	for _, c := range chunks {
		data = append(data, c...)
	}
	return data, false, false, nil
}

// readChunks reads body to its end into chunks of growing size, and
// returns them with their total length.
func readChunks(body io.Reader) (chunks [][]byte, n int64, err error) {
	size := minUploadChunk
	for done := false; !done; size = min(2*size, maxUploadChunk) {
		c := make([]byte, size)
		k := 0
		for k < len(c) {
			m, err := body.Read(c[k:])
			k += m
			if err == io.EOF {
				done = true
				break
			}
			if err != nil {
				return nil, 0, err
			}
		}
		n += int64(k)
		if k > 0 {
			chunks = append(chunks, c[:k])
		}
	}
	return chunks, n, nil
}

func (s *Service) bulk1AddBatch(w http.ResponseWriter, r *http.Request, j *job) {
	f := formatOf(j.contentType)
	// A submitted batch counts against the allocation even when it is
	// rejected, as on Salesforce.
	if err := s.org.Consume(limitBatches, 1); err != nil {
		writeBulk1Error(w, f, http.StatusBadRequest, "ExceededQuota", "Maximum number of batches per rolling 24-hour period exceeded")
		return
	}
	s.mu.Lock()
	var refused *stateError
	if !jobAllowsLocked(j, jobAddBatch) {
		refused = jobRefusal(j, jobAddBatch, "")
	}
	s.mu.Unlock()
	if s.clk.Now().Sub(j.created) > maxJobAge {
		writeBulk1Error(w, f, http.StatusBadRequest, "InvalidJobState", "Job "+j.id+" is older than 24 hours: batches can no longer be added")
		return
	}
	if refused != nil {
		refused.write(w, j)
		return
	}
	data, tooBig, dropped, err := s.readUpload(w, r, MaxBatchBytes)
	if dropped {
		return
	}
	if err != nil {
		writeBulk1Error(w, f, http.StatusBadRequest, "ClientInputError", "Failed to read batch: "+err.Error())
		return
	}
	now := s.clk.Now()
	b := &batch{job: j, state: batchQueued, created: now, modstamp: now, contentType: r.Header.Get("Content-Type")}
	var rejected string
	switch {
	case tooBig:
		rejected = fmt.Sprintf("InvalidBatch : Exceeded max size limit of %d", MaxBatchBytes)
	case utf8.RuneCount(data) > MaxBatchChars:
		rejected = fmt.Sprintf("InvalidBatch : Exceeded max character limit of %d", MaxBatchChars)
	case len(bytes.TrimSpace(data)) == 0:
		writeBulk1Error(w, f, http.StatusBadRequest, "ClientInputError", "Batch content is empty")
		return
	default:
		b.data = data
	}
	if rejected == "" && j.isQuery() {
		b.query = strings.TrimSpace(string(data))
	}
	contention := rejected == "" && !j.isQuery() && j.concurrency == "Parallel" && s.contentionRate() > 0
	s.mu.Lock()
	if e := s.jobStepLocked(j, jobAddBatch, ""); e != nil {
		s.mu.Unlock()
		e.write(w, j)
		return
	}
	b.id = s.newIDLocked(prefixBatch)
	b.seq = len(j.batches)
	j.batches = append(j.batches, b)
	if rejected != "" {
		b.stateMessage = rejected
		s.batchStepLocked(b, batchReject)
	}
	s.saveBatchLocked(b)
	s.mu.Unlock()
	if contention {
		if src, err := s.bulk1Source(b); err == nil {
			s.collectParents(j, b.seq, src)
		}
	}
	s.mu.Lock()
	if b.state == batchQueued {
		s.enqueueLocked(&work{job: j, batch: b})
	}
	fs := batchInfoFields(b)
	s.mu.Unlock()
	writeBulk1Object(w, f, http.StatusCreated, "batchInfo", fs)
}

func (s *Service) bulk1ListBatches(w http.ResponseWriter, j *job) {
	f := formatOf(j.contentType)
	s.mu.Lock()
	lists := make([][]field, len(j.batches))
	for i, b := range j.batches {
		lists[i] = batchInfoFields(b)
	}
	s.mu.Unlock()
	var out []byte
	if f == fmtJSON {
		out = append(out, `{"batchInfo":[`...)
		for i, fs := range lists {
			if i > 0 {
				out = append(out, ',')
			}
			out = appendJSONObject(out, fs)
		}
		out = append(out, "]}"...)
		w.Header().Set("Content-Type", wire.ContentTypeBulk1JSON)
	} else {
		out = append(out, xmlHeader+`<batchInfoList xmlns="`+dataloadNamespace+`">`...)
		for _, fs := range lists {
			out = append(out, "<batchInfo>"...)
			out = appendXMLFields(out, fs)
			out = append(out, "</batchInfo>"...)
		}
		out = append(out, "</batchInfoList>"...)
		w.Header().Set("Content-Type", wire.ContentTypeBulk1XML)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

func (s *Service) bulk1BatchRequest(w http.ResponseWriter, b *batch) {
	ct := wire.ContentTypeBulk1CSV
	switch b.job.contentType {
	case "JSON":
		ct = wire.ContentTypeBulk1JSON
	case "XML":
		ct = wire.ContentTypeBulk1XML
	}
	if b.job.isQuery() {
		ct = "text/plain"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.data)
}

func (s *Service) bulk1BatchResult(w http.ResponseWriter, b *batch) {
	j := b.job
	f := formatOf(j.contentType)
	s.mu.Lock()
	st, results, resultID := b.state, b.results, b.resultID
	s.mu.Unlock()
	if st == batchQueued || st == batchInProgress || st == batchNotProcessed || (st == batchFailed && results == nil && resultID == "") {
		writeBulk1Error(w, f, http.StatusBadRequest, "InvalidBatch", "Batch not completed")
		return
	}
	if j.isQuery() {
		if f == fmtJSON {
			w.Header().Set("Content-Type", wire.ContentTypeBulk1JSON)
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`["` + resultID + `"]`))
			return
		}
		w.Header().Set("Content-Type", wire.ContentTypeBulk1XML)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(xmlHeader + `<result-list xmlns="` + dataloadNamespace + `"><result>` + resultID + `</result></result-list>`))
		return
	}
	ct := wire.ContentTypeBulk1CSV
	switch j.contentType {
	case "JSON":
		ct = wire.ContentTypeBulk1JSON
	case "XML":
		ct = wire.ContentTypeBulk1XML
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(results)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(results)
}

// bulk1Source returns the row source for a Bulk 1.0 ingest batch.
func (s *Service) bulk1Source(b *batch) (rowSource, error) {
	switch b.job.contentType {
	case "JSON":
		rows, err := parseJSONRecords(b.data)
		if err != nil {
			return nil, err
		}
		return &sliceSource{rows: rows}, nil
	case "XML":
		rows, err := parseXMLRecords(b.data)
		if err != nil {
			return nil, err
		}
		return &sliceSource{rows: rows}, nil
	}
	return newTextCSVSource(string(b.data), sfcsv.Comma)
}

// runIngestBatch processes one Bulk 1.0 batch or Bulk 2.0 internal batch.
func (s *Service) runIngestBatch(ctx context.Context, b *batch) {
	j := b.job
	s.mu.Lock()
	if b.state != batchQueued || j.state == stateAborted || j.state == stateFailed {
		s.batchStepLocked(b, batchSkip)
		s.finishBatchLocked(b)
		s.mu.Unlock()
		return
	}
	s.batchStepLocked(b, batchStart)
	var faultMsg string
	var faulted bool
	if j.kind == kindBulk1 {
		faultMsg, faulted = s.takeJobFaultLocked()
	}
	contended := contendedKeysLocked(j, b.seq)
	s.mu.Unlock()
	start := s.clk.Now()
	// The modelled time runs from the batch's start: the real work of a
	// chunk happens inside its modelled time, not on top of it.
	due := start.Add(s.startLatency())
	if !s.sleepUntil(ctx, due) {
		return
	}
	msg := ""
	switch {
	case faulted:
		msg = faultMsg
	default:
		src, err := s.ingestSource(b)
		if err != nil {
			msg = err.Error()
			break
		}
		if cs, ok := src.(*csvSource); ok {
			if m := s.checkColumns(j.object, cs.header); m != "" {
				msg = m
				break
			}
		}
		if j.kind == kindBulk1 {
			n := 0
			if ss, ok := src.(*sliceSource); ok {
				n = len(ss.rows)
				if m := s.checkSliceColumns(j.object, ss.rows); m != "" {
					msg = m
					break
				}
			} else {
				n = countRecords(string(b.data))
			}
			if n > MaxBatchRecords {
				msg = fmt.Sprintf("InvalidBatch : Exceeded number of records: %d. Number of records should be less than or equal to %d", n+1, MaxBatchRecords+1)
				break
			}
			if n == 0 {
				msg = "InvalidBatch : Records not found"
				break
			}
		}
		if err := s.writeRows(ctx, b, src, contended, due); err != nil {
			msg = err.Error()
		}
	}
	if ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	elapsed := s.clk.Now().Sub(start).Milliseconds()
	b.totalMS, b.apiMS = elapsed, elapsed
	if j.kind == kindV2Ingest {
		j.totalMS += elapsed
		j.apiMS += elapsed
	}
	switch {
	case msg != "":
		b.stateMessage = msg
		s.batchStepLocked(b, batchFail)
		// A Bulk 2.0 job fails with its batch; a Bulk 1.0 job has no
		// such transition and stays as it is.
		s.failJobLocked(j, msg)
	case j.state == stateAborted && b.attempted < b.records:
		s.batchStepLocked(b, batchStop)
	default:
		s.batchStepLocked(b, batchComplete)
	}
	s.finishBatchLocked(b)
}

// ingestSource returns the row source of an ingest batch of either API.
func (s *Service) ingestSource(b *batch) (rowSource, error) {
	if b.job.kind == kindV2Ingest {
		return s.segmentSource(b.job, b.seg)
	}
	return s.bulk1Source(b)
}

// checkSliceColumns validates the keys of JSON or XML records.
func (s *Service) checkSliceColumns(object string, rows []map[string]any) string {
	seen := map[string]bool{}
	var cols []string
	for _, r := range rows {
		for k := range r {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	return s.checkColumns(object, cols)
}

// finishBatchLocked closes a batch's results and updates its job. Caller
// holds s.mu.
func (s *Service) finishBatchLocked(b *batch) {
	j := b.job
	b.modstamp = s.clk.Now()
	if j.kind == kindBulk1 {
		if !j.isQuery() && (b.state == batchCompleted || b.state == batchFailed && b.nResults > 0) {
			finishResultsLocked(b)
		}
		s.saveProgressLocked(b)
		return
	}
	j.pendingBatches--
	j.modstamp = b.modstamp
	s.saveProgressLocked(b)
	if j.pendingBatches == 0 {
		s.jobStepLocked(j, jobFinish, "") // refused once aborted or failed
	}
}

// runBulk1Query executes a Bulk 1.0 query batch (or one PK chunk).
func (s *Service) runBulk1Query(ctx context.Context, b *batch) {
	j := b.job
	s.mu.Lock()
	if j.state == stateAborted || !s.batchStepLocked(b, batchStart) {
		s.mu.Unlock()
		return
	}
	timeout := s.takeQueryTimeoutLocked()
	faultMsg, faulted := s.takeJobFaultLocked()
	chunk := j.pk != nil && b.seq == 0 && !b.chunk
	s.mu.Unlock()
	start := s.clk.Now()
	if !s.sleep(ctx, s.startLatency()+s.queryLatency()) {
		return
	}
	var msg string
	switch {
	case faulted:
		msg = faultMsg
	case timeout:
		msg = "InvalidBatch : QUERY_TIMEOUT: Your query request was running for too long."
	case chunk:
		if err := s.pkChunk(ctx, b); err != nil {
			msg = err.Error()
		} else {
			s.mu.Lock()
			s.batchStepLocked(b, batchStop) // its chunks carry the work
			s.mu.Unlock()
			return
		}
	default:
		res, err := s.org.Query(ctx, b.query, j.operation == "queryAll")
		if err != nil {
			msg = "InvalidBatch : Failed to process query: " + queryErrorText(err)
			break
		}
		if res.CompoundColumn() != "" {
			msg = "InvalidBatch : Failed to process query: " + codeCompoundQuery + ": " + msgCompoundQuery
			break
		}
		s.mu.Lock()
		b.result = res
		b.resultID = s.newIDLocked(prefixResult)
		b.processed = int64(res.Len())
		s.mu.Unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	elapsed := s.clk.Now().Sub(start).Milliseconds()
	b.totalMS, b.apiMS = elapsed, elapsed
	if msg != "" {
		b.stateMessage = msg
		s.batchStepLocked(b, batchFail)
	} else {
		s.batchStepLocked(b, batchComplete)
	}
}

// A Bulk API query that selects a compound field (an address or a geolocation) is refused:
// a Bulk API 1.0 batch fails with "InvalidBatch : Failed to process query:
// FUNCTIONALITY_NOT_ENABLED: Selecting compound data not supported in Bulk Query", and the
// Bulk API 2.0 job create answers 400 with the same code and message.
const (
	codeCompoundQuery = "FUNCTIONALITY_NOT_ENABLED"
	msgCompoundQuery  = "Selecting compound data not supported in Bulk Query"
)

// queryErrorText renders an org query error as "CODE: message".
func queryErrorText(err error) string {
	code, msg := queryErrorParts(err)
	return code + ": " + msg
}
