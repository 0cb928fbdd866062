package bulk

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sfbatch/sfbatch/emulator/org"
)

// checkColumns validates column names against the object, the way
// Salesforce validates a batch's header: a field name, a relationship path
// Rel.IndexedField, or a polymorphic Type:Rel.IndexedField. It returns the
// stateMessage for the first bad column.
func (s *Service) checkColumns(object string, cols []string) string {
	ob, ok := s.org.Object(object)
	if !ok {
		return "InvalidBatch : Unable to find object: " + object
	}
	for _, c := range cols {
		if _, ok := ob.Field(c); ok {
			continue
		}
		rel, target, isRel := strings.Cut(c, ".")
		if !isRel || target == "" {
			return "InvalidBatch : Field name not found : " + c
		}
		typ, relName, poly := strings.Cut(rel, ":")
		if !poly {
			relName = rel
		}
		f, ok := ob.Relationship(relName)
		if !ok {
			return "InvalidBatch : Field name not found : " + c
		}
		if poly && len(f.ReferenceTo) < 2 {
			return "InvalidBatch : type is not needed for non polymorphic foreign key reference"
		}
		parent := ""
		if len(f.ReferenceTo) > 0 {
			parent = f.ReferenceTo[0]
		}
		if poly {
			parent = typ
		}
		pob, ok := s.org.Object(parent)
		if !ok {
			return "InvalidBatch : Field name not found : " + c
		}
		if _, ok := pob.Field(target); !ok {
			return "InvalidBatch : Field name not found : " + c
		}
	}
	return ""
}

// opOf maps a job operation to the org's write operation.
func opOf(operation string) org.Op {
	switch operation {
	case "insert":
		return org.OpInsert
	case "update":
		return org.OpUpdate
	case "upsert":
		return org.OpUpsert
	case "delete":
		return org.OpDelete
	case "hardDelete":
		return org.OpHardDelete
	}
	return org.Op(operation)
}

// request turns one row into a write request.
func request(j *job, fields map[string]any) (org.WriteRequest, string) {
	req := org.WriteRequest{Op: opOf(j.operation), Object: j.object, ExternalIDField: j.extID, Fields: fields}
	if req.Op == org.OpInsert {
		return req, ""
	}
	var id string
	for k, v := range fields {
		if strings.EqualFold(k, "Id") {
			id, _ = v.(string)
			if req.Op != org.OpUpsert && req.Op != org.OpInsert {
				delete(fields, k)
			}
			break
		}
	}
	switch req.Op {
	case org.OpUpdate, org.OpDelete, org.OpHardDelete:
		req.ID = id
	}
	if req.Op == org.OpDelete || req.Op == org.OpHardDelete {
		req.Fields = nil
	}
	return req, id
}

// pendingRow is a row waiting for its chunk to be written.
type pendingRow struct {
	raw      []string
	plain    bool // no cell of raw holds a double quote
	from, to int  // a plain row's text in its batch's segment
	inID     string
	preset   *org.WriteResult // outcome decided before the write
}

