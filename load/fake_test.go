package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// fakeOrg is an in-memory Salesforce org that speaks the engine's narrow interfaces. It is
// stateful: records are stored, looked up by id and external id, validated against a small
// schema, and results are real CSV bytes in the formats Salesforce uses.
type fakeOrg struct {
	mu      sync.Mutex
	objects map[string]*fakeObject // lower-case name
	nextID  int
	jobs    map[string]*fakeJob
	calls   map[string]int // API call counts by method name

	// fault returns a per-row error for a row about to be saved (attempt counts from 1), or nil.
	fault func(object string, row map[string]string, attempt int) *RowError
	// attempts counts saves per row key (the value of the first column).
	attempts map[string]int
	// shuffle reorders Bulk API 2.0 result files.
	shuffle *rand.Rand
	// failJob makes Bulk API 2.0 job number n (1-based) fail after processing half its rows.
	failJob map[int]string
	// dropResult drops the result of rows whose first value is in the set.
	dropResult map[string]bool
	// pollsToComplete is how many status polls a job or batch reports InProgress.
	pollsToComplete int
	// onPoll runs on every job status poll (tests use it to cancel).
	onPoll func()
	// createErr fails job creation.
	createErr  error
	jobCount   int
	batchCount int
	// mangleEcho makes successful results echo a changed first value.
	mangleEcho bool
	// noFailedResults makes result files of Failed jobs unavailable.
	noFailedResults bool
	// uploads records the size of every upload.
	uploads []int
}

type fakeObject struct {
	name    string
	fields  map[string]*salesforce.Field // lower-case name
	records map[string]map[string]string // id -> field (lower) -> value
	prefix  string
}

type fakeJob struct {
	id, object, op, extID, state, msg string
	api                               API
	data                              []byte
	polls                             int
	success, failed, unprocessed      []byte
	n                                 int
	batches                           map[string]*fakeBatch
	serial                            bool
}

type fakeBatch struct {
	id, state, msg string
	polls          int
	results        []byte
	rows           int
}

func newFakeOrg() *fakeOrg {
	f := &fakeOrg{objects: map[string]*fakeObject{}, jobs: map[string]*fakeJob{}, calls: map[string]int{}, attempts: map[string]int{}, failJob: map[int]string{}}
	str := func(name string, length int) salesforce.Field {
		return salesforce.Field{Name: name, Type: "string", Length: length, Createable: true, Updateable: true, Nillable: true}
	}
	id := salesforce.Field{Name: "Id", Type: "id", Length: 18, IDLookup: true}
	acct := []salesforce.Field{id, {Name: "Name", Type: "string", Length: 255, Createable: true, Updateable: true},
		{Name: "External_Id__c", Type: "string", Length: 50, Createable: true, Updateable: true, Nillable: true, ExternalID: true, Unique: true},
		str("Industry", 40), {Name: "NumberOfEmployees", Type: "int", Createable: true, Updateable: true, Nillable: true},
		{Name: "CreatedDate", Type: "datetime"}}
	contact := []salesforce.Field{id, {Name: "LastName", Type: "string", Length: 80, Createable: true, Updateable: true},
		str("FirstName", 40), {Name: "Email", Type: "email", Length: 80, Createable: true, Updateable: true, Nillable: true, ExternalID: true},
		{Name: "External_Id__c", Type: "string", Length: 50, Createable: true, Updateable: true, Nillable: true, ExternalID: true, Unique: true},
		{Name: "AccountId", Type: "reference", Length: 18, Createable: true, Updateable: true, Nillable: true, ReferenceTo: []string{"Account"}, RelationshipName: "Account"},
		{Name: "HasOptedOutOfEmail", Type: "boolean", Createable: true, Updateable: true, DefaultedOnCreate: true},
		str("Title", 128), str("Phone", 40), str("Department", 80), str("Description", 32000)}
	f.addObject("Account", "001", acct)
	f.addObject("Contact", "003", contact)
	return f
}

func (f *fakeOrg) addObject(name, prefix string, fields []salesforce.Field) {
	o := &fakeObject{name: name, prefix: prefix, fields: map[string]*salesforce.Field{}, records: map[string]map[string]string{}}
	for i := range fields {
		o.fields[strings.ToLower(fields[i].Name)] = &fields[i]
	}
	f.objects[strings.ToLower(name)] = o
}

func (f *fakeOrg) count(object string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.objects[strings.ToLower(object)].records)
}

