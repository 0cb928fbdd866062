package load

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sfbatch/sfbatch/sfcsv"
)

// heldMaxBytes bounds the formatted results CSVFiles holds in memory while it waits for an
// earlier row: beyond it they are spilled to a sorted run file in PartsDir.
const heldMaxBytes = 8 << 20

// maxHeldRuns is how many spilled runs CSVFiles reads from at once; more are first merged
// into one.
const maxHeldRuns = 64

// heldReadBuffer is the read buffer of each spilled run.
const heldReadBuffer = 32 << 10

// resultWriteBuffer is the write buffer of each row-ordered result file: a 1M-row load
// writes its files in a few hundred system calls.
const resultWriteBuffer = 256 << 10

// orderedMarker is the file in PartsDir that says how much of results.csv is durable (see
// orderedFiles.commit). Its presence marks a results directory written in input order.
const orderedMarker = "ordered"

// heldRunPrefix and heldRunSuffix name the spilled runs of an ordered results directory.
const (
	heldRunPrefix = "held-"
	heldRunSuffix = ".bin"
)

// Indexes of the five output files of orderedFiles.
const (
	outResults = iota
	outSuccess
	outFailure
	outUnprocessed
	outUnknown
	numOutputs
)

var outputNames = [numOutputs]string{ResultsFile, SuccessFile, FailureFile, UnprocessedFile, UnknownFile}

// orderedFiles writes the five result files of a fresh load in input row order as results
// arrive: a result whose row is the next one to write goes straight to the files (no
// allocation), a later one waits, formatted, in a heap bounded by heldMaxBytes and then in
// sorted run files, until the rows before it have arrived. Nothing is merged at the end
// beyond what is still waiting then (rows that are out of order: retried rows, gaps).
//
// Durability (commit, called by Sync): waiting rows are spilled to a run file (fsync'd),
// results.csv is flushed and fsync'd, and the marker records its durable length. A resumed
// load (ResumeCSVSinks) turns results.csv up to that length and the run files back into
// part files and merges (see convertOrdered). Not safe for concurrent use (CSVFiles locks).
type orderedFiles struct {
	dir, parts string
	opts       sfcsv.WriterOptions
	delim      byte
	eol        string
	width      int // input columns

	out   [numOutputs]*os.File
	w     [numOutputs]*bufio.Writer
	dirty [numOutputs]bool // written since the last commit
	size  int64            // bytes written to results.csv (buffered or not)

	next      int64 // the next row number to write
	held      heldHeap
	heldBytes int
	arena     []byte // held rows' bytes are carved from it, rather than allocated one by one
	// arenaBytes counts the arena blocks allocated since nothing was last held: a block stays
	// alive while one of its rows is held, so spilling when it exceeds twice heldMax keeps
	// the held rows' memory bounded however they are drained.
	arenaBytes int
	heldMax    int // heldMaxBytes; tests lower it
	runs       []*heldRun
	consumed   []string // run files written out, removed at the next commit
	nextRun    int

	vals []string  // scratch: the row's values padded to width
	vb   []byte    // scratch: the encoded values
	line []byte    // scratch: the encoded lines
	err  error     // an encoding error of the line being formatted
	one  [1]string // scratch: one field to encode

	plain     [4]string // fixed fields found plain lately (see isPlain)
	nextPlain int
	rowID     string // the id of the row being formatted: checked once, not remembered
	idChecked int8   // 0: rowID not checked yet, 1: it needs quotes, 2: it does not
	rowNum    []byte // the row number being formatted, in decimal
}

// heldRow is one formatted result waiting for earlier rows: its results.csv line, then its
// line for the outcome's file (out, -1 for none), split at split.
type heldRow struct {
	row   int64
	out   int8
	split int32
	b     []byte
}

// heldHeap is a min-heap of held rows by row number.
type heldHeap []heldRow

func (h *heldHeap) push(x heldRow) {
	*h = append(*h, x)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p].row <= s[i].row {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *heldHeap) pop() heldRow {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s[n] = heldRow{}
	s = s[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && s[l].row < s[m].row {
			m = l
		}
		if r := l + 1; r < n && s[r].row < s[m].row {
			m = r
		}
		if m == i {
			break
		}
		s[m], s[i] = s[i], s[m]
		i = m
	}
	*h = s
	return top
}

// heldRun is a spilled run being read: frames of (row, out, split, bytes) in row order.
type heldRun struct {
	path string
	f    *os.File
	br   *bufio.Reader
	head heldRow // valid when ok
	ok   bool
}