// writeRows writes src's rows to the org in chunks of ChunkRecords and
// records each outcome in b. It stops early (leaving the rest unprocessed)
// when ctx ends or the job is aborted. The returned error is a batch-level
// failure message. Under the Realistic profile chunk k's outcomes are
// recorded once the modelled time of the rows so far has passed since due
// (the end of the batch's start latency), so the org's real work on a chunk
// overlaps its modelled time instead of adding to it.
func (s *Service) writeRows(ctx context.Context, b *batch, src rowSource, contended map[string]bool, due time.Time) error {
	j := b.job
	rate := s.contentionRate()
	reqs := make([]org.WriteRequest, 0, ChunkRecords)
	pend := make([]pendingRow, 0, ChunkRecords)
	// The field maps of a CSV chunk go back to its source once the org has
	// read them: the org keeps values, never a request's map.
	csv, _ := src.(*csvSource)
	// Inserts from CSV take the org's columnar form: no field map per row.
	// Lock contention looks for a row's parents in its field map.
	if csv != nil && opOf(j.operation) == org.OpInsert && (rate == 0 || len(contended) == 0) {
		csv.columnar = true
	}
	maps := make([]map[string]any, 0, ChunkRecords)
	rowIdx, chunkStart := 0, 0
	hint := 0
	if j.kind == kindBulk1 && csv != nil {
		// A Bulk 1.0 CSV result file has a short line per row: room for
		// them all, so the file is not copied as it grows.
		hint = len(bulk1CSVResultHeader) + (bytes.Count(b.data, []byte{'\n'})+1)*bulk1CSVResultLine
	}
	s.mu.Lock()
	done := b.attempted // rows with an outcome before a restart
	resumed := b.resumed
	if b.results == nil {
		b.resultsHint = hint
	}
	s.mu.Unlock()
	var quotaErr error
	flush := func() bool {
		if len(pend) == 0 {
			return true
		}
		if ctx.Err() != nil {
			return false // stopping: this chunk stays without an outcome
		}
		// With a data file the org stores each chunk's results with its
		// records (under the batch and the chunk's first row), until the
		// chunk's outcomes are in the file too: a chunk the org applied
		// before a crash is not applied again when the batch resumes.
		tag := ""
		var results []org.WriteResult
		replayed := false
		if s.st != nil && len(reqs) > 0 {
			tag = b.id + ":" + strconv.Itoa(chunkStart)
			if resumed && chunkStart == done {
				prev, ok := s.org.TaggedResults(tag)
				replayed = ok && len(prev) == len(reqs)
				if replayed {
					results = prev
				}
			}
		}
		// Bulk 2.0 ingest records count against the daily allowance as
		// they are processed, one chunk at a time; a chunk that does not
		// fit stops the job and it and the rest stay unprocessed.
		if j.kind == kindV2Ingest && !replayed {
			if err := s.org.Consume(limitV2Records, len(pend)); err != nil {
				quotaErr = errors.New(msgIngestRecordsExceeded)
				return false
			}
		}
		if len(reqs) > 0 && !replayed {
			// A chunk once written keeps its outcomes, even when the
			// service stops during the modelled processing time.
			results = s.org.WriteTagged(context.WithoutCancel(ctx), j.createdBy, reqs, false, tag)
		}
		outcome := func(i int, k *int) *org.WriteResult {
			if p := pend[i]; p.preset != nil {
				return p.preset
			}
			*k++
			return &results[*k-1]
		}
		// A Bulk 2.0 batch's result rows are appended outside the lock, past
		// the end readers see (only this worker appends to b's files), and
		// published with the counters.
		// Without a data file, successful rows are kept compactly (okRows);
		// with one, as the result file's lines the file stores.
		v2 := j.kind == kindV2Ingest
		var succ, fails []byte
		var ok okRows
		if v2 {
			s.mu.Lock()
			succ, fails, ok = b.results, b.failures, b.ok
			fresh := succ == nil && ok.rows == nil && b.savedResults == 0
			s.mu.Unlock()
			compact := s.st == nil
			if fresh && compact {
				ok = newOKRows(b.records)
			} else if fresh {
				// Room for the segment echoed with an id and a flag per row,
				// so the file is not copied as it grows.
				succ = make([]byte, 0, len(b.seg)+b.records*(resultRowOverhead+2*len(j.header)))
			}
			k := 0
			for i, p := range pend {
				res := outcome(i, &k)
				if res.Success && ok.rows != nil {
					ok.add(p, byte(j.delim), res.ID, res.Created)
					continue
				}
				succ, fails = appendV2Result(succ, fails, j, p, res)
			}
		}
		due = due.Add(s.recordCost(len(pend)))
		slept := s.sleepUntil(ctx, due)
		s.mu.Lock()
		k := 0
		for i, p := range pend {
			s.countResultLocked(b, p, outcome(i, &k))
		}
		if v2 {
			b.results, b.failures, b.ok = succ, fails, ok
		}
		b.modstamp = s.clk.Now()
		s.saveProgressLocked(b)
		// A Bulk 1.0 batch in progress finishes after an abort; a Bulk 2.0
		// job stops at the next chunk and the rest is unprocessed.
		stop := !slept || j.kind == kindV2Ingest && (j.state == stateAborted || j.state == stateFailed)
		saved := s.storeErr == nil
		s.mu.Unlock()
		if tag != "" && saved {
			_ = s.org.ForgetTag(tag) // a tag left behind is only read on a resume
		}
		reqs = reqs[:0]
		pend = pend[:0]
		if csv != nil {
			csv.recycle(maps)
		}
		maps = maps[:0]
		return !stop
	}
	for {
		r, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			flush()
			return err
		}
		if rowIdx < done {
			rowIdx++
			continue
		}
		if len(pend) == 0 {
			chunkStart = rowIdx
		}
		maps = append(maps, r.fields)
		p := pendingRow{raw: r.raw, plain: r.plain, from: r.from, to: r.to}
		if r.rowErr == nil && !r.lengthsChecked {
			r.rowErr = checkFieldLengths(r.fields)
		}
		switch {
		case r.rowErr != nil:
			p.preset = &org.WriteResult{Errors: []org.Error{*r.rowErr}}
		default:
			var parent string
			if rate > 0 && len(contended) > 0 {
				parent = s.contendedParent(j, r.fields, contended)
			}
			var req org.WriteRequest
			if r.vals != nil {
				req = org.WriteRequest{Op: org.OpInsert, Object: j.object, Columns: csv.header, Values: r.vals}
			} else {
				req, p.inID = request(j, r.fields)
			}
			if parent != "" && s.roll(j, b.seq, rowIdx) < rate {
				p.preset = &org.WriteResult{ID: idIfUpdate(req), Errors: []org.Error{{
					StatusCode: "UNABLE_TO_LOCK_ROW",
					Message:    "unable to obtain exclusive access to this record or 1 records: " + parent,
				}}}
				break
			}
			reqs = append(reqs, req)
		}
		pend = append(pend, p)
		rowIdx++
		if len(pend) == ChunkRecords && !flush() {
			return quotaErr
		}
	}
	flush()
	return quotaErr
}

