package load

import (
	"bufio"
	"fmt"
	"os"

	"github.com/sfbatch/sfbatch/sfcsv"
	"github.com/zeebo/xxh3"
)

// rowMeta is what the engine keeps in memory per row in flight.
type rowMeta struct {
	num      int64
	hash     xxh3.Uint128 // joins the row to its result (run.rowHash)
	batch    int32
	attempts int16
	resent   bool // an earlier attempt's outcome was unknown: read the answer through settle
}

// chunk is one unit of upload: a Bulk API 2.0 job, a Bulk API 1.0 batch or a collections call.
type chunk struct {
	api   API
	pass  int
	index int
	rows  []rowMeta
	bytes int64
	chars int64
	path  string // CSV file with header (bulk APIs)
	f     *os.File
	w     *bufio.Writer
	vals  [][]string // row values (collections)

	jobID, batchID string
	job            int    // index in Summary.Jobs
	resolved       []bool // rows whose attempt has been handled (outcome or requeue)
	nResolved      int    // count of true values in resolved
	requeued       []bool // rows sent to the next pass
	journaled      bool   // recorded in Options.Journal
	sent           bool   // a request carrying the rows may have reached Salesforce
	emptied        bool   // its Bulk API 2.0 job was aborted while Open: nothing was processed
	unknown        int    // rows whose outcome is Unknown
	leave          bool   // left in flight in the journal: submitted (Options.Submit), or found unsent by Settle
	resumedID      string // journal id of a resumed collections call
	runTag         string // the Load call's tag, for made-up journal ids

	ticket *ticket // its slot in the adaptive concurrency while it runs
}

func (c *chunk) markRequeued(i int) {
	if c.requeued == nil {
		c.requeued = make([]bool, len(c.rows))
	}
	c.requeued[i] = true
}

func (c *chunk) markResolved(i int) {
	if c.resolved == nil {
		c.resolved = make([]bool, len(c.rows))
	}
	if !c.resolved[i] {
		c.resolved[i] = true
		c.nResolved++
	}
}

func (r *run) newChunk(api API, pass, index int, hdr []byte, hdrSize sfcsv.RowSize) (*chunk, error) {
	c := &chunk{api: api, pass: pass, index: index, bytes: int64(hdrSize.Bytes), chars: int64(hdrSize.Chars), runTag: r.tag}
	if api != Collections {
		c.path = r.tempPath(fmt.Sprintf("chunk-p%d-%d", pass, index))
		f, err := os.Create(c.path)
		if err != nil {
			return nil, fmt.Errorf("load: chunk file: %w", err)
		}
		c.f = f
		c.w = bufio.NewWriterSize(f, 256<<10)
		if _, err := c.w.Write(hdr); err != nil {
			return nil, fmt.Errorf("load: chunk file: %w", err)
		}
	}
	r.mu.Lock()
	r.live[c] = struct{}{}
	r.mu.Unlock()
	return c, nil
}

func (c *chunk) fits(lim limits, size sfcsv.RowSize) bool {
	if len(c.rows)+1 > lim.records {
		return false
	}
	if lim.bytes > 0 && c.bytes+int64(size.Bytes) > lim.bytes {
		return false
	}
	if lim.chars > 0 && c.chars+int64(size.Chars) > lim.chars {
		return false
	}
	return true
}

func (c *chunk) add(m rowMeta, vals []string, b []byte, size sfcsv.RowSize) error {
	c.rows = append(c.rows, m)
	c.bytes += int64(size.Bytes)
	c.chars += int64(size.Chars)
	if c.w == nil {
		c.vals = append(c.vals, vals)
		return nil
	}
	if _, err := c.w.Write(b); err != nil {
		return fmt.Errorf("load: chunk file: %w", err)
	}
	return nil
}

// addText adds a row of a bulk API chunk given as its CSV text without terminator, and
// the line ending that ends it.
func (c *chunk) addText(m rowMeta, text, eol string, size sfcsv.RowSize) error {
	c.rows = append(c.rows, m)
	c.bytes += int64(size.Bytes)
	c.chars += int64(size.Chars)
	c.w.WriteString(text)
	if _, err := c.w.WriteString(eol); err != nil {
		return fmt.Errorf("load: chunk file: %w", err)
	}
	return nil
}

func (c *chunk) seal() error {
	if c.f == nil {
		return nil
	}
	err := flushClose(c.w, c.f)
	c.f, c.w = nil, nil
	if err != nil {
		return fmt.Errorf("load: chunk file: %w", err)
	}
	return nil
}

func (c *chunk) remove() {
	if c.f != nil {
		c.f.Close()
		c.f = nil
	}
	if c.path != "" {
		os.Remove(c.path)
	}
	c.vals = nil
}

// forEach calls f for every row of the chunk that has no outcome yet, with its values.
func (c *chunk) forEach(r *run, f func(i int, vals []string)) {
	if c.nResolved == len(c.rows) {
		return
	}
	pending := func(i int) bool {
		if i < len(c.resolved) && c.resolved[i] {
			return false
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		return !r.done.has(c.rows[i].num)
	}
	if c.path == "" {
		for i := range c.rows {
			if pending(i) {
				var v []string
				if i < len(c.vals) {
					v = c.vals[i]
				}
				f(i, v)
			}
		}
		return
	}
	if c.w != nil {
		c.w.Flush()
	}
	i := 0
	if fh, err := os.Open(c.path); err == nil {
		rd := sfcsv.NewReader(fh, sfcsv.ReaderOptions{Delimiter: r.cfg.ColumnDelimiter})
		if _, err := rd.Header(); err == nil {
			for i < len(c.rows) {
				rec, err := rd.Read()
				if err != nil && rec == nil {
					break
				}
				if pending(i) {
					f(i, rec)
				}
				i++
			}
		}
		fh.Close()
	}
	for ; i < len(c.rows); i++ {
		if pending(i) {
			f(i, nil)
		}
	}
}

// flushClose flushes w, then closes f (the file under it), and returns the first error.
func flushClose(w interface{ Flush() error }, f *os.File) error {
	err := w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