func (r *heldRun) advance() error {
	row, err := binary.ReadUvarint(r.br)
	if errors.Is(err, io.EOF) {
		r.ok = false
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", r.path, err)
	}
	out, err := r.br.ReadByte()
	if err != nil {
		return fmt.Errorf("read %s: %w", r.path, noEOF(err))
	}
	split, err := binary.ReadUvarint(r.br)
	if err != nil {
		return fmt.Errorf("read %s: %w", r.path, noEOF(err))
	}
	n, err := binary.ReadUvarint(r.br)
	if err != nil {
		return fmt.Errorf("read %s: %w", r.path, noEOF(err))
	}
	if n > sfcsv.DefaultMaxRecordBytes*4 || split > n {
		return fmt.Errorf("read %s: corrupt frame", r.path)
	}
	b := r.head.b
	if cap(b) < int(n) {
		b = make([]byte, n)
	}
	b = b[:n]
	if _, err := io.ReadFull(r.br, b); err != nil {
		return fmt.Errorf("read %s: %w", r.path, noEOF(err))
	}
	r.head = heldRow{row: int64(row), out: int8(out), split: int32(split), b: b}
	r.ok = true
	return nil
}

func (r *heldRun) close() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func appendFrame(dst []byte, h heldRow) []byte {
	dst = binary.AppendUvarint(dst, uint64(h.row))
	dst = append(dst, byte(h.out))
	dst = binary.AppendUvarint(dst, uint64(h.split))
	dst = binary.AppendUvarint(dst, uint64(len(h.b)))
	return append(dst, h.b...)
}

func newOrderedFiles(dir, parts string, d sfcsv.Delimiter, header []string) (*orderedFiles, error) {
	o := &orderedFiles{dir: dir, parts: parts, opts: sfcsv.WriterOptions{Delimiter: d}, delim: byte(d), eol: sfcsv.LF.Terminator(), width: len(header), next: 1, heldMax: heldMaxBytes}
	if d == 0 {
		o.delim = ','
	}
	if err := o.writeMarker(0); err != nil { // nothing of results.csv is durable yet
		return nil, err
	}
	hdrs := [numOutputs][]string{
		outResults:     append(slices.Clone(ResultColumns), header...),
		outSuccess:     append([]string{"sf__Row", "sf__Id", "sf__Created"}, header...),
		outFailure:     append([]string{"sf__Row", "sf__Id", "sf__Error"}, header...),
		outUnprocessed: header,
		outUnknown:     append([]string{"sf__Row", "sf__Job", "sf__Batch", "sf__Error"}, header...),
	}
	for i, name := range outputNames {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			o.closeFiles()
			return nil, err
		}
		o.out[i], o.w[i] = f, bufio.NewWriterSize(f, resultWriteBuffer)
		if len(hdrs[i]) > 0 {
			b, _, err := sfcsv.AppendRecord(nil, hdrs[i], o.opts)
			if err != nil {
				o.closeFiles()
				return nil, err
			}
			o.w[i].Write(b)
			if i == outResults {
				o.size += int64(len(b))
			}
		}
		o.dirty[i] = true
	}
	return o, nil
}

