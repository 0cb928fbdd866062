package extract

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"

	"github.com/sfbatch/sfbatch/sfcsv"
)

// rowWriter turns result rows into an output format. Values are the Bulk
// CSV text of each column ("" = null). Not safe for concurrent use.
type rowWriter interface {
	// header is called once, before the first row, with the column names
	// and their kinds.
	header(columns []string, kinds []Kind) error
	// row writes one row; row is its 1-based number in the output (for
	// errors).
	row(values []string, row int64) error
	// close flushes buffered output (it does not close the destination).
	close() error
}

// csvWriter writes CSV in the sfcsv dialect.
type csvWriter struct {
	w          *sfcsv.Writer
	skipHeader bool
	// bw is w's own buffer (w writes into it), so that rows already encoded can be
	// written between w's rows, in order; see raw.
	bw *bufio.Writer
	// eol is the line ending rows end with; rawOK reports whether raw may be used.
	eol   string
	rawOK bool
}

func newCSVWriter(out io.Writer, o sfcsv.WriterOptions, skipHeader bool) *csvWriter {
	// sfcsv.NewWriter keeps a *bufio.Writer at least as large as it asks for as its buffer.
	bw := bufio.NewWriterSize(out, max(o.BufferSize, 64<<10))
	return &csvWriter{w: sfcsv.NewWriter(bw, o), skipHeader: skipHeader, bw: bw, eol: o.LineEnding.Terminator(),
		rawOK: (o.Delimiter == 0 || o.Delimiter == sfcsv.Comma) && !o.BOM && !o.QuoteAll && o.LineEnding.Valid()}
}

// raw writes one row that is already encoded as w would encode it (with the line ending):
// see plainRow.
func (c *csvWriter) raw(row []byte) error {
	_, err := c.bw.Write(row)
	return err
}

func (c *csvWriter) header(columns []string, _ []Kind) error {
	if c.skipHeader {
		return nil
	}
	_, err := c.w.Write(columns)
	return err
}

func (c *csvWriter) row(values []string, _ int64) error {
	_, err := c.w.Write(values)
	return err
}

func (c *csvWriter) close() error { return c.w.Flush() }

// ValueError is a result value that does not fit its column's type (from
// describe) in JSON Lines or Parquet output.
type ValueError struct {
	Row    int64  // 1-based row number in the output
	Column string // column name
	Kind   Kind
	Value  string
}

// Error names the row, column, type and value.
func (e *ValueError) Error() string {
	return fmt.Sprintf("extract: row %d, column %s: %q is not a valid %s", e.Row, e.Column, e.Value, e.Kind)
}

// jsonlWriter writes one JSON object per row, keys in column order, with
// real JSON types: numbers, booleans, null for empty cells (Salesforce stores
// no empty strings, so an empty cell is a null), strings otherwise. Dates
// and datetimes are strings in Salesforce's ISO formats.
type jsonlWriter struct {
	bw    *bufio.Writer
	keys  [][]byte // pre-encoded `"name":` per column, with leading comma/brace
	kinds []Kind
	cols  []string
	buf   []byte
}

func newJSONLWriter(out io.Writer) *jsonlWriter {
	return &jsonlWriter{bw: bufio.NewWriterSize(out, 64<<10)}
}

func (j *jsonlWriter) header(columns []string, kinds []Kind) error {
	j.cols = columns
	j.kinds = kinds
	j.keys = make([][]byte, len(columns))
	for i, c := range columns {
		var k []byte
		if i == 0 {
			k = append(k, '{')
		} else {
			k = append(k, ',')
		}
		k = appendJSONString(k, c)
		k = append(k, ':')
		j.keys[i] = k
	}
	return nil
}

func (j *jsonlWriter) row(values []string, row int64) error {
	b := j.buf[:0]
	if len(values) == 0 {
		b = append(b, '{')
	}
	for i, v := range values {
		b = append(b, j.keys[i]...)
		if v == "" {
			b = append(b, "null"...)
			continue
		}
		switch j.kinds[i] {
		case KindBool:
			switch {
			case strings.EqualFold(v, "true"):
				b = append(b, "true"...)
			case strings.EqualFold(v, "false"):
				b = append(b, "false"...)
			default:
				return &ValueError{Row: row, Column: j.cols[i], Kind: KindBool, Value: v}
			}
		case KindInt, KindFloat:
			nb, ok := appendJSONNumber(b, v)
			if !ok {
				return &ValueError{Row: row, Column: j.cols[i], Kind: j.kinds[i], Value: v}
			}
			b = nb
		default:
			b = appendJSONString(b, v)
		}
	}
	b = append(b, '}', '\n')
	j.buf = b
	_, err := j.bw.Write(b)
	return err
}

