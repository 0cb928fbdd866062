package load

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strings"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// Result kinds of a Bulk API 2.0 ingest job: its three result files.
const (
	resultsSuccessful  = "successfulResults"
	resultsFailed      = "failedResults"
	resultsUnprocessed = "unprocessedrecords"
)

// resultJoiner joins the result files of one Bulk API 2.0 job to its chunk's rows by content:
// the files echo each row's values after the sf__ columns, in no particular order. Identical
// rows are matched to input rows in input order. Each matched row's result goes to
// run.resolve.
type resultJoiner struct {
	r         *run
	c         *chunk
	job       *salesforce.IngestJob
	idx       *join
	unmatched int // result rows that matched no input row

	// Values and results are carved from slabs of joinSlabRows rows: one allocation for
	// many rows rather than two per row. A sink may keep them (Batches does).
	vals    []string
	results []RowResult
}

// joinSlabRows is how many rows' values and results one allocation of the join holds.
const joinSlabRows = 128

// newValues returns a slice of n values for one row.
func (j *resultJoiner) newValues(n int) []string {
	if len(j.vals) < n {
		j.vals = make([]string, n*joinSlabRows)
	}
	v := j.vals[:n:n]
	j.vals = j.vals[n:]
	return v
}

// newResult returns a zero RowResult for one row.
func (j *resultJoiner) newResult() *RowResult {
	if len(j.results) == 0 {
		j.results = make([]RowResult, joinSlabRows)
	}
	res := &j.results[0]
	j.results = j.results[1:]
	return res
}

func newResultJoiner(r *run, c *chunk, job *salesforce.IngestJob) *resultJoiner {
	return &resultJoiner{r: r, c: c, job: job, idx: newJoin(c)}
}

// joinFile reads one result file of kind resultsSuccessful, resultsFailed or
// resultsUnprocessed and resolves every row it matches.
func (j *resultJoiner) joinFile(kind string, body io.Reader) error {
	r, id := j.r, j.job.ID
	rd := sfcsv.NewReader(body, sfcsv.ReaderOptions{Delimiter: r.cfg.ColumnDelimiter, Name: id + "/" + kind, ReuseRecord: true, BufferSize: resultDownloadBuffer})
	hdr, err := rd.Header()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s of job %s: %w", kind, id, err)
	}
	cols := newResultColumns(r.header, hdr)
	for _, name := range cols.missing() {
		r.cfg.Logger.Warn("load: result file lacks an input column; its rows cannot be matched", "job", id, "file", kind, "column", name)
	}
	unmatched := 0
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && rec == nil {
			return fmt.Errorf("read %s of job %s: %w", kind, id, err)
		}
		h := cols.hash(r, rec)
		i := j.idx.take(h)
		if i < 0 {
			unmatched++
			continue
		}
		j.resolve(kind, i, cols, rec, cols.values(j.newValues(len(cols.pos)), rec))
	}
	if unmatched > 0 {
		r.cfg.Logger.Warn("load: result rows that match no input row", "job", id, "file", kind, "rows", unmatched)
	}
	j.unmatched += unmatched
	return nil
}

// resolve gives row i the result one record of a result file of kind says.
func (j *resultJoiner) resolve(kind string, i int, cols *resultColumns, rec, vals []string) {
	r, c, job := j.r, j.c, j.job
	switch kind {
	case resultsSuccessful:
		res := j.newResult()
		*res = RowResult{Outcome: Succeeded, ID: cols.get(rec, cols.id), Created: strings.EqualFold(cols.get(rec, cols.created), "true"), Values: vals}
		r.resolve(c, i, res)
	case resultsFailed:
		res := j.newResult()
		*res = RowResult{Outcome: Failed, ID: cols.get(rec, cols.id), Error: parseBulkError(cols.get(rec, cols.err)), Values: vals}
		r.resolve(c, i, res)
	default:
		if job.State == salesforce.JobStateFailed {
			r.resolveJobFailure(c, i, vals, jobError(job), Failed)
		} else {
			r.resolve(c, i, &RowResult{Outcome: NotProcessed, Values: vals,
				Error: &RowError{StatusCode: StatusNoResult, Message: "not processed: job " + job.ID + " ended " + job.State}})
		}
	}
}

