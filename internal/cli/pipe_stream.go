package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// The stream formats of sfbatch pipe, on standard input and standard output alike.
const (
	pipeArrow = "arrow"
	pipeCSV   = "csv"
	pipeJSONL = "jsonl"
)

// pipeBatchRows is how many result rows pipe gathers into one Arrow record batch (or one
// buffered write) before writing it; results are also written whenever the engine makes
// outcomes durable, so a batch never waits for a slow job.
const pipeBatchRows = 4096

// pipeResultColumns are the contracts' result columns, in order, before the key columns.
var pipeResultColumns = []string{"sf__Row", "sf__Outcome", "sf__Id", "sf__Created", "sf__ErrorCode", "sf__Error", "sf__Fields", "sf__Job", "sf__Batch"}

// keyCell is one key column's cell of an input row: Arrow's text form of the value (what
// AppendValueFromString reads back), a CSV cell, or a raw JSON value. !valid is a null.
type keyCell struct {
	text  string
	valid bool
}

// pipeResult is one output row.
type pipeResult struct {
	row                               int64
	outcome                           string // succeeded | failed | not processed | unknown
	id                                string
	created                           *bool
	code, message, fields, job, batch string
	keys                              []keyCell
	stored                            bool // read back from the journal directory
}

// pipeInput is a load.Source over standard input that can also give the key cells of the row
// it returned last.
type pipeInput interface {
	load.Source
	// keys returns the cells of columns idx of the row Next returned last.
	keys(idx []int) []keyCell
	// keyTypes returns the Arrow types of columns idx (used for the Arrow output schema).
	keyTypes(idx []int) []arrow.DataType
	release()
}

// arrowInput reads an Arrow IPC stream.
type arrowInput struct{ *load.ArrowSource }

func (a arrowInput) keys(idx []int) []keyCell {
	out := make([]keyCell, len(idx))
	for i, c := range idx {
		out[i].text, out[i].valid = a.ValueStr(c)
	}
	return out
}

func (a arrowInput) keyTypes(idx []int) []arrow.DataType {
	out := make([]arrow.DataType, len(idx))
	for i, c := range idx {
		out[i] = a.Schema().Field(c).Type
	}
	return out
}

func (a arrowInput) release() { a.Release() }

// csvInput reads Salesforce's CSV dialect; every column is a string.
type csvInput struct {
	load.Source
	last []string
}

func (c *csvInput) Next() (load.Row, error) {
	r, err := c.Source.Next()
	c.last = r.Values
	return r, err
}

func (c *csvInput) keys(idx []int) []keyCell {
	out := make([]keyCell, len(idx))
	for i, k := range idx {
		if k < len(c.last) {
			out[i] = keyCell{text: c.last[k], valid: true}
		}
	}
	return out
}

func (c *csvInput) keyTypes(idx []int) []arrow.DataType {
	out := make([]arrow.DataType, len(idx))
	for i := range out {
		out[i] = arrow.BinaryTypes.String
	}
	return out
}

func (c *csvInput) release() {}

// jsonlInput reads JSON Lines: one flat object per line. The first object's keys are the
// columns, in their order; a later object may leave keys out (null) but not add any. Strings
// are sent as they are, numbers verbatim, booleans as true/false, null as the null text;
// arrays and objects are refused naming the column. Lines are read one at a time, at most
// load.DefaultMaxJSONLLine bytes each.
type jsonlInput struct {
	r        *bufio.Reader
	name     string
	nullText string
	header   []string
	index    map[string]int
	pending  []json.RawMessage // the first line's values, read to learn the header
	raw      []json.RawMessage // the last row's raw values
	n        int64
	line     int
	err      error
}

func newJSONLInput(r *bufio.Reader, name, nullText string) (*jsonlInput, error) {
	in := &jsonlInput{r: r, name: name, nullText: nullText, index: map[string]int{}}
	keys, vals, err := in.readObject()
	if err == io.EOF {
		return in, nil // an empty stream: no columns, no rows
	}
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if _, dup := in.index[k]; dup {
			return nil, &load.InputError{File: name, Row: 1, Line: in.line, Column: k, Err: errors.New("duplicate key")}
		}
		in.index[k] = len(in.header)
		in.header = append(in.header, k)
	}
	in.pending = vals
	return in, nil
}

// readObject reads the next non-blank line as one JSON object, keys in order.
func (in *jsonlInput) readObject() ([]string, []json.RawMessage, error) {
	for {
		line, err := in.readLine()
		if err != nil {
			return nil, nil, err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		row := in.n + 1
		bad := func(col string, e error) error {
			return &load.InputError{File: in.name, Row: row, Line: in.line, Column: col, Err: e}
		}
		if !utf8.Valid(line) {
			return nil, nil, bad("", errors.New("line is not valid UTF-8"))
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			return nil, nil, bad("", errors.New("line is not a JSON object"))
		}
		var keys []string
		var vals []json.RawMessage
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return nil, nil, bad("", fmt.Errorf("malformed JSON: %w", err))
			}
			k, _ := t.(string)
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return nil, nil, bad(k, fmt.Errorf("malformed JSON: %w", err))
			}
			keys = append(keys, k)
			vals = append(vals, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, nil, bad("", fmt.Errorf("malformed JSON: %w", err))
		}
		if dec.More() {
			return nil, nil, bad("", errors.New("more than one JSON value on the line"))
		}
		return keys, vals, nil
	}
}