func (f *fakeOrg) get(object, id string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.objects[strings.ToLower(object)].records[id]
}

func (f *fakeOrg) called(name string) {
	f.calls[name]++
}

// save applies one row; the caller holds f.mu.
func (f *fakeOrg) save(object, op, extID string, row map[string]string, key string) (id string, created bool, rerr *RowError) {
	o := f.objects[strings.ToLower(object)]
	if o == nil {
		return "", false, &RowError{StatusCode: "INVALID_TYPE", Message: "sObject type '" + object + "' is not supported"}
	}
	f.attempts[key]++
	if f.fault != nil {
		if e := f.fault(o.name, row, f.attempts[key]); e != nil {
			return row["id"], false, e
		}
	}
	switch op {
	case "delete", "hardDelete":
		id := row["id"]
		if _, ok := o.records[id]; !ok {
			return id, false, &RowError{StatusCode: "ENTITY_IS_DELETED", Message: "entity is deleted"}
		}
		delete(o.records, id)
		return id, false, nil
	}
	vals := map[string]string{}
	for k, v := range row {
		if rel, field, ok := strings.Cut(k, "."); ok {
			if v == "" {
				continue
			}
			var ref *salesforce.Field
			for _, fl := range o.fields {
				if strings.EqualFold(fl.RelationshipName, rel) {
					ref = fl
				}
			}
			if ref == nil {
				return "", false, &RowError{StatusCode: "INVALID_FIELD", Message: "No such relationship " + rel}
			}
			parent := f.objects[strings.ToLower(ref.ReferenceTo[0])]
			pid := ""
			for rid, rec := range parent.records {
				if rec[strings.ToLower(field)] == v {
					pid = rid
				}
			}
			if pid == "" {
				return "", false, &RowError{StatusCode: "INVALID_FIELD", Message: fmt.Sprintf("Foreign key external ID: %s not found for field %s in entity %s", v, field, parent.name), Fields: []string{ref.Name}}
			}
			vals[strings.ToLower(ref.Name)] = pid
			continue
		}
		fl := o.fields[k]
		if fl == nil {
			return "", false, &RowError{StatusCode: "INVALID_FIELD", Message: fmt.Sprintf("No such column '%s' on sobject of type %s", k, o.name)}
		}
		if v == "" {
			continue
		}
		if len(v) > fl.Length && fl.Length > 0 {
			return "", false, &RowError{StatusCode: "STRING_TOO_LONG", Message: fmt.Sprintf("%s: data value too large: %s (max length=%d)", fl.Name, v, fl.Length), Fields: []string{fl.Name}}
		}
		vals[k] = v
	}
	var rec map[string]string
	switch op {
	case "update":
		id = row["id"]
		rec = o.records[id]
		if rec == nil {
			return id, false, &RowError{StatusCode: "ENTITY_IS_DELETED", Message: "entity is deleted"}
		}
	case "upsert":
		ev := row[strings.ToLower(extID)]
		if ev == "" {
			return "", false, &RowError{StatusCode: "MISSING_ARGUMENT", Message: extID + " not specified"}
		}
		for rid, r := range o.records {
			if r[strings.ToLower(extID)] == ev {
				id, rec = rid, r
			}
		}
	}
	if rec == nil {
		for _, fl := range o.fields {
			if fl.Required() && fl.Type != "boolean" && vals[strings.ToLower(fl.Name)] == "" {
				return "", false, &RowError{StatusCode: "REQUIRED_FIELD_MISSING", Message: "Required fields are missing: [" + fl.Name + "]", Fields: []string{fl.Name}}
			}
		}
		f.nextID++
		id = fmt.Sprintf("%s%012dAAA", o.prefix, f.nextID)
		rec = map[string]string{"id": id}
		o.records[id] = rec
		created = true
	}
	for k, v := range vals {
		if k == "id" {
			continue
		}
		if v == sfcsv.NullValue {
			delete(rec, k)
			continue
		}
		rec[k] = v
	}
	return id, created, nil
}

func parseCSV(t testing.TB, data []byte) ([]string, [][]string) {
	rd := sfcsv.NewReader(bytes.NewReader(data), sfcsv.ReaderOptions{})
	h, err := rd.Header()
	if err != nil {
		t.Fatalf("fake: header: %v", err)
	}
	var rows [][]string
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return h, rows
		}
		if err != nil {
			t.Fatalf("fake: %v", err)
		}
		rows = append(rows, rec)
	}
}