// format encodes r's results.csv line and its outcome file's line into o.line and returns
// the outcome file (-1 for none) and where the second line starts.
//
// The lines are assembled directly: numbers with strconv, every field that needs no quotes
// (the common case) copied as it is, the values from RowResult.raw when the result file join
// provided them. Only a field that needs quotes (or is not ASCII) goes through
// sfcsv.AppendRecord. The bytes are those sfcsv.AppendRecord writes for the whole record.
func (o *orderedFiles) format(r *RowResult) (out int, split int, err error) {
	o.err, o.rowID, o.idChecked = nil, r.ID, 0
	o.rowNum = strconv.AppendInt(o.rowNum[:0], r.Row, 10)
	vals := r.Values
	if len(vals) != o.width {
		o.vals = append(o.vals[:0], vals[:min(len(vals), o.width)]...)
		for len(o.vals) < o.width {
			o.vals = append(o.vals, "")
		}
		vals = o.vals
	}
	// The values are encoded once and appended to both lines. As one field of a longer
	// record a lone empty value is written as nothing (a record of that one field alone
	// would be written "").
	o.vb = o.vb[:0]
	if len(vals) > 0 {
		switch {
		case len(vals) == 1 && vals[0] == "":
			o.vb = append(o.vb, o.eol...)
		case r.rawDelim == o.delim && len(r.Values) == o.width:
			o.vb = append(append(o.vb, r.raw...), o.eol...)
		default:
			if o.vb, err = o.appendValues(o.vb, vals); err != nil {
				return 0, 0, err
			}
		}
	}
	errText, code, msg, fields := "", "", "", ""
	if e := r.Error; e != nil {
		errText, code, msg, fields = e.Error(), e.StatusCode, e.Message, strings.Join(e.Fields, ",")
	}
	created := ""
	if r.Outcome == Succeeded {
		created = strconv.FormatBool(r.Created)
	}
	b := o.line[:0]
	b = o.fields(b, r.Outcome.String(), r.ID, created, code, msg, fields, r.JobID, r.BatchID)
	b = o.appendVals(b)
	split = len(b)
	out = -1
	switch r.Outcome {
	case Succeeded:
		out = outSuccess
		b = o.appendVals(o.fields(b, r.ID, created))
	case Failed:
		out = outFailure
		b = o.appendVals(o.fields(b, r.ID, errText))
	case Unknown:
		out = outUnknown
		b = o.appendVals(o.fields(b, r.JobID, r.BatchID, errText))
	default:
		if len(vals) > 0 {
			out = outUnprocessed
			b = append(b, vals0(vals, o.vb, o.eol)...)
		}
	}
	o.line = b
	return out, split, o.err
}

// vals0 returns the encoded values as a record of their own: a lone empty value is "".
func vals0(vals []string, vb []byte, eol string) []byte {
	if len(vals) == 1 && vals[0] == "" {
		return []byte(`""` + eol)
	}
	return vb
}

// fields appends the row number and the fields fixed, each followed by the delimiter. An encoding error
// (a field that is not valid UTF-8) is kept in o.err.
func (o *orderedFiles) fields(b []byte, fixed ...string) []byte {
	b = append(b, o.rowNum...)
	b = append(b, o.delim)
	for _, f := range fixed {
		if len(f) == 0 {
			b = append(b, o.delim)
			continue
		}
		if o.isPlain(f) {
			b = append(b, f...)
		} else {
			var err error
			n := len(b)
			o.one[0] = f
			if b, _, err = sfcsv.AppendRecord(b, o.one[:], o.opts); err != nil && o.err == nil {
				o.err = err
			}
			b = b[:max(n, len(b)-len(o.eol))]
		}
		b = append(b, o.delim)
	}
	return b
}

// isPlain reports whether f needs no quotes (plainField), remembering the last few fixed
// fields found plain: outcomes, job ids and the like repeat from row to row.
func (o *orderedFiles) isPlain(f string) bool {
	if f == o.rowID {
		if o.idChecked == 0 {
			o.idChecked = 1
			if plainField(f, o.delim) {
				o.idChecked = 2
			}
		}
		return o.idChecked == 2
	}
	for _, k := range o.plain {
		if f == k {
			return true
		}
	}
	if !plainField(f, o.delim) {
		return false
	}
	if len(f) <= maxKnownPlain {
		o.plain[o.nextPlain] = f
		o.nextPlain = (o.nextPlain + 1) % len(o.plain)
	}
	return true
}

// maxKnownPlain is the longest fixed field orderedFiles remembers as needing no quotes.
const maxKnownPlain = 64

// appendVals ends a line begun by fields with the encoded values o.vb.
func (o *orderedFiles) appendVals(b []byte) []byte {
	if len(o.vb) == 0 {
		return append(b[:len(b)-1], o.eol...)
	}
	return append(b, o.vb...)
}

// appendValues appends vals as one record of more than one field, or of one that is not
// empty, as sfcsv.AppendRecord does.
func (o *orderedFiles) appendValues(dst []byte, vals []string) ([]byte, error) {
	var one [1]string
	for i, v := range vals {
		if i > 0 {
			dst = append(dst, o.delim)
		}
		if plainField(v, o.delim) {
			dst = append(dst, v...)
			continue
		}
		one[0] = v
		var err error
		if dst, _, err = sfcsv.AppendRecord(dst, one[:], o.opts); err != nil {
			return dst, err
		}
		dst = dst[:len(dst)-len(o.eol)]
	}
	return append(dst, o.eol...), nil
}