// appendResultRow appends a Bulk 2.0 result row: the id, the outcome
// (sf__Created or sf__Error), then the row's cells as uploaded. plain says
// no cell holds a double quote.
func appendResultRow(dst []byte, delim byte, eol, id, outcome string, raw []string, plain bool) []byte {
	dst = appendQuoted(dst, id)
	dst = append(dst, delim)
	dst = appendQuoted(dst, outcome)
	for _, c := range raw {
		if plain {
			dst = append(dst, delim, '"')
			dst = append(dst, c...)
			dst = append(dst, '"')
			continue
		}
		dst = append(dst, delim)
		dst = appendQuoted(dst, c)
	}
	return append(dst, eol...)
}

// resultRowOverhead is what a successful-results row adds to its input
// row besides quoting its cells (two quotes each): a quoted 18-character
// id, a quoted flag and the separators.
const resultRowOverhead = 32

// msgIngestRecordsExceeded fails a Bulk 2.0 ingest job whose records no
// longer fit in the daily allowance.
const msgIngestRecordsExceeded = "ExceededQuota : Maximum number of Bulk API 2.0 ingest records per rolling 24-hour period exceeded; the rest of the job was not processed"

func idIfUpdate(req org.WriteRequest) string {
	if req.Op == org.OpInsert || req.Op == org.OpUpsert {
		return ""
	}
	return req.ID
}

// checkFieldLengths fails a row whose value exceeds MaxFieldChars.
func checkFieldLengths(fields map[string]any) *org.Error {
	for k, v := range fields {
		if s, ok := v.(string); ok {
			if e := checkFieldLength(k, s); e != nil {
				return e
			}
		}
	}
	return nil
}

// checkFieldLength fails value s of field k when it exceeds MaxFieldChars.
func checkFieldLength(k, s string) *org.Error {
	if len(s) > MaxFieldChars && utf8.RuneCountInString(s) > MaxFieldChars {
		return &org.Error{StatusCode: "STRING_TOO_LONG", Message: fmt.Sprintf("%s: data value too large: %s... (max length=%d)", k, s[:20], MaxFieldChars), Fields: []string{k}}
	}
	return nil
}

func (s *Service) contentionRate() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.contentionRate
}

// roll returns a deterministic number in [0,1) for one row of one batch.
func (s *Service) roll(j *job, batchSeq, row int) float64 {
	h := fnv.New64a()
	var buf [24]byte
	binary.LittleEndian.PutUint64(buf[0:], uint64(s.opts.Seed))
	binary.LittleEndian.PutUint64(buf[8:], uint64(batchSeq))
	binary.LittleEndian.PutUint64(buf[16:], uint64(row))
	h.Write(buf[:])
	h.Write([]byte(j.id))
	return float64(h.Sum64()>>11) / float64(1<<53)
}