func writeCSV(rows [][]string) []byte {
	var b bytes.Buffer
	w := sfcsv.NewWriter(&b, sfcsv.WriterOptions{})
	for _, r := range rows {
		w.Write(r)
	}
	w.Flush()
	return b.Bytes()
}

func rowMap(h, rec []string) map[string]string {
	m := make(map[string]string, len(h))
	for i, k := range h {
		m[strings.ToLower(k)] = rec[i]
	}
	return m
}

// ---- Bulk API 2.0

type fakeBulk2 struct {
	f *fakeOrg
	t testing.TB
}

func (b fakeBulk2) CreateIngestJob(ctx context.Context, req salesforce.IngestJobRequest) (*salesforce.IngestJob, error) {
	f := b.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called("CreateIngestJob")
	if f.createErr != nil {
		return nil, f.createErr
	}
	if req.ColumnDelimiter != "COMMA" || req.LineEnding != "LF" || req.ContentType != "CSV" {
		return nil, fmt.Errorf("fake: unexpected job format %+v", req)
	}
	f.jobCount++
	id := fmt.Sprintf("7508000000%05dAAA", f.jobCount)
	f.jobs[id] = &fakeJob{id: id, object: req.Object, op: req.Operation, extID: req.ExternalIDFieldName, state: "Open", api: Bulk2, n: f.jobCount}
	return &salesforce.IngestJob{ID: id, State: "Open", Object: req.Object, Operation: req.Operation}, nil
}

func (b fakeBulk2) UploadJobData(ctx context.Context, id string, data salesforce.Body) error {
	rc, err := data()
	if err != nil {
		return err
	}
	defer rc.Close()
	raw, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	f := b.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called("UploadJobData")
	j := f.jobs[id]
	if j == nil || j.state != "Open" {
		return &salesforce.APIError{StatusCode: 409, ErrorCode: "INVALIDJOBSTATE", Message: "job not open"}
	}
	if len(raw) > MaxBulk2JobBytes {
		return fmt.Errorf("fake: upload of %d bytes is over the limit", len(raw))
	}
	f.uploads = append(f.uploads, len(raw))
	j.data = append(j.data, raw...)
	return nil
}

func (b fakeBulk2) CloseIngestJob(ctx context.Context, id string) (*salesforce.IngestJob, error) {
	f := b.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called("CloseIngestJob")
	j := f.jobs[id]
	if j == nil || j.state != "Open" {
		return nil, &salesforce.APIError{StatusCode: 409, ErrorCode: "INVALIDJOBSTATE", Message: "job not open"}
	}
	j.state = "UploadComplete"
	return &salesforce.IngestJob{ID: id, State: j.state}, nil
}

func (b fakeBulk2) AbortIngestJob(ctx context.Context, id string) (*salesforce.IngestJob, error) {
	f := b.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called("AbortIngestJob")
	j := f.jobs[id]
	if j == nil {
		return nil, &salesforce.APIError{StatusCode: 404, ErrorCode: "NOT_FOUND"}
	}
	if j.state == "JobComplete" || j.state == "Failed" {
		return nil, &salesforce.APIError{StatusCode: 409, ErrorCode: "INVALIDJOBSTATE", Message: "job is terminal"}
	}
	j.state = "Aborted"
	return &salesforce.IngestJob{ID: id, State: j.state}, nil
}

