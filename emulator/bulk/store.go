package bulk

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/emulator/wire"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// store keeps jobs, batches, uploads and results in a SQLite file (the
// org's data file; its tables are bulk_*), so that a restarted service
// carries on where the last one stopped. Memory stays the source of truth:
// the file is read once by Open and written through as state changes, each
// write its own transaction.
//
// Tables: bulk_jobs(id, seq, data) and bulk_batches(id, job, seq, data),
// data being the JSON of jobRecord and batchRecord; bulk_uploads(job,
// data) holds a Bulk 2.0 upload, bulk_batch_data(batch, data) a Bulk 1.0
// batch's request body; bulk_results(batch, n, results, failures) the
// result bytes a batch added at its n-th save; bulk_meta the id counter.
type store struct {
	db *sql.DB
}

func openStore(path string) (*store, error) {
	db, err := org.OpenDataFile(path,
		"CREATE TABLE IF NOT EXISTS bulk_jobs (id TEXT NOT NULL PRIMARY KEY, seq INTEGER NOT NULL, data TEXT NOT NULL)",
		"CREATE TABLE IF NOT EXISTS bulk_batches (id TEXT NOT NULL PRIMARY KEY, job TEXT NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL)",
		"CREATE TABLE IF NOT EXISTS bulk_uploads (job TEXT NOT NULL PRIMARY KEY, data BLOB NOT NULL)",
		"CREATE TABLE IF NOT EXISTS bulk_batch_data (batch TEXT NOT NULL PRIMARY KEY, data BLOB NOT NULL)",
		"CREATE TABLE IF NOT EXISTS bulk_results (batch TEXT NOT NULL, n INTEGER NOT NULL, results BLOB NOT NULL, failures BLOB NOT NULL, PRIMARY KEY(batch, n))",
		"CREATE TABLE IF NOT EXISTS bulk_meta (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL)")
	if err != nil {
		return nil, fmt.Errorf("bulk: %w", err)
	}
	return &store{db: db}, nil
}

// jobRecord is the stored form of a job's fields (not its upload, batches
// or query result).
type jobRecord struct {
	counts
	Kind             apiKind  `json:"kind"`
	Version          string   `json:"version"`
	Operation        string   `json:"operation"`
	Object           string   `json:"object"`
	ExtID            string   `json:"extId,omitempty"`
	ContentType      string   `json:"contentType"`
	Concurrency      string   `json:"concurrency"`
	AssignmentRuleID string   `json:"assignmentRuleId,omitempty"`
	Delim            string   `json:"delim"`
	LineEnding       string   `json:"lineEnding"`
	CreatedBy        string   `json:"createdBy"`
	State            string   `json:"state"`
	ErrorMessage     string   `json:"errorMessage,omitempty"`
	Deleted          bool     `json:"deleted,omitempty"`
	Retries          int64    `json:"retries"`
	Uploaded         bool     `json:"uploaded,omitempty"`
	Header           []string `json:"header,omitempty"`
	HeaderLine       []byte   `json:"headerLine,omitempty"`
	Query            string   `json:"query,omitempty"`
	PKChunkSize      int      `json:"pkChunkSize,omitempty"`
	PKParent         string   `json:"pkParent,omitempty"`
	PKStartRow       string   `json:"pkStartRow,omitempty"`
	PK               bool     `json:"pk,omitempty"`
}

// counts are the stored times and counters jobs and batches both have.
type counts struct {
	Created   time.Time `json:"created"`
	Modstamp  time.Time `json:"modstamp"`
	Processed int64     `json:"processed"`
	Failed    int64     `json:"failed"`
	TotalMS   int64     `json:"totalMs"`
	APIMS     int64     `json:"apiMs"`
}

// batchRecord is the stored form of a batch's fields (not its data or
// results).
type batchRecord struct {
	counts
	State        string `json:"state"`
	StateMessage string `json:"stateMessage,omitempty"`
	ContentType  string `json:"contentType,omitempty"`
	From         int    `json:"from,omitempty"` // Bulk 2.0: the segment's span of the upload
	To           int    `json:"to,omitempty"`
	Records      int    `json:"records,omitempty"`
	Attempted    int    `json:"attempted"`
	NResults     int    `json:"nResults,omitempty"`
	Query        string `json:"query,omitempty"`
	ResultID     string `json:"resultId,omitempty"`
	Chunk        bool   `json:"chunk,omitempty"`
}

