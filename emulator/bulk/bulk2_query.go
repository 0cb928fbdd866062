package bulk

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/emulator/wire"
)

func (s *Service) v2CreateQuery(w http.ResponseWriter, r *http.Request, ver wire.Version, userID string) {
	var req v2Request
	if !decodeJSON(w, r, &req) {
		return
	}
	if req.Operation != "query" && req.Operation != "queryAll" {
		wire.WriteError(w, http.StatusBadRequest, "INVALIDJOB", "InvalidJob : Invalid operation: "+req.Operation+". Use query or queryAll")
		return
	}
	if req.Query == "" {
		wire.WriteError(w, http.StatusBadRequest, "INVALIDJOB", "InvalidJob : The query is required")
		return
	}
	j := s.newV2Job(w, req, kindV2Query, ver, userID)
	if j == nil {
		return
	}
	res, err := s.org.Query(r.Context(), req.Query, req.Operation == "queryAll")
	if err != nil {
		code, msg := queryErrorParts(err)
		wire.WriteError(w, http.StatusBadRequest, code, msg)
		return
	}
	if res.CompoundColumn() != "" {
		wire.WriteError(w, http.StatusBadRequest, codeCompoundQuery, msgCompoundQuery)
		return
	}
	if err := s.org.Consume(limitV2QueryJobs, 1); err != nil {
		wire.WriteError(w, http.StatusBadRequest, "EXCEEDED_QUOTA", "ExceededQuota : The daily limit of Bulk API 2.0 query jobs is used up")
		return
	}
	j.query, j.result, j.object = req.Query, res, res.Object
	s.mu.Lock()
	j.id = s.newIDLocked(prefixJob)
	s.addJobLocked(j)
	s.enqueueLocked(&work{job: j})
	s.mu.Unlock()
	s.writeV2Job(w, http.StatusOK, j, false)
}

// runV2Query moves a query job through InProgress to JobComplete (or
// Failed). The rows were selected when the job was created.
func (s *Service) runV2Query(ctx context.Context, j *job) {
	s.mu.Lock()
	if j.deleted || s.jobStepLocked(j, jobStart, "") != nil {
		s.mu.Unlock()
		return
	}
	start := j.modstamp
	timeout := s.takeQueryTimeoutLocked()
	s.mu.Unlock()
	if !s.sleep(ctx, s.startLatency()+s.queryLatency()) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if j.state != stateInProgress {
		return
	}
	j.totalMS = s.clk.Now().Sub(start).Milliseconds()
	if timeout {
		s.failJobLocked(j, "QUERY_TIMEOUT : Your query request was running for too long.")
		return
	}
	j.processed = int64(j.result.Len())
	s.jobStepLocked(j, jobFinish, "")
}

// encodeLocator and decodeLocator map a row offset to the opaque
// Sforce-Locator (base64 of the decimal offset, as v49.0+ does).
func encodeLocator(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(offset)))
}

func decodeLocator(loc string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(loc)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(string(b))
	return n, err == nil && n >= 0
}

// resultWindow resolves locator and maxRecords to a row range. maxRecords
// of zero means "the rest".
func resultWindow(r *http.Request, total int) (from, to int, errCode, errMsg string) {
	q := r.URL.Query()
	if loc := q.Get("locator"); loc != "" && loc != "null" {
		n, ok := decodeLocator(loc)
		if !ok || n > total {
			return 0, 0, "INVALID_QUERY_LOCATOR", "invalid query locator"
		}
		from = n
	}
	to = total
	if mr := q.Get("maxRecords"); mr != "" {
		n, err := strconv.Atoi(mr)
		if err != nil || n <= 0 {
			return 0, 0, "INVALIDPARAMETER", "maxRecords must be a positive integer: " + mr
		}
		to = min(total, from+n)
	}
	return from, to, "", ""
}

// completedResult returns a query job's rows, or answers 412
// JOB_NOT_COMPLETE while the job is not JobComplete.
func (s *Service) completedResult(w http.ResponseWriter, j *job) (*org.Result, bool) {
	s.mu.Lock()
	st, res := j.state, j.result
	s.mu.Unlock()
	if st != stateJobComplete {
		wire.WriteError(w, http.StatusPreconditionFailed, "JOB_NOT_COMPLETE", "Job is not complete. Current status: "+st)
		return nil, false
	}
	return res, true
}

func (s *Service) v2QueryResults(w http.ResponseWriter, r *http.Request, j *job) {
	res, ok := s.completedResult(w, j)
	if !ok {
		return
	}
	from, to, code, msg := resultWindow(r, res.Len())
	if code != "" {
		wire.WriteError(w, http.StatusBadRequest, code, msg)
		return
	}
	next := "null"
	if to < res.Len() {
		next = encodeLocator(to)
	}
	if !s.sleep(r.Context(), s.resultPageLatency()) {
		return // the client went away
	}
	h := w.Header()
	h.Set("Content-Type", wire.ContentTypeCSV)
	h["Sforce-Locator"] = []string{next}
	h["Sforce-NumberOfRecords"] = []string{strconv.Itoa(to - from)}
	w.WriteHeader(http.StatusOK)
	_ = writeCSVRows(w, res, from, to, byte(j.delim), j.lineEnding.Terminator())
}

func (s *Service) v2ResultPages(w http.ResponseWriter, r *http.Request, j *job, ver wire.Version) {
	res, ok := s.completedResult(w, j)
	if !ok {
		return
	}
	q := r.URL.Query()
	size := DefaultResultPageRecords
	if mr := q.Get("maxRecords"); mr != "" {
		n, err := strconv.Atoi(mr)
		if err != nil || n <= 0 {
			wire.WriteError(w, http.StatusBadRequest, "INVALIDPARAMETER", "maxRecords must be a positive integer: "+mr)
			return
		}
		size = n
	}
	offset := 0
	if loc := q.Get("locator"); loc != "" {
		n, ok := decodeLocator(loc)
		if !ok || n > res.Len() {
			wire.WriteError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
			return
		}
		offset = n
	}
	base := "/services/data/v" + ver.String() + "/jobs/query/" + j.id
	type page struct {
		ResultURL string `json:"resultUrl"`
	}
	out := struct {
		ResultPages    []page  `json:"resultPages"`
		NextRecordsURL *string `json:"nextRecordsUrl"`
		Done           bool    `json:"done"`
	}{ResultPages: []page{}}
	pos := offset
	for len(out.ResultPages) < MaxResultPageURLs && (pos < res.Len() || pos == 0 && len(out.ResultPages) == 0) {
		u := base + "/results?maxRecords=" + strconv.Itoa(size)
		if pos > 0 {
			u = base + "/results?locator=" + encodeLocator(pos) + "&maxRecords=" + strconv.Itoa(size)
		}
		out.ResultPages = append(out.ResultPages, page{u})
		pos += size
	}
	if pos < res.Len() {
		next := base + "/resultPages?locator=" + encodeLocator(pos) + "&maxRecords=" + strconv.Itoa(size)
		out.NextRecordsURL = &next
	} else {
		out.Done = true
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", wire.ContentTypeJSON)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