func (j *jsonlWriter) close() error { return j.bw.Flush() }

// appendJSONNumber appends s as a JSON number: as written when it already is
// one, otherwise in Go's shortest form. ok is false if s is not a finite number.
func appendJSONNumber(b []byte, s string) ([]byte, bool) {
	if isJSONNumber(s) {
		return append(b, s...), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64), true
}

// isJSONNumber reports whether s matches the JSON number grammar.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// ParquetRowGroupRows is the number of rows buffered per Parquet row group;
// it bounds the Parquet writer's memory.
const ParquetRowGroupRows = 64 << 10

// parquetWriter writes a Parquet file with one optional column per result
// column: BOOLEAN, INT64, DOUBLE, DATE, TIMESTAMP(millis, UTC) or STRING.
type parquetWriter struct {
	out     io.Writer
	w       *parquet.Writer
	cols    []string
	kinds   []Kind
	index   []int // result column -> parquet column index
	rows    []parquet.Row
	pending int
}

func newParquetWriter(out io.Writer) *parquetWriter { return &parquetWriter{out: out} }

func (p *parquetWriter) header(columns []string, kinds []Kind) error {
	group := parquet.Group{}
	for i, c := range columns {
		if _, dup := group[c]; dup {
			return fmt.Errorf("extract: parquet: duplicate column %q", c)
		}
		var n parquet.Node
		switch kinds[i] {
		case KindBool:
			n = parquet.Leaf(parquet.BooleanType)
		case KindInt:
			n = parquet.Int(64)
		case KindFloat:
			n = parquet.Leaf(parquet.DoubleType)
		case KindDate:
			n = parquet.Date()
		case KindDateTime:
			n = parquet.Timestamp(parquet.Millisecond)
		default:
			n = parquet.String()
		}
		group[c] = parquet.Optional(n)
	}
	schema := parquet.NewSchema("record", group)
	pos := map[string]int{}
	for i, path := range schema.Columns() {
		pos[strings.Join(path, ".")] = i
	}
	p.index = make([]int, len(columns))
	for i, c := range columns {
		idx, ok := pos[c]
		if !ok {
			return fmt.Errorf("extract: parquet: column %q missing from schema", c)
		}
		p.index[i] = idx
	}
	p.cols, p.kinds = columns, kinds
	p.w = parquet.NewWriter(p.out, schema, parquet.Compression(&parquet.Snappy))
	p.rows = make([]parquet.Row, 1)
	return nil
}

func (p *parquetWriter) row(values []string, row int64) error {
	r := p.rows[0][:0]
	if cap(r) < len(values) {
		r = make(parquet.Row, 0, len(values))
	}
	r = r[:len(values)]
	for i, v := range values {
		col := p.index[i]
		if v == "" {
			r[col] = parquet.NullValue().Level(0, 0, col)
			continue
		}
		c, ok := parseCell(p.kinds[i], v)
		if !ok {
			return &ValueError{Row: row, Column: p.cols[i], Kind: p.kinds[i], Value: v}
		}
		var pv parquet.Value
		switch p.kinds[i] {
		case KindBool:
			pv = parquet.BooleanValue(c.b)
		case KindInt:
			pv = parquet.Int64Value(c.i)
		case KindFloat:
			pv = parquet.DoubleValue(c.f)
		case KindDate:
			pv = parquet.Int32Value(c.days)
		case KindDateTime:
			pv = parquet.Int64Value(c.i)
		default:
			pv = parquet.ByteArrayValue([]byte(c.s))
		}

		r[col] = pv.Level(0, 1, col)
	}
	p.rows[0] = r
	if _, err := p.w.WriteRows(p.rows); err != nil {
		return fmt.Errorf("extract: parquet: %w", err)
	}
	p.pending++
	if p.pending >= ParquetRowGroupRows {
		p.pending = 0
		if err := p.w.Flush(); err != nil {
			return fmt.Errorf("extract: parquet: %w", err)
		}
	}
	return nil
}

func (p *parquetWriter) close() error {
	if p.w == nil {
		return nil
	}
	if err := p.w.Close(); err != nil {
		return fmt.Errorf("extract: parquet: %w", err)
	}
	return nil
}

// parseDateTime parses Salesforce datetimes: Bulk's ...000Z and REST's
// ...000+0000 forms.
func parseDateTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05.000Z0700", time.RFC3339Nano, "2006-01-02T15:04:05Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid datetime %q", s)
}