func recordOfJob(j *job) jobRecord {
	r := jobRecord{
		Kind: j.kind, Version: j.version.String(), Operation: j.operation, Object: j.object, ExtID: j.extID,
		ContentType: j.contentType, Concurrency: j.concurrency, AssignmentRuleID: j.assignmentRuleID,
		Delim: j.delim.Name(), LineEnding: j.lineEnding.String(), CreatedBy: j.createdBy,
		counts: counts{j.created, j.modstamp, j.processed, j.failed, j.totalMS, j.apiMS},
		State:  j.state, ErrorMessage: j.errorMessage, Deleted: j.deleted, Retries: j.retries,
		Uploaded: j.uploaded, Header: j.header, HeaderLine: j.headerLine, Query: j.query,
	}
	if j.pk != nil {
		r.PK, r.PKChunkSize, r.PKParent, r.PKStartRow = true, j.pk.chunkSize, j.pk.parent, j.pk.startRow
	}
	return r
}

func (r jobRecord) job(id string) (*job, error) {
	ver, err := wire.ParseVersion(r.Version)
	if err != nil {
		return nil, err
	}
	delim, err := sfcsv.ParseDelimiter(r.Delim)
	if err != nil {
		return nil, err
	}
	le, err := sfcsv.ParseLineEnding(r.LineEnding)
	if err != nil {
		return nil, err
	}
	j := &job{
		id: id, kind: r.Kind, version: ver, operation: r.Operation, object: r.Object, extID: r.ExtID,
		contentType: r.ContentType, concurrency: r.Concurrency, assignmentRuleID: r.AssignmentRuleID,
		delim: delim, lineEnding: le, createdBy: r.CreatedBy, created: r.Created, modstamp: r.Modstamp,
		state: r.State, errorMessage: r.ErrorMessage, deleted: r.Deleted,
		processed: r.Processed, failed: r.Failed, retries: r.Retries, totalMS: r.TotalMS, apiMS: r.APIMS,
		uploaded: r.Uploaded, header: r.Header, headerLine: r.HeaderLine, query: r.Query,
	}
	if r.PK {
		j.pk = &pkChunking{chunkSize: r.PKChunkSize, parent: r.PKParent, startRow: r.PKStartRow}
	}
	return j, nil
}

func recordOfBatch(b *batch) batchRecord {
	return batchRecord{
		counts: counts{b.created, b.modstamp, b.processed, b.failed, b.totalMS, b.apiMS},
		State:  b.state, StateMessage: b.stateMessage, ContentType: b.contentType,
		From: b.from, To: b.to, Records: b.records, Attempted: b.attempted, NResults: b.nResults,
		Query: b.query, ResultID: b.resultID, Chunk: b.chunk,
	}
}

func (r batchRecord) batch(id string, j *job, seq int) *batch {
	return &batch{
		id: id, job: j, seq: seq, state: r.State, stateMessage: r.StateMessage, created: r.Created, modstamp: r.Modstamp,
		processed: r.Processed, failed: r.Failed, totalMS: r.TotalMS, apiMS: r.APIMS, contentType: r.ContentType,
		from: r.From, to: r.To, records: r.Records, attempted: r.Attempted, nResults: r.NResults,
		query: r.Query, resultID: r.ResultID, chunk: r.Chunk,
	}
}

// execer is a *sql.DB or a *sql.Tx.
type execer interface {
	Exec(query string, args ...any) (sql.Result, error)
}

func putJob(x execer, j *job, seq uint64) error {
	data, err := json.Marshal(recordOfJob(j))
	if err != nil {
		return err
	}
	if _, err := x.Exec("INSERT INTO bulk_jobs(id, seq, data) VALUES(?, ?, ?) ON CONFLICT(id) DO UPDATE SET data = excluded.data", j.id, j.order, string(data)); err != nil {
		return err
	}
	_, err = x.Exec("INSERT INTO bulk_meta(key, value) VALUES('seq', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", strconv.FormatUint(seq, 10))
	return err
}

func putBatch(x execer, b *batch) error {
	data, err := json.Marshal(recordOfBatch(b))
	if err != nil {
		return err
	}
	_, err = x.Exec("INSERT INTO bulk_batches(id, job, seq, data) VALUES(?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET data = excluded.data", b.id, b.job.id, b.seq, string(data))
	return err
}

// saveJob writes j's fields.
func (st *store) saveJob(j *job, seq uint64) error { return putJob(st.db, j, seq) }