// plainField reports whether sfcsv writes f as it is, unquoted, with delimiter d: it holds no
// delimiter, quote, CR or LF, is valid UTF-8 and does not start with a byte order mark.
func plainField(f string, d byte) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	dq, lf, cr, dd := uint64('"')*lo, uint64('\n')*lo, uint64('\r')*lo, uint64(d)*lo
	i := 0
	for ; i+8 <= len(f); i += 8 {
		x := uint64(f[i]) | uint64(f[i+1])<<8 | uint64(f[i+2])<<16 | uint64(f[i+3])<<24 |
			uint64(f[i+4])<<32 | uint64(f[i+5])<<40 | uint64(f[i+6])<<48 | uint64(f[i+7])<<56
		if x&hi != 0 || hasZeroByte(x^dq)|hasZeroByte(x^lf)|hasZeroByte(x^cr)|hasZeroByte(x^dd) != 0 {
			break
		}
	}
	for ; i < len(f); i++ {
		switch c := f[i]; {
		case c >= utf8.RuneSelf:
			return strings.IndexByte(f, '"') < 0 && strings.IndexByte(f, '\n') < 0 && strings.IndexByte(f, '\r') < 0 &&
				strings.IndexByte(f, d) < 0 && utf8.ValidString(f) && !strings.HasPrefix(f, sfcsv.BOM)
		case c == '"' || c == '\n' || c == '\r' || c == d:
			return false
		}
	}
	return true
}

// hasZeroByte is not zero if a byte of x is zero (for x without high bits set).
func hasZeroByte(x uint64) uint64 {
	return (x - 0x0101010101010101) & ^x & 0x8080808080808080
}

// add writes r when its row is the next one, else holds it.
func (o *orderedFiles) add(r *RowResult) error {
	out, split, err := o.format(r)
	if err != nil {
		return err
	}
	if r.Row == o.next {
		o.emit(o.line, out, split)
		o.next++
		return o.drain()
	}
	if r.Row < o.next {
		return fmt.Errorf("row %d: a second result for a row already written", r.Row)
	}
	o.held.push(heldRow{row: r.Row, out: int8(out), split: int32(split), b: o.hold(o.line)})
	o.heldBytes += len(o.line) + 64
	if o.heldBytes > o.heldMax || o.arenaBytes > 2*o.heldMax {
		return o.spill()
	}
	return nil
}

func (o *orderedFiles) emit(b []byte, out, split int) {
	o.w[outResults].Write(b[:split])
	o.size += int64(split)
	o.dirty[outResults] = true
	if out >= 0 {
		o.w[out].Write(b[split:])
		o.dirty[out] = true
	}
}

// heldArenaBlock is the size of one block of the held rows' arena.
const heldArenaBlock = 256 << 10

// hold returns a copy of line that stays valid while it is held.
func (o *orderedFiles) hold(line []byte) []byte {
	if cap(o.arena)-len(o.arena) < len(line) {
		o.arena = make([]byte, 0, max(heldArenaBlock, len(line)))
		o.arenaBytes += cap(o.arena)
	}
	n := len(o.arena)
	o.arena = append(o.arena, line...)
	return o.arena[n:len(o.arena):len(o.arena)]
}

// drain writes the held rows that have become next.
func (o *orderedFiles) drain() error {
	for {
		if len(o.held) > 0 && o.held[0].row <= o.next {
			h := o.held.pop()
			o.heldBytes -= len(h.b) + 64
			if h.row == o.next {
				o.emit(h.b, int(h.out), int(h.split))
				o.next++
			}
			continue
		}
		progressed := false
		for _, r := range o.runs {
			for r.ok && r.head.row <= o.next {
				if r.head.row == o.next {
					o.emit(r.head.b, int(r.head.out), int(r.head.split))
					o.next++
					progressed = true
				}
				if err := r.advance(); err != nil {
					return err
				}
			}
		}
		if !progressed {
			break
		}
	}
	if len(o.held) == 0 {
		o.arena, o.arenaBytes = nil, 0 // every block is garbage
	}
	o.dropConsumed()
	return nil
}

// dropConsumed closes the runs read to their end; their files go at the next commit.
func (o *orderedFiles) dropConsumed() {
	o.runs = slices.DeleteFunc(o.runs, func(r *heldRun) bool {
		if r.ok {
			return false
		}
		r.close()
		o.consumed = append(o.consumed, r.path)
		return true
	})
}

