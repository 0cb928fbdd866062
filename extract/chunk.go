package extract

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/sfbatch/sfbatch/soql"
)

// runChunked splits the query into Options.IDChunks id ranges between the
// smallest and largest matching Id (the outer ranges are open, so records
// created meanwhile are not missed), runs one Bulk 2.0 query job per range
// (up to Concurrency at once) and writes the ranges' rows in id-range order
// (or as jobs finish when Unordered). Each range's pages are downloaded like
// a single job's (concurrently through resultPages when available).
func (e *engine) runChunked(ctx context.Context) error {
	q, err := soql.Parse(e.s.query)
	if err != nil {
		return fmt.Errorf("extract: IDChunks needs a query this package can parse: %w", err)
	}
	if _, err := soql.WithIDRange(e.s.query, "", ""); err != nil {
		return fmt.Errorf("extract: IDChunks: %w", err)
	}
	lo, err := e.edgeID(ctx, q, false)
	if err != nil {
		return err
	}
	if lo == "" {
		// No matching rows: one plain job gives the (empty) result.
		return e.runBulk2(ctx)
	}
	hi, err := e.edgeID(ctx, q, true)
	if err != nil {
		return err
	}
	bounds, err := splitIDRange(lo, hi, e.s.IDChunks)
	if err != nil {
		return err
	}
	queries := make([]string, 0, len(bounds)+1)
	for i := 0; i <= len(bounds); i++ {
		var from, to string
		if i > 0 {
			from = bounds[i-1]
		}
		if i < len(bounds) {
			to = bounds[i]
		}
		cq, err := soql.WithIDRange(e.s.query, from, to)
		if err != nil {
			return fmt.Errorf("extract: IDChunks: %w", err)
		}
		queries = append(queries, cq)
	}
	e.s.log.Debug("extract: id-range chunks", "chunks", len(queries), "min", lo, "max", hi)
	// Job ids are recorded in range order whatever order they start in.
	ids := make([]string, len(queries))
	tasks := make([]task, len(queries))
	for i, cq := range queries {
		tasks[i] = task{name: fmt.Sprintf("id range %d", i+1), prepare: func(ctx context.Context) (prepared, error) {
			job, err := e.c.bulk2.CreateQueryJob(ctx, bulk2Request(e.s, cq))
			if err != nil {
				return nil, fmt.Errorf("extract: creating Bulk 2.0 query job for id range %d: %w", i+1, err)
			}
			ids[i] = job.ID
			e.jobEvent(APIBulk2, job.ID, "", job.State)
			if err := e.waitBulk2(ctx, job.ID); err != nil {
				return nil, err
			}
			return &chunkJob{e: e, jobID: job.ID}, nil
		}}
	}
	err = e.pipeline(ctx, sliceSource(tasks), !e.s.Unordered)
	for _, id := range ids {
		if id != "" {
			e.sum.JobIDs = append(e.sum.JobIDs, id)
		}
	}
	var se *sinkError
	if errors.As(err, &se) {
		return se.err
	}
	var de *DownloadError
	if errors.As(err, &de) {
		de.Resumable = false
	}
	return err
}

// chunkJob is a completed id-range job waiting to be downloaded.
type chunkJob struct {
	e     *engine
	jobID string
}

func (c *chunkJob) consume(ctx context.Context) error {
	if err := c.e.downloadBulk2(ctx, c.jobID, "", 0); err != nil {
		return err
	}
	c.e.deleteBulk2(ctx, c.jobID)
	return nil
}

func (c *chunkJob) discard() {}

// edgeID returns the smallest (or, with last, largest) Id matching the
// query's condition, "" when nothing matches.
func (e *engine) edgeID(ctx context.Context, q *soql.Query, last bool) (string, error) {
	eq := *q
	eq.Fields = []soql.SelectItem{&soql.FieldRef{Path: []string{"Id"}}}
	eq.OrderBy = []soql.OrderItem{{Path: []string{"Id"}, Desc: last}}
	one := 1
	eq.Limit, eq.Offset = &one, nil
	seq := e.c.rest.Query(ctx, eq.String())
	if e.s.All {
		seq = e.c.rest.QueryAll(ctx, eq.String())
	}
	for rec, err := range seq {
		if err != nil {
			return "", fmt.Errorf("extract: IDChunks: finding the id range: %w", err)
		}
		return rec.ID(), nil
	}
	return "", nil
}

// base62 is the digit order of Salesforce record ids.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// splitIDRange returns n-1 ascending 18-character ids that cut [lo, hi] into
// n ranges of about equal width in id space. Duplicates (a range too narrow
// to split further) are dropped.
func splitIDRange(lo, hi string, n int) ([]string, error) {
	a, err := idNumber(lo)
	if err != nil {
		return nil, err
	}
	b, err := idNumber(hi)
	if err != nil {
		return nil, err
	}
	if a.Cmp(b) > 0 {
		a, b = b, a
	}
	width := new(big.Int).Sub(b, a)
	width.Add(width, big.NewInt(1))
	var out []string
	for k := 1; k < n; k++ {
		v := new(big.Int).Mul(width, big.NewInt(int64(k)))
		v.Quo(v, big.NewInt(int64(n)))
		v.Add(v, a)
		id := idString(v)
		if id[:15] <= lo15(lo) || (len(out) > 0 && id == out[len(out)-1]) {
			continue
		}
		out = append(out, id)
	}
	return out, nil
}

func lo15(id string) string { return id[:min(len(id), 15)] }

// idNumber reads the first 15 characters of an id as a base-62 number.
func idNumber(id string) (*big.Int, error) {
	if len(id) != 15 && len(id) != 18 {
		return nil, fmt.Errorf("extract: %q is not a record id", id)
	}
	v := new(big.Int)
	sixtyTwo := big.NewInt(62)
	for i := 0; i < 15; i++ {
		d := digit62(id[i])
		if d < 0 {
			return nil, fmt.Errorf("extract: %q is not a record id", id)
		}
		v.Mul(v, sixtyTwo)
		v.Add(v, big.NewInt(int64(d)))
	}
	return v, nil
}

func digit62(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 36
	}
	return -1
}

// idString writes v as a 15-digit base-62 id and adds the 3-character
// case-safe suffix.
func idString(v *big.Int) string {
	var b [15]byte
	x := new(big.Int).Set(v)
	sixtyTwo := big.NewInt(62)
	m := new(big.Int)
	for i := 14; i >= 0; i-- {
		x.QuoRem(x, sixtyTwo, m)
		b[i] = base62[m.Int64()]
	}
	return string(b[:]) + idSuffix(string(b[:]))
}

// idSuffix computes the case-safe suffix that turns a 15-character id into
// its 18-character form.
func idSuffix(id15 string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	var s [3]byte
	for chunk := 0; chunk < 3; chunk++ {
		bits := 0
		for i := 0; i < 5; i++ {
			c := id15[chunk*5+i]
			if c >= 'A' && c <= 'Z' {
				bits |= 1 << i
			}
		}
		s[chunk] = alphabet[bits]
	}
	return string(s[:])
}