func (b fakeBulk2) GetIngestJob(ctx context.Context, id string) (*salesforce.IngestJob, error) {
	f := b.f
	if f.onPoll != nil {
		f.onPoll()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called("GetIngestJob")
	j := f.jobs[id]
	if j == nil {
		return nil, &salesforce.APIError{StatusCode: 404, ErrorCode: "NOT_FOUND"}
	}
	if j.state == "UploadComplete" || j.state == "InProgress" {
		j.polls++
		if j.polls > f.pollsToComplete {
			f.process(b.t, j)
		} else {
			j.state = "InProgress"
		}
	}
	return &salesforce.IngestJob{ID: id, State: j.state, ErrorMessage: j.msg}, nil
}

// process runs a Bulk API 2.0 job; the caller holds f.mu.
func (f *fakeOrg) process(t testing.TB, j *fakeJob) {
	h, rows := parseCSV(t, j.data)
	okRows := [][]string{append([]string{"sf__Id", "sf__Created"}, h...)}
	badRows := [][]string{append([]string{"sf__Id", "sf__Error"}, h...)}
	unRows := [][]string{h}
	failAt := len(rows) + 1
	if msg, ok := f.failJob[j.n]; ok {
		failAt = len(rows) / 2
		j.msg = msg
	}
	for i, rec := range rows {
		if i >= failAt {
			unRows = append(unRows, rec)
			continue
		}
		if f.dropResult[rec[0]] {
			continue
		}
		id, created, e := f.save(j.object, j.op, j.extID, rowMap(h, rec), rec[0])
		if e != nil {
			badRows = append(badRows, append([]string{id, e.Error()}, rec...))
		} else {
			echo := rec
			if f.mangleEcho {
				echo = append([]string(nil), rec...)
				echo[0] = strings.ToUpper(echo[0]) + " "
			}
			okRows = append(okRows, append([]string{id, fmt.Sprint(created)}, echo...))
		}
	}
	if f.shuffle != nil {
		for _, rs := range [][][]string{okRows, badRows, unRows} {
			body := rs[1:]
			f.shuffle.Shuffle(len(body), func(a, b int) { body[a], body[b] = body[b], body[a] })
		}
	}
	j.success, j.failed, j.unprocessed = writeCSV(okRows), writeCSV(badRows), writeCSV(unRows)
	j.state = "JobComplete"
	if failAt <= len(rows) {
		j.state = "Failed"
	}
}

func (b fakeBulk2) result(id string, pick func(*fakeJob) []byte) (io.ReadCloser, error) {
	f := b.f
	f.mu.Lock()
	defer f.mu.Unlock()
	j := f.jobs[id]
	if j == nil {
		return nil, &salesforce.APIError{StatusCode: 404, ErrorCode: "NOT_FOUND"}
	}
	if j.state == "Aborted" && j.success == nil {
		return io.NopCloser(strings.NewReader("")), nil
	}
	if j.state == "Failed" && f.noFailedResults {
		return nil, &salesforce.APIError{StatusCode: 404, ErrorCode: "NOT_FOUND", Message: "no results for a failed job"}
	}
	return io.NopCloser(bytes.NewReader(pick(j))), nil
}

func (b fakeBulk2) SuccessfulResults(ctx context.Context, id string) (io.ReadCloser, error) {
	return b.result(id, func(j *fakeJob) []byte { return j.success })
}

func (b fakeBulk2) FailedResults(ctx context.Context, id string) (io.ReadCloser, error) {
	return b.result(id, func(j *fakeJob) []byte { return j.failed })
}

func (b fakeBulk2) UnprocessedRecords(ctx context.Context, id string) (io.ReadCloser, error) {
	return b.result(id, func(j *fakeJob) []byte { return j.unprocessed })
}

// ---- Bulk API 1.0

type fakeBulk1 struct {
	f *fakeOrg
	t testing.TB
}

func (b fakeBulk1) CreateJob(ctx context.Context, req salesforce.JobRequest) (*salesforce.Job, error) {
	f := b.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called("CreateJob")
	if f.createErr != nil {
		return nil, f.createErr
	}
	f.jobCount++
	id := fmt.Sprintf("7508000001%05dAAA", f.jobCount)
	f.jobs[id] = &fakeJob{id: id, object: req.Object, op: req.Operation, extID: req.ExternalIDFieldName, state: "Open", api: Bulk1,
		batches: map[string]*fakeBatch{}, serial: req.ConcurrencyMode == "Serial", n: f.jobCount}
	return &salesforce.Job{ID: id, State: "Open", ConcurrencyMode: req.ConcurrencyMode}, nil
}

func (b fakeBulk1) setState(id, state string) (*salesforce.Job, error) {
	f := b.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called(state + "Job")
	j := f.jobs[id]
	if j == nil {
		return nil, &salesforce.APIError{StatusCode: 400, ErrorCode: "InvalidJob"}
	}
	if j.state != "Open" {
		return nil, &salesforce.APIError{StatusCode: 400, ErrorCode: "InvalidJobState", Message: "job is " + j.state}
	}
	j.state = state
	return &salesforce.Job{ID: id, State: state}, nil
}

func (b fakeBulk1) CloseJob(ctx context.Context, id string) (*salesforce.Job, error) {
	return b.setState(id, "Closed")
}

func (b fakeBulk1) AbortJob(ctx context.Context, id string) (*salesforce.Job, error) {
	return b.setState(id, "Aborted")
}

func (b fakeBulk1) AddBatch(ctx context.Context, jobID, ct string, data salesforce.Body) (*salesforce.Batch, error) {
	rc, err := data()
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, err
	}
	f := b.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called("AddBatch")
	j := f.jobs[jobID]
	if j == nil || j.state != "Open" {
		return nil, &salesforce.APIError{StatusCode: 400, ErrorCode: "InvalidJobState"}
	}
	h, rows := parseCSV(b.t, raw)
	if len(rows) > MaxBulk1BatchRecords || len(raw) > MaxBulk1BatchBytes {
		return nil, fmt.Errorf("fake: batch over the limits: %d rows, %d bytes", len(rows), len(raw))
	}
	f.uploads = append(f.uploads, len(raw))
	bt := &fakeBatch{id: fmt.Sprintf("7518000000%05dAAA", len(j.batches)+100*j.n), state: "Queued", rows: len(rows)}
	j.batches[bt.id] = bt
	f.batchCount++
	if msg, ok := f.failJob[f.batchCount]; ok {
		bt.state, bt.msg = "Failed", msg
		return &salesforce.Batch{ID: bt.id, JobID: jobID, State: "Queued"}, nil
	}
	res := [][]string{{"Id", "Success", "Created", "Error"}}
	for _, rec := range rows {
		id, created, e := f.save(j.object, j.op, j.extID, rowMap(h, rec), rec[0])
		if e != nil {
			res = append(res, []string{id, "false", "false", e.Error()})
		} else {
			res = append(res, []string{id, "true", fmt.Sprint(created), ""})
		}
	}
	bt.results = writeCSV(res)
	return &salesforce.Batch{ID: bt.id, JobID: jobID, State: "Queued"}, nil
}