// spill writes the held rows to a new run file, durably, and starts reading it.
func (o *orderedFiles) spill() error {
	if len(o.held) == 0 {
		return nil
	}
	if len(o.runs) >= maxHeldRuns {
		if err := o.compactRuns(); err != nil {
			return err
		}
	}
	path := o.runPath()
	var buf []byte
	err := writeFileDurably(path, func(w *bufio.Writer) error {
		for len(o.held) > 0 {
			buf = appendFrame(buf[:0], o.held.pop())
			if _, err := w.Write(buf); err != nil {
				return err
			}
		}
		return nil
	})
	o.held, o.heldBytes = o.held[:0], 0
	o.arena, o.arenaBytes = nil, 0
	if err != nil {
		return err
	}
	return o.openRun(path)
}

func (o *orderedFiles) runPath() string {
	o.nextRun++
	return filepath.Join(o.parts, fmt.Sprintf("%s%08d%s", heldRunPrefix, o.nextRun, heldRunSuffix))
}

func (o *orderedFiles) openRun(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	r := &heldRun{path: path, f: f, br: bufio.NewReaderSize(f, heldReadBuffer)}
	if err := r.advance(); err != nil {
		r.close()
		return err
	}
	o.runs = append(o.runs, r)
	return nil
}

// compactRuns merges every run into one. results.csv is committed first, so that rows of
// the runs already written to it stay durable once their run files are gone.
func (o *orderedFiles) compactRuns() error {
	if err := o.commit(); err != nil {
		return err
	}
	path := o.runPath()
	old := o.runs
	var buf []byte
	err := writeFileDurably(path, func(w *bufio.Writer) error {
		for {
			r := minRun(old)
			if r == nil {
				return nil
			}
			buf = appendFrame(buf[:0], r.head)
			if _, err := w.Write(buf); err != nil {
				return err
			}
			if err := r.advance(); err != nil {
				return err
			}
		}
	})
	if err != nil {
		return err
	}
	for _, r := range old {
		r.close()
		os.Remove(r.path)
	}
	o.runs = nil
	return o.openRun(path)
}

func minRun(runs []*heldRun) *heldRun {
	var m *heldRun
	for _, r := range runs {
		if r.ok && (m == nil || r.head.row < m.head.row) {
			m = r
		}
	}
	return m
}