// parentKeys returns the parent records a row references: reference fields
// holding an id and relationship columns (Account.External_Id__c).
func (s *Service) parentKeys(j *job, fields map[string]any, fn func(key, display string)) {
	ob, ok := s.org.Object(j.object)
	if !ok {
		return
	}
	for k, v := range fields {
		str, ok := v.(string)
		if !ok || str == "" {
			if n, isNum := v.(json.Number); isNum {
				str = n.String()
			} else {
				continue
			}
		}
		if strings.Contains(k, ".") {
			fn(strings.ToLower(k)+"="+str, str)
			continue
		}
		f, ok := ob.Field(k)
		if !ok || f.Type != "reference" || strings.EqualFold(f.Name, "OwnerId") {
			continue
		}
		key := str
		if len(key) > 15 {
			key = key[:15]
		}
		fn("id="+key, str)
	}
}

// contendedParent returns the first parent of the row that another batch of
// the same job also references, or "".
func (s *Service) contendedParent(j *job, fields map[string]any, contended map[string]bool) string {
	found := ""
	s.parentKeys(j, fields, func(key, display string) {
		if found == "" && contended[key] {
			found = display
		}
	})
	return found
}

// collectParents registers the parent keys of one batch's rows in the job.
// Caller does not hold s.mu.
func (s *Service) collectParents(j *job, seq int, src rowSource) {
	keys := map[string]bool{}
	for {
		r, err := src.next()
		if err != nil {
			break
		}
		if r.fields != nil {
			s.parentKeys(j, r.fields, func(key, _ string) { keys[key] = true })
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if j.parents == nil {
		j.parents = map[string]int{}
	}
	for k := range keys {
		if first, ok := j.parents[k]; !ok || seq < first {
			j.parents[k] = seq
		}
	}
}

// contendedKeysLocked returns the parent keys an earlier batch of the job
// also references: rows of batch seq that touch them wait for a lock the
// earlier batch may still hold. Caller holds s.mu.
func contendedKeysLocked(j *job, seq int) map[string]bool {
	var m map[string]bool
	for k, first := range j.parents {
		if first < seq {
			if m == nil {
				m = map[string]bool{}
			}
			m[k] = true
		}
	}
	return m
}

// errorText formats an error the way Bulk CSV results do:
// CODE:message:field1,field2 --
func errorText(errs []org.Error) string {
	var sb strings.Builder
	for i, e := range errs {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(e.StatusCode)
		sb.WriteByte(':')
		sb.WriteString(e.Message)
		sb.WriteByte(':')
		if len(e.Fields) > 0 {
			sb.WriteString(strings.Join(e.Fields, ","))
			sb.WriteByte(' ')
		}
		sb.WriteString("--")
	}
	return sb.String()
}

// appendQuoted appends s as a quoted CSV value.
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		dst = append(dst, s[:i+1]...)
		dst = append(dst, '"')
		s = s[i+1:]
	}
	dst = append(dst, s...)
	return append(dst, '"')
}

// appendRow appends quoted cells joined by delim and the line terminator.
func appendRow(dst []byte, delim byte, eol string, cells ...string) []byte {
	for i, c := range cells {
		if i > 0 {
			dst = append(dst, delim)
		}
		dst = appendQuoted(dst, c)
	}
	return append(dst, eol...)
}

// appendV2Result appends one row's outcome to a Bulk 2.0 batch's
// successful (succ) or failed (fails) results.
func appendV2Result(succ, fails []byte, j *job, p pendingRow, res *org.WriteResult) ([]byte, []byte) {
	delim, eol := byte(j.delim), j.lineEnding.Terminator()
	if res.Success {
		return appendResultRow(succ, delim, eol, res.ID, strconv.FormatBool(res.Created), p.raw, p.plain), fails
	}
	id := res.ID
	if id == "" {
		id = idIfUpdate(org.WriteRequest{Op: opOf(j.operation), ID: p.inID})
	}
	return succ, appendResultRow(fails, delim, eol, id, errorText(res.Errors), p.raw, p.plain)
}