// readLine reads one line of at most load.DefaultMaxJSONLLine bytes.
func (in *jsonlInput) readLine() ([]byte, error) {
	var buf []byte
	for {
		chunk, err := in.r.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > load.DefaultMaxJSONLLine {
			return nil, &load.InputError{File: in.name, Row: in.n + 1, Line: in.line + 1, Err: fmt.Errorf("line longer than %d bytes", load.DefaultMaxJSONLLine)}
		}
		switch {
		case err == nil:
			in.line++
			return buf, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(buf) > 0:
			in.line++
			return buf, nil
		default:
			return nil, err
		}
	}
}

func (in *jsonlInput) Header() []string { return in.header }

func (in *jsonlInput) Next() (load.Row, error) {
	if in.err != nil {
		return load.Row{}, in.err
	}
	var keys []string
	vals := in.pending
	if vals != nil {
		keys = in.header
		in.pending = nil
	} else {
		var err error
		if keys, vals, err = in.readObject(); err != nil {
			in.err = err
			return load.Row{}, err
		}
	}
	in.n++
	row := load.Row{Number: in.n, Values: make([]string, len(in.header))}
	in.raw = make([]json.RawMessage, len(in.header))
	for i := range row.Values {
		row.Values[i] = in.nullText
	}
	for i, k := range keys {
		c, ok := in.index[k]
		if !ok {
			in.err = &load.InputError{File: in.name, Row: in.n, Line: in.line, Column: k, Err: errors.New("key is not among the first line's keys")}
			return load.Row{}, in.err
		}
		v := vals[i]
		in.raw[c] = v
		switch v[0] {
		case '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				in.err = &load.InputError{File: in.name, Row: in.n, Line: in.line, Column: k, Err: err}
				return load.Row{}, in.err
			}
			row.Values[c] = s
		case 'n':
			in.raw[c] = nil
		case '{', '[':
			in.err = &load.InputError{File: in.name, Row: in.n, Line: in.line, Column: k, Err: errors.New("nested value (object or array) is not supported: flatten it")}
			return load.Row{}, in.err
		default: // number, true, false
			row.Values[c] = string(v)
		}
	}
	return row, nil
}

func (in *jsonlInput) keys(idx []int) []keyCell {
	out := make([]keyCell, len(idx))
	for i, c := range idx {
		if c < len(in.raw) && in.raw[c] != nil {
			out[i] = keyCell{text: string(in.raw[c]), valid: true}
		}
	}
	return out
}

func (in *jsonlInput) keyTypes(idx []int) []arrow.DataType { return nil }

func (in *jsonlInput) release() {}

// pipeOutput writes result rows in the stream format.
type pipeOutput interface {
	write(r *pipeResult) error
	// flush writes every buffered row to the underlying writer.
	flush() error
	// close flushes and ends the stream (an Arrow stream gets its end-of-stream marker).
	close() error
}

// arrowOutput writes an Arrow IPC stream of record batches.
type arrowOutput struct {
	bw   *bufio.Writer
	w    *ipc.Writer
	b    *array.RecordBuilder
	rows int
}