// commit makes every result received so far durable: held rows go to a run file, results.csv
// is flushed and fsync'd and the marker records its length; then run files already written
// to results.csv are removed.
func (o *orderedFiles) commit() error {
	for i, w := range o.w {
		if !o.dirty[i] {
			continue
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if o.dirty[outResults] {
		if err := o.out[outResults].Sync(); err != nil {
			return err
		}
		if err := o.writeMarker(o.size); err != nil {
			return err
		}
	}
	o.dirty = [numOutputs]bool{}
	for _, p := range o.consumed {
		os.Remove(p)
	}
	o.consumed = o.consumed[:0]
	return nil
}

func (o *orderedFiles) sync() error {
	if err := o.spill(); err != nil {
		return err
	}
	return o.commit()
}

// writeMarker records that results.csv holds size durable bytes, written with the sink's
// delimiter.
func (o *orderedFiles) writeMarker(size int64) error {
	return writeFileDurably(filepath.Join(o.parts, orderedMarker), func(w *bufio.Writer) error {
		_, err := fmt.Fprintf(w, "sfbatch-results 1 %d %s\n", size, o.opts.Delimiter.Name())
		return err
	})
}

// close writes every row still held, in row order, and closes the files. With keep the
// results stay resumable: results.csv is made durable and the marker says so.
func (o *orderedFiles) close(keep bool) error {
	err := o.drainAll()
	if err == nil && keep {
		err = o.commit()
	}
	for _, r := range o.runs {
		r.close()
	}
	if cerr := o.closeFiles(); err == nil {
		err = cerr
	}
	if err == nil && keep {
		for _, r := range o.runs {
			os.Remove(r.path)
		}
		for _, p := range o.consumed {
			os.Remove(p)
		}
	}
	o.runs = nil
	return err
}

// drainAll writes every held row in row order, whatever rows are missing before them.
func (o *orderedFiles) drainAll() error {
	for {
		if err := o.drain(); err != nil {
			return err
		}
		next := int64(-1)
		if len(o.held) > 0 {
			next = o.held[0].row
		}
		if r := minRun(o.runs); r != nil && (next < 0 || r.head.row < next) {
			next = r.head.row
		}
		if next < 0 {
			return nil
		}
		o.next = next // rows before it never arrived
	}
}

func (o *orderedFiles) closeFiles() error {
	var err error
	for i, f := range o.out {
		if f == nil {
			continue
		}
		if werr := o.w[i].Flush(); err == nil {
			err = werr
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		o.out[i] = nil
	}
	return err
}

// writeFileDurably writes a file under a temporary name through a buffered writer, syncs it,
// renames it into place and syncs the directory.
func writeFileDurably(path string, fill func(*bufio.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// convertOrdered turns what an interrupted ordered load left in dir (see orderedFiles) into
// part files for a resumed load: the durable part of results.csv becomes part 0, each run
// file a part after it. It reports whether dir held an ordered load at all.
func convertOrdered(dir, parts string) (bool, error) {
	b, err := os.ReadFile(filepath.Join(parts, orderedMarker))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var size int64
	var dname string
	if _, err := fmt.Sscanf(string(b), "sfbatch-results 1 %d %s", &size, &dname); err != nil {
		return false, fmt.Errorf("%s: %w", orderedMarker, err)
	}
	d, err := sfcsv.ParseDelimiter(dname)
	if err != nil {
		return false, fmt.Errorf("%s: %w", orderedMarker, err)
	}
	n := 0
	if size > 0 {
		f, err := os.Open(filepath.Join(dir, ResultsFile))
		if err != nil {
			return false, err
		}
		defer f.Close()
		rd := sfcsv.NewReader(io.LimitReader(f, size), sfcsv.ReaderOptions{Delimiter: d, ReuseRecord: true})
		if err := convertResults(rd, partPath(parts, n), true); err != nil {
			return false, fmt.Errorf("%s: %w", ResultsFile, err)
		}
		n++
	}
	ents, err := os.ReadDir(parts)
	if err != nil {
		return false, err
	}
	var runs []string
	for _, e := range ents {
		if name := e.Name(); strings.HasPrefix(name, heldRunPrefix) && strings.HasSuffix(name, heldRunSuffix) {
			runs = append(runs, filepath.Join(parts, name))
		}
	}
	slices.Sort(runs)
	for _, p := range runs {
		if err := convertRun(p, d, partPath(parts, n)); err != nil {
			return false, err
		}
		n++
	}
	if err := os.Remove(filepath.Join(parts, orderedMarker)); err != nil {
		return false, err
	}
	for _, p := range runs {
		os.Remove(p)
	}
	return true, syncDir(parts)
}

func partPath(parts string, n int) string {
	return filepath.Join(parts, fmt.Sprintf("part-%08d.csv", n))
}

// convertRun turns a run file into a part file.
func convertRun(path string, d sfcsv.Delimiter, part string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := &heldRun{path: path, br: bufio.NewReaderSize(f, heldReadBuffer)}
	pr, pw := io.Pipe()
	go func() {
		var err error
		for {
			if err = r.advance(); err != nil || !r.ok {
				break
			}
			if _, err = pw.Write(r.head.b[:r.head.split]); err != nil {
				break
			}
		}
		pw.CloseWithError(err)
	}()
	defer pr.Close()
	rd := sfcsv.NewReader(pr, sfcsv.ReaderOptions{Delimiter: d, ReuseRecord: true})
	if err := convertResults(rd, part, false); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// convertResults writes the records of a results.csv (with its header when header is set)
// to a part file.
func convertResults(rd *sfcsv.Reader, part string, header bool) error {
	skip := header
	return writeDurably(part, func(w *sfcsv.Writer) error {
		var out []string
		for {
			rec, err := rd.Read()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if skip {
				skip = false
				continue
			}
			if len(rec) < len(ResultColumns) {
				return fmt.Errorf("a record of %d fields", len(rec))
			}
			out = partRecord(out[:0], rec)
			if _, err := w.Write(out); err != nil {
				return err
			}
		}
	})
}

// partRecord turns a results.csv record into a part file record: row, outcome number, id,
// created, error text, code, message, fields, job, batch, values.
func partRecord(dst, rec []string) []string {
	oc := Outcome(0)
	for o := Succeeded; o <= Unknown; o++ {
		if rec[1] == o.String() {
			oc = o
		}
	}
	errText := ""
	if code, msg, fields := rec[4], rec[5], rec[6]; code != "" || msg != "" || fields != "" {
		errText = (&RowError{StatusCode: code, Message: msg, Fields: []string{fields}}).Error()
	}
	created := "false"
	if rec[3] == "true" {
		created = "true"
	}
	dst = append(dst, rec[0], strconv.Itoa(int(oc)), rec[2], created, errText, rec[4], rec[5], rec[6], rec[7], rec[8])
	return append(dst, rec[len(ResultColumns):]...)
}