func (b fakeBulk1) ListBatches(ctx context.Context, jobID string) ([]*salesforce.Batch, error) {
	f := b.f
	f.mu.Lock()
	defer f.mu.Unlock()
	j := f.jobs[jobID]
	if j == nil {
		return nil, &salesforce.APIError{StatusCode: 400, ErrorCode: "InvalidJob"}
	}
	var out []*salesforce.Batch
	for _, bt := range j.batches {
		out = append(out, &salesforce.Batch{ID: bt.id, JobID: jobID, State: bt.state})
	}
	return out, nil
}

func (b fakeBulk1) GetBatch(ctx context.Context, jobID, batchID string) (*salesforce.Batch, error) {
	f := b.f
	if f.onPoll != nil {
		f.onPoll()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called("GetBatch")
	j := f.jobs[jobID]
	if j == nil || j.batches[batchID] == nil {
		return nil, &salesforce.APIError{StatusCode: 400, ErrorCode: "InvalidBatch"}
	}
	bt := j.batches[batchID]
	if bt.state == "Queued" || bt.state == "InProgress" {
		bt.polls++
		if bt.polls > f.pollsToComplete {
			bt.state = "Completed"
		} else {
			bt.state = "InProgress"
		}
	}
	if j.state == "Aborted" && bt.state != "Completed" {
		bt.state = "NotProcessed"
	}
	return &salesforce.Batch{ID: batchID, JobID: jobID, State: bt.state, StateMessage: bt.msg}, nil
}

func (b fakeBulk1) BatchResults(ctx context.Context, jobID, batchID string) (io.ReadCloser, error) {
	f := b.f
	f.mu.Lock()
	defer f.mu.Unlock()
	bt := f.jobs[jobID].batches[batchID]
	if bt.state != "Completed" {
		return nil, &salesforce.APIError{StatusCode: 400, ErrorCode: "InvalidBatch", Message: "Batch not completed"}
	}
	return io.NopCloser(bytes.NewReader(bt.results)), nil
}

// ---- Collections and describe

type fakeColl struct{ f *fakeOrg }

func (c fakeColl) saveAll(object, op, extID string, records []map[string]any) ([]salesforce.SaveResult, error) {
	f := c.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called("collections." + op)
	if len(records) > MaxCollectionRecords {
		return nil, fmt.Errorf("fake: %d records in one call", len(records))
	}
	out := make([]salesforce.SaveResult, len(records))
	for i, rec := range records {
		row := map[string]string{}
		key := ""
		for k, v := range rec {
			switch x := v.(type) {
			case nil:
				row[strings.ToLower(k)] = sfcsv.NullValue
			case string:
				row[strings.ToLower(k)] = x
			case map[string]any:
				for pk, pv := range x {
					if pk != "attributes" {
						row[strings.ToLower(k)+"."+strings.ToLower(pk)] = fmt.Sprint(pv)
					}
				}
			default:
				row[strings.ToLower(k)] = fmt.Sprint(x)
			}
		}
		for _, k := range []string{"id", "external_id__c", "lastname", "name"} {
			if row[k] != "" {
				key = row[k]
				break
			}
		}
		id, created, e := f.save(object, op, extID, row, key)
		if e != nil {
			out[i] = salesforce.SaveResult{ID: id, Errors: []salesforce.RecordError{{StatusCode: e.StatusCode, Message: e.Message, Fields: e.Fields}}}
		} else {
			out[i] = salesforce.SaveResult{ID: id, Success: true, Created: created}
		}
	}
	return out, nil
}

func (c fakeColl) CreateRecords(ctx context.Context, object string, records []map[string]any, opts salesforce.CollectionOptions) ([]salesforce.SaveResult, error) {
	return c.saveAll(object, "insert", "", records)
}

func (c fakeColl) UpdateRecords(ctx context.Context, object string, records []map[string]any, opts salesforce.CollectionOptions) ([]salesforce.SaveResult, error) {
	return c.saveAll(object, "update", "", records)
}

func (c fakeColl) UpsertRecords(ctx context.Context, object, ext string, records []map[string]any, opts salesforce.CollectionOptions) ([]salesforce.SaveResult, error) {
	return c.saveAll(object, "upsert", ext, records)
}

func (c fakeColl) DeleteRecords(ctx context.Context, ids []string, opts salesforce.CollectionOptions) ([]salesforce.SaveResult, error) {
	recs := make([]map[string]any, len(ids))
	object := "Contact"
	for i, id := range ids {
		recs[i] = map[string]any{"Id": id}
		if strings.HasPrefix(id, "001") {
			object = "Account"
		}
	}
	return c.saveAll(object, "delete", "", recs)
}

type fakeDescribe struct{ f *fakeOrg }

func (d fakeDescribe) Describe(ctx context.Context, object string) (*salesforce.SObjectDescribe, error) {
	f := d.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called("Describe")
	o := f.objects[strings.ToLower(object)]
	if o == nil {
		return nil, &salesforce.APIError{StatusCode: 404, ErrorCode: "NOT_FOUND", Message: "The requested resource does not exist"}
	}
	out := &salesforce.SObjectDescribe{}
	out.Name = o.name
	names := make([]string, 0, len(o.fields))
	for k := range o.fields {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		out.Fields = append(out.Fields, *o.fields[k])
	}
	return out, nil
}

// loader returns a Loader wired to the fake org.
func (f *fakeOrg) loader(t testing.TB) *Loader {
	return &Loader{bulk2: fakeBulk2{f, t}, bulk1: fakeBulk1{f, t}, coll: fakeColl{f}, desc: fakeDescribe{f}}
}

// collector is a Sink that checks every row gets exactly one outcome.
type collector struct {
	t      testing.TB
	mu     sync.Mutex
	header []string
	byRow  map[int64]*RowResult
}

func newCollector(t testing.TB) *collector { return &collector{t: t, byRow: map[int64]*RowResult{}} }

func (c *collector) Start(h []string) error {
	c.header = h
	return nil
}

func (c *collector) Write(r *RowResult) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.byRow[r.Row]; dup {
		c.t.Errorf("row %d: second outcome %v", r.Row, r.Outcome)
	}
	cp := *r
	c.byRow[r.Row] = &cp
	return nil
}

// check asserts that rows 1..n each have exactly one outcome.
func (c *collector) check(n int) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byRow) != n {
		c.t.Errorf("got %d outcomes, want %d", len(c.byRow), n)
	}
	for i := int64(1); i <= int64(n); i++ {
		if c.byRow[i] == nil {
			c.t.Errorf("row %d has no outcome", i)
		}
	}
}

func (c *collector) count(o Outcome) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.byRow {
		if r.Outcome == o {
			n++
		}
	}
	return n
}

// fastOptions are options with polling and backoff shrunk for tests.
func fastOptions(o Options) Options {
	o.MinPollInterval = 1e6 // 1ms
	o.MaxPollInterval = 4e6
	o.RetryBackoff = 1e6
	return o
}