// saveBatch writes b's fields and, the first time, a Bulk 1.0 batch's
// request body.
func (st *store) saveBatch(b *batch, seq uint64) error {
	tx, err := st.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if err := putBatch(tx, b); err != nil {
		return err
	}
	if b.job.kind == kindBulk1 && !b.dataSaved {
		if _, err := tx.Exec("INSERT OR REPLACE INTO bulk_batch_data(batch, data) VALUES(?, ?)", b.id, b.data); err != nil {
			return err
		}
	}
	if err := putJob(tx, b.job, seq); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	b.dataSaved = true
	return nil
}

// saveProgress writes the result bytes b added since its last save, with
// b's and its job's counters, in one transaction.
func (st *store) saveProgress(b *batch, seq uint64) error {
	tx, err := st.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	// Never nil: the columns are NOT NULL.
	res := append([]byte{}, b.results[b.savedResults:]...)
	fail := append([]byte{}, b.failures[b.savedFailures:]...)
	if len(res) > 0 || len(fail) > 0 {
		if _, err := tx.Exec("INSERT INTO bulk_results(batch, n, results, failures) VALUES(?, ?, ?, ?)", b.id, b.saves, res, fail); err != nil {
			return err
		}
	}
	if err := putBatch(tx, b); err != nil {
		return err
	}
	if err := putJob(tx, b.job, seq); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if len(res) > 0 || len(fail) > 0 {
		b.saves++
	}
	b.savedResults, b.savedFailures = len(b.results), len(b.failures)
	return nil
}

// saveUpload writes a Bulk 2.0 job's uploaded data.
func (st *store) saveUpload(jobID string, data string) error {
	_, err := st.db.Exec("INSERT OR REPLACE INTO bulk_uploads(job, data) VALUES(?, ?)", jobID, []byte(data))
	return err
}

// load reads every job with its batches, upload and results, in creation
// order, and the id counter.
func (st *store) load() ([]*job, uint64, error) {
	var seq uint64
	var v string
	switch err := st.db.QueryRow("SELECT value FROM bulk_meta WHERE key = 'seq'").Scan(&v); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, 0, err
	default:
		if seq, err = strconv.ParseUint(v, 10, 64); err != nil {
			return nil, 0, err
		}
	}
	jobs, byID, err := st.loadJobs()
	if err != nil {
		return nil, 0, err
	}
	if err := st.loadBatches(byID); err != nil {
		return nil, 0, err
	}
	return jobs, seq, nil
}

func (st *store) loadJobs() ([]*job, map[string]*job, error) {
	rows, err := st.db.Query("SELECT j.id, j.seq, j.data, u.data FROM bulk_jobs j LEFT JOIN bulk_uploads u ON u.job = j.id ORDER BY j.seq")
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var jobs []*job
	byID := map[string]*job{}
	for rows.Next() {
		var id, data string
		var order int
		var upload []byte
		if err := rows.Scan(&id, &order, &data, &upload); err != nil {
			return nil, nil, err
		}
		var r jobRecord
		if err := json.Unmarshal([]byte(data), &r); err != nil {
			return nil, nil, fmt.Errorf("job %s: %w", id, err)
		}
		j, err := r.job(id)
		if err != nil {
			return nil, nil, fmt.Errorf("job %s: %w", id, err)
		}
		j.order, j.upload = order, string(upload)
		jobs = append(jobs, j)
		byID[id] = j
	}
	return jobs, byID, rows.Err()
}