// countResultLocked counts one row's outcome in b and, for Bulk 1.0,
// appends it to b's results (a Bulk 2.0 row is appended by appendV2Result).
// Caller holds s.mu.
func (s *Service) countResultLocked(b *batch, p pendingRow, res *org.WriteResult) {
	j := b.job
	b.attempted++
	b.processed++
	if !res.Success {
		b.failed++
	}
	if j.kind == kindV2Ingest {
		j.processed++
		if !res.Success {
			j.failed++
		}
		return
	}
	id := res.ID
	if id == "" && !res.Success && j.operation != "insert" && j.operation != "upsert" {
		id = p.inID
	}
	switch j.contentType {
	case "JSON":
		if b.nResults == 0 {
			b.results = append(b.results, '[')
		} else {
			b.results = append(b.results, ',')
		}
		b.nResults++
		b.results = appendJSONResult(b.results, id, res)
	case "XML":
		if b.nResults == 0 {
			b.results = append(b.results, `<?xml version="1.0" encoding="UTF-8"?><results xmlns="`+dataloadNamespace+`">`...)
		}
		b.nResults++
		b.results = appendXMLResult(b.results, id, res)
	default:
		if b.nResults == 0 {
			if b.results == nil && b.resultsHint > 0 {
				b.results = make([]byte, 0, b.resultsHint)
			}
			b.results = append(b.results, bulk1CSVResultHeader...)
		}
		b.nResults++
		b.results = appendRow(b.results, ',', "\n", id, strconv.FormatBool(res.Success), strconv.FormatBool(res.Created), errorTextIf(res))
	}
}

func errorTextIf(res *org.WriteResult) string {
	if res.Success {
		return ""
	}
	return errorText(res.Errors)
}

type jsonError struct {
	Fields     []string `json:"fields"`
	Message    string   `json:"message"`
	StatusCode string   `json:"statusCode"`
}

type jsonResult struct {
	Success bool        `json:"success"`
	Created bool        `json:"created"`
	ID      *string     `json:"id"`
	Errors  []jsonError `json:"errors"`
}

func appendJSONResult(dst []byte, id string, res *org.WriteResult) []byte {
	r := jsonResult{Success: res.Success, Created: res.Created, Errors: []jsonError{}}
	if id != "" {
		r.ID = &id
	}
	for _, e := range res.Errors {
		f := e.Fields
		if f == nil {
			f = []string{}
		}
		r.Errors = append(r.Errors, jsonError{Fields: f, Message: e.Message, StatusCode: e.StatusCode})
	}
	b, _ := json.Marshal(r)
	return append(dst, b...)
}

func appendXMLResult(dst []byte, id string, res *org.WriteResult) []byte {
	dst = append(dst, "<result>"...)
	for _, e := range res.Errors {
		dst = append(dst, "<errors>"...)
		for _, f := range e.Fields {
			dst = appendXMLElem(dst, "fields", f)
		}
		dst = appendXMLElem(dst, "message", e.Message)
		dst = appendXMLElem(dst, "statusCode", e.StatusCode)
		dst = append(dst, "</errors>"...)
	}
	if id != "" {
		dst = appendXMLElem(dst, "id", id)
	} else {
		dst = append(dst, `<id xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>`...)
	}
	dst = appendXMLElem(dst, "success", strconv.FormatBool(res.Success))
	dst = appendXMLElem(dst, "created", strconv.FormatBool(res.Created))
	return append(dst, "</result>"...)
}

// finishResultsLocked closes a Bulk 1.0 result file. Caller holds s.mu.
func finishResultsLocked(b *batch) {
	switch b.job.contentType {
	case "JSON":
		if b.nResults == 0 {
			b.results = append(b.results, '[')
		}
		b.results = append(b.results, ']')
	case "XML":
		if b.nResults == 0 {
			b.results = append(b.results, `<?xml version="1.0" encoding="UTF-8"?><results xmlns="`+dataloadNamespace+`">`...)
		}
		b.results = append(b.results, "</results>"...)
	default:
		if b.nResults == 0 {
			b.results = append(b.results, bulk1CSVResultHeader...)
		}
	}
}

// bulk1CSVResultHeader is the header of a Bulk 1.0 CSV ingest result file;
// bulk1CSVResultLine the usual length of a line after it (a success).
const (
	bulk1CSVResultHeader = `"Id","Success","Created","Error"` + "\n"
	bulk1CSVResultLine   = len(`"001000000000001AAA","true","false",""` + "\n")
)