// resultColumns maps a result file's header: where the sf__ columns are and where each input
// column is (-1 when absent).
type resultColumns struct {
	input            []string
	id, created, err int
	pos              []int // input column -> result column
}

func newResultColumns(input, hdr []string) *resultColumns {
	rc := &resultColumns{input: input, id: -1, created: -1, err: -1, pos: make([]int, len(input))}
	for i := range rc.pos {
		rc.pos[i] = -1
	}
	for j, h := range hdr {
		switch h {
		case "sf__Id":
			rc.id = j
			continue
		case "sf__Created":
			rc.created = j
			continue
		case "sf__Error":
			rc.err = j
			continue
		}
		for i, name := range input {
			if rc.pos[i] < 0 && strings.EqualFold(name, h) {
				rc.pos[i] = j
				break
			}
		}
	}
	return rc
}

// missing lists the input columns the result file lacks.
func (rc *resultColumns) missing() []string {
	var out []string
	for i, p := range rc.pos {
		if p < 0 {
			out = append(out, rc.input[i])
		}
	}
	return out
}

// hash returns r.rowHash of a result record's input values, without gathering them.
func (rc *resultColumns) hash(r *run, rec []string) uint64 {
	var h maphash.Hash
	h.SetSeed(r.seed)
	for _, p := range rc.pos {
		if p >= 0 && p < len(rec) {
			h.WriteString(rec[p])
		}
		h.WriteByte(0)
	}
	return h.Sum64()
}

// values fills vals (one per input column) with a result record's input values, in input
// column order, and returns it.
func (rc *resultColumns) values(vals, rec []string) []string {
	for i, p := range rc.pos {
		if p >= 0 && p < len(rec) {
			vals[i] = rec[p]
		}
	}
	return vals
}

// get returns column col of rec, "" when absent.
func (rc *resultColumns) get(rec []string, col int) string {
	if col >= 0 && col < len(rec) {
		return rec[col]
	}
	return ""
}

// join matches result rows to the chunk's rows by content hash, consumed as results arrive.
// Identical rows are matched in input order. Result files usually list rows in upload
// order, so a result is first tried against the row after the one matched last; only a
// result out of order needs the hash index, which is built the first time one comes.
type join struct {
	rows  []rowMeta
	taken []bool
	low   int // every row before low is taken
	last  int // the row taken last, -1 before the first

	head map[uint64]int32 // hash -> first row index + 1 that may be untaken (lazily skipped)
	next []int32          // row index -> next row index + 1 with the same hash
	dup  []bool           // an earlier row has the same hash
}

func newJoin(c *chunk) *join {
	return &join{rows: c.rows, taken: make([]bool, len(c.rows)), last: -1}
}

// index builds the hash index over every row.
func (j *join) index() {
	n := len(j.rows)
	j.head, j.next, j.dup = make(map[uint64]int32, n), make([]int32, n), make([]bool, n)
	for i := n - 1; i >= 0; i-- {
		h := j.rows[i].hash
		if v := j.head[h]; v != 0 {
			j.dup[v-1] = true
			j.next[i] = v
		}
		j.head[h] = int32(i + 1)
	}
}

// take returns the first untaken row with hash h, or -1.
func (j *join) take(h uint64) int {
	// The next row in order, when no earlier untaken row can have the same content.
	if p := j.last + 1; p < len(j.rows) && !j.taken[p] && j.rows[p].hash == h && (p == j.low || (j.head != nil && !j.dup[p])) {
		return j.takeAt(p)
	}
	if j.head == nil {
		j.index()
	}
	v := j.head[h]
	for v != 0 && j.taken[v-1] {
		v = j.next[v-1]
	}
	if v == 0 {
		delete(j.head, h)
		return -1
	}
	i := int(v - 1)
	if n := j.next[i]; n == 0 {
		delete(j.head, h)
	} else {
		j.head[h] = n
	}
	return j.takeAt(i)
}

func (j *join) takeAt(i int) int {
	j.taken[i] = true
	j.last = i
	for j.low < len(j.rows) && j.taken[j.low] {
		j.low++
	}
	return i
}