func (st *store) loadBatches(byID map[string]*job) error {
	rows, err := st.db.Query(`SELECT b.id, b.job, b.seq, b.data, d.data,
		(SELECT COUNT(*) FROM bulk_results r WHERE r.batch = b.id)
		FROM bulk_batches b LEFT JOIN bulk_batch_data d ON d.batch = b.id ORDER BY b.job, b.seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var all []*batch
	for rows.Next() {
		var id, jobID, data string
		var seq, saves int
		var body []byte
		if err := rows.Scan(&id, &jobID, &seq, &data, &body, &saves); err != nil {
			return err
		}
		j := byID[jobID]
		if j == nil {
			continue
		}
		var r batchRecord
		if err := json.Unmarshal([]byte(data), &r); err != nil {
			return fmt.Errorf("batch %s: %w", id, err)
		}
		b := r.batch(id, j, seq)
		b.saves, b.dataSaved = saves, true
		if j.kind == kindV2Ingest && b.to <= len(j.upload) {
			b.seg = j.upload[b.from:b.to]
		} else {
			b.data = body
		}
		j.batches = append(j.batches, b)
		all = append(all, b)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, b := range all {
		if err := st.loadResults(b); err != nil {
			return fmt.Errorf("batch %s results: %w", b.id, err)
		}
	}
	return nil
}

func (st *store) loadResults(b *batch) error {
	rows, err := st.db.Query("SELECT results, failures FROM bulk_results WHERE batch = ? ORDER BY n", b.id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var res, fail []byte
		if err := rows.Scan(&res, &fail); err != nil {
			return err
		}
		b.results = append(b.results, res...)
		b.failures = append(b.failures, fail...)
	}
	b.savedResults, b.savedFailures = len(b.results), len(b.failures)
	return rows.Err()
}

func (st *store) close() error { return st.db.Close() }

// saveJobLocked writes j through to the data file, if there is one.
// Caller holds s.mu.
func (s *Service) saveJobLocked(j *job) {
	if s.st != nil {
		s.noteStoreErr(s.st.saveJob(j, s.seq))
	}
}

// saveBatchLocked writes b through to the data file, if there is one and
// b has been given its id. Caller holds s.mu.
func (s *Service) saveBatchLocked(b *batch) {
	if s.st != nil && b.id != "" {
		s.noteStoreErr(s.st.saveBatch(b, s.seq))
	}
}

// saveProgressLocked writes b's new results and its and its job's
// counters through to the data file, if there is one. Caller holds s.mu.
func (s *Service) saveProgressLocked(b *batch) {
	if s.st != nil {
		s.noteStoreErr(s.st.saveProgress(b, s.seq))
	}
}

// noteStoreErr keeps the first failed write of the data file; Close
// returns it. Caller holds s.mu.
func (s *Service) noteStoreErr(err error) {
	if err != nil && s.storeErr == nil {
		s.storeErr = fmt.Errorf("bulk: data file: %w", err)
	}
}

// restoreLocked loads the jobs of the data file and puts their unfinished
// work back in the queue: a job or batch that was in progress when the
// last service stopped resumes (a batch from its first row without an
// outcome), and queued work is queued again. Query results are selected
// again from the org as it is now. Caller holds s.mu.
func (s *Service) restoreLocked(ctx context.Context) error {
	jobs, seq, err := s.st.load()
	if err != nil {
		return fmt.Errorf("bulk: load data file: %w", err)
	}
	s.seq = seq
	for _, j := range jobs {
		s.jobs[j.id[:15]] = j
		s.order = append(s.order, j)
		if err := s.resumeLocked(ctx, j); err != nil {
			return fmt.Errorf("bulk: resume job %s: %w", j.id, err)
		}
	}
	return nil
}

// resumeLocked requeues the unfinished work of a restored job. Caller
// holds s.mu.
func (s *Service) resumeLocked(ctx context.Context, j *job) error {
	if j.kind == kindV2Query {
		if j.state == stateInProgress {
			s.jobStepLocked(j, jobResume, "")
		}
		if j.state != stateUploadComplete && j.state != stateJobComplete {
			return nil
		}
		res, err := s.org.Query(ctx, j.query, j.operation == "queryAll")
		if err != nil {
			return err
		}
		j.result = res
		if j.state == stateUploadComplete {
			s.enqueueLocked(&work{job: j})
		}
		return nil
	}
	if j.kind == kindV2Ingest && j.state == stateInProgress && j.batches == nil {
		// Stopped while splitting its upload: split it again.
		s.jobStepLocked(j, jobResume, "")
	}
	if j.kind == kindV2Ingest && j.state == stateUploadComplete && j.batches == nil {
		s.enqueueLocked(&work{job: j})
		return nil
	}
	for _, b := range j.batches {
		b.resumed = s.batchStepLocked(b, batchResume) // only an InProgress batch moves
		switch {
		case b.state == batchQueued:
			if j.kind == kindV2Ingest {
				j.pendingBatches++
			}
			s.enqueueLocked(&work{job: j, batch: b})
		case j.isQuery() && b.resultID != "":
			res, err := s.org.Query(ctx, b.query, j.operation == "queryAll")
			if err != nil {
				return err
			}
			b.result = res
		}
	}
	if j.kind == kindV2Ingest && j.state == stateInProgress && j.pendingBatches == 0 {
		s.jobStepLocked(j, jobFinish, "")
	}
	return nil
}