// pipeResultSchema is the result schema: the result columns, then the key columns with their
// input types.
func pipeResultSchema(keys []string, types []arrow.DataType) *arrow.Schema {
	str := arrow.BinaryTypes.String
	fields := []arrow.Field{
		{Name: "sf__Row", Type: arrow.PrimitiveTypes.Int64},
		{Name: "sf__Outcome", Type: str},
		{Name: "sf__Id", Type: str, Nullable: true},
		{Name: "sf__Created", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	}
	for _, n := range pipeResultColumns[4:] {
		fields = append(fields, arrow.Field{Name: n, Type: str, Nullable: true})
	}
	for i, k := range keys {
		fields = append(fields, arrow.Field{Name: k, Type: types[i], Nullable: true})
	}
	return arrow.NewSchema(fields, nil)
}

func newArrowOutput(w io.Writer, schema *arrow.Schema) *arrowOutput {
	bw := bufio.NewWriterSize(w, 64<<10)
	return &arrowOutput{bw: bw, w: ipc.NewWriter(bw, ipc.WithSchema(schema)), b: array.NewRecordBuilder(memory.DefaultAllocator, schema)}
}

func appendOptString(b array.Builder, s string) {
	if s == "" {
		b.AppendNull()
		return
	}
	b.(*array.StringBuilder).Append(s)
}

func (o *arrowOutput) write(r *pipeResult) error {
	o.b.Field(0).(*array.Int64Builder).Append(r.row)
	o.b.Field(1).(*array.StringBuilder).Append(r.outcome)
	appendOptString(o.b.Field(2), r.id)
	if r.created == nil {
		o.b.Field(3).AppendNull()
	} else {
		o.b.Field(3).(*array.BooleanBuilder).Append(*r.created)
	}
	for i, s := range []string{r.code, r.message, r.fields, r.job, r.batch} {
		appendOptString(o.b.Field(4+i), s)
	}
	for i := len(pipeResultColumns); i < o.b.Schema().NumFields(); i++ {
		fb := o.b.Field(i)
		var k keyCell
		if j := i - len(pipeResultColumns); j < len(r.keys) {
			k = r.keys[j]
		}
		if !k.valid {
			fb.AppendNull()
			continue
		}
		if err := fb.AppendValueFromString(k.text); err != nil {
			return fmt.Errorf("key column %s of row %d: %w", o.b.Schema().Field(i).Name, r.row, err)
		}
	}
	o.rows++
	if o.rows >= pipeBatchRows {
		return o.writeBatch()
	}
	return nil
}

func (o *arrowOutput) writeBatch() error {
	if o.rows == 0 {
		return nil
	}
	rec := o.b.NewRecordBatch()
	defer rec.Release()
	o.rows = 0
	return o.w.Write(rec)
}

func (o *arrowOutput) flush() error {
	if err := o.writeBatch(); err != nil {
		return err
	}
	return o.bw.Flush()
}

func (o *arrowOutput) close() error {
	defer o.b.Release()
	if err := o.writeBatch(); err != nil {
		return err
	}
	if err := o.w.Close(); err != nil {
		return err
	}
	return o.bw.Flush()
}

// csvOutput writes Salesforce's CSV dialect with a header row.
type csvOutput struct {
	w      *sfcsv.Writer
	keys   []string
	header []string
	rec    []string
	rows   int
}

func newCSVOutput(w io.Writer, keys []string) *csvOutput {
	return &csvOutput{w: sfcsv.NewWriter(w, sfcsv.WriterOptions{}), keys: keys, header: append(append([]string(nil), pipeResultColumns...), keys...)}
}

func (o *csvOutput) start() error {
	if o.header == nil {
		return nil
	}
	_, err := o.w.Write(o.header)
	o.header = nil
	return err
}

func (o *csvOutput) write(r *pipeResult) error {
	if err := o.start(); err != nil {
		return err
	}
	created := ""
	if r.created != nil {
		created = strconv.FormatBool(*r.created)
	}
	o.rec = append(o.rec[:0], strconv.FormatInt(r.row, 10), r.outcome, r.id, created, r.code, r.message, r.fields, r.job, r.batch)
	for i := range o.keys {
		if i < len(r.keys) {
			o.rec = append(o.rec, r.keys[i].text)
		} else {
			o.rec = append(o.rec, "")
		}
	}
	if _, err := o.w.Write(o.rec); err != nil {
		return err
	}
	o.rows++
	if o.rows >= pipeBatchRows {
		o.rows = 0
		return o.w.Flush()
	}
	return nil
}

func (o *csvOutput) flush() error {
	if err := o.start(); err != nil {
		return err
	}
	return o.w.Flush()
}

func (o *csvOutput) close() error { return o.flush() }

// jsonlOutput writes one JSON object per result row; key columns carry their input JSON.
type jsonlOutput struct {
	w    *bufio.Writer
	keys []string
	buf  []byte
}

func newJSONLOutput(w io.Writer, keys []string) *jsonlOutput {
	return &jsonlOutput{w: bufio.NewWriterSize(w, 64<<10), keys: keys}
}

func (o *jsonlOutput) write(r *pipeResult) error {
	b := append(o.buf[:0], `{"sf__Row":`...)
	b = strconv.AppendInt(b, r.row, 10)
	b = append(b, `,"sf__Outcome":`...)
	b = strconv.AppendQuote(b, r.outcome)
	str := func(name, v string) {
		b = append(b, ',')
		b = strconv.AppendQuote(b, name)
		b = append(b, ':')
		if v == "" {
			b = append(b, "null"...)
			return
		}
		q, _ := json.Marshal(v)
		b = append(b, q...)
	}
	str("sf__Id", r.id)
	b = append(b, `,"sf__Created":`...)
	if r.created == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendBool(b, *r.created)
	}
	str("sf__ErrorCode", r.code)
	str("sf__Error", r.message)
	str("sf__Fields", r.fields)
	str("sf__Job", r.job)
	str("sf__Batch", r.batch)
	for i, name := range o.keys {
		q, _ := json.Marshal(name)
		b = append(b, ',')
		b = append(b, q...)
		b = append(b, ':')
		if i < len(r.keys) && r.keys[i].valid {
			k := r.keys[i]
			b = append(b, k.text...)
		} else {
			b = append(b, "null"...)
		}
	}
	b = append(b, "}\n"...)
	o.buf = b
	_, err := o.w.Write(b)
	return err
}

func (o *jsonlOutput) flush() error { return o.w.Flush() }

func (o *jsonlOutput) close() error { return o.w.Flush() }
