package load

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/sfbatch/sfbatch/sfcsv"
)

// Row is one input record.
type Row struct {
	// Number is the row's stable 1-based position among the input's data records (the
	// header is not counted): the first data row is 1. Every outcome carries it.
	Number int64
	// Values are the row's cells in header order, as Salesforce CSV text.
	Values []string
	// Line is the physical line of the input where the row starts (the header is line 1),
	// when the source knows it, else 0. It locates the row in error messages.
	Line int

	// text is the record as CSVSource read it, which the engine sends instead of encoding
	// Values again while they are the values read (see recordText.intact).
	text recordText
}

// Equal reports whether r and o are the same row: number, values and line. (How a source
// read the row does not count; go-cmp compares rows with it.)
func (r Row) Equal(o Row) bool {
	return r.Number == o.Number && r.Line == o.Line && slices.Equal(r.Values, o.Values) && (r.Values == nil) == (o.Values == nil)
}

// recordText is the text of a CSV record as read, and what it takes to tell whether a row's
// values are still the ones parsed from it. The reader puts a record's fields in the string
// that holds its text (see sfcsv.Reader.RawRecord): as substrings of the text itself,
// between the delimiters, or when the record has quotes right after it, unescaped, each
// followed by a delimiter. Either way one byte separates two values.
type recordText struct {
	s      string // the record without its terminator; "" when there is none
	chars  int    // characters of s
	vbytes int    // bytes of the values as read
	fields int    // number of values as read
	delim  byte   // the delimiter of s
	quoted bool   // the values follow s in its string, rather than being substrings of it
}

// csvRecordText returns the text of the record rd has just read (with values vals), for
// sending it unchanged, or none when that text cannot be sent as is: it holds a CR (a
// lone CR unquoted, or at the end where a terminator would join it), a NUL byte (the
// row is refused) or a byte order mark (a writer quotes a field starting with one).
func csvRecordText(rd *sfcsv.Reader, vals []string, delim sfcsv.Delimiter) recordText {
	s, chars := rd.RawRecord()
	if s == "" || strings.IndexByte(s, '\r') >= 0 || strings.IndexByte(s, 0) >= 0 ||
		(chars != len(s) && strings.Contains(s, sfcsv.BOM)) {
		return recordText{}
	}
	n := 0
	for _, v := range vals {
		n += len(v)
	}
	// Without a quote in the text the values are substrings of it; a record with quotes
	// has its unescaped values after its text.
	quoted := strings.IndexByte(s, '"') >= 0
	return recordText{s: s, chars: chars, vbytes: n, fields: len(vals), delim: byte(delim), quoted: quoted}
}

// intact reports whether vals are still the values parsed from t: the same strings, in
// the same order, none replaced, cut or moved. Every non-empty value must start where the
// reader's value of its position would, given the lengths of the values before it and the
// separator byte after each (an empty string has no position of its own), and the lengths
// must add up to the bytes read. A value that is not the reader's lies elsewhere in memory
// or inside one of the reader's values (a cut): then the values, disjoint and in order,
// cover as many bytes of the reader's values as those hold, so they cover them all and
// their separators fall on the reader's, which makes every length the reader's too.
func (t *recordText) intact(vals []string) bool {
	if t.s == "" || len(vals) != t.fields {
		return false
	}
	next := uintptr(unsafe.Pointer(unsafe.StringData(t.s)))
	if t.quoted {
		next += uintptr(len(t.s))
	}
	n := 0
	for _, v := range vals {
		if len(v) > 0 && uintptr(unsafe.Pointer(unsafe.StringData(v))) != next {
			return false
		}
		next += uintptr(len(v)) + 1
		n += len(v)
	}
	return n == t.vbytes
}

// Source is a stream of rows under one header. Next returns io.EOF after the last row.
// Every row must have exactly len(Header()) values. A Source is used by one goroutine.
// A Source may also have a method Name() string naming its input (a file name) in the
// messages of rows it rejects; the sources of this package and Mapping.Apply's do.
type Source interface {
	Header() []string
	Next() (Row, error)
}

// sourceName returns src's Name(), or "".
func sourceName(src Source) string {
	if n, ok := src.(interface{ Name() string }); ok {
		return n.Name()
	}
	return ""
}

// InputError reports a problem with the input: a header Salesforce would reject, a row the
// reader can delimit but not accept (too many or too few cells, invalid UTF-8, a NUL byte, a
// value that cannot be converted, a column that is not in the header), or a structural error
// after which no further row can be delimited (an unterminated quote, a record over the size
// limit, a JSON line over the length limit, an unreadable Parquet page).
//
// A Source returns a row's InputError (Row > 0, Structural false) from Next and goes on with
// the next row on the following call; Load fails that row alone with StatusInvalidRow and
// loads the rest. A Structural error ends the input: Load fails the broken row, sends nothing
// read after it, and returns the error once the rows read before it have their outcomes.
type InputError struct {
	File   string // input name, if any
	Row    int64  // 1-based data row number (0 when the header itself is at fault)
	Line   int    // physical row in the file when known (header = 1), else 0
	Column string // column name or position, when known
	Err    error
	// Values are the cells of the rejected row as far as they could be read (nil if none),
	// for the result files.
	Values []string
	// Structural reports that the rows after this one cannot be delimited: the input ends here.
	Structural bool
}

// rowError reports whether e fails one row alone: the reader has delimited it and goes on.
func (e *InputError) rowError() bool { return e.Row > 0 && !e.Structural }

// Error names file, row and column.
func (e *InputError) Error() string {
	return "load: " + e.Position()
}

// Position is the error without the package prefix: file, row (line), column and the cause,
// the text of a StatusInvalidRow result.
func (e *InputError) Position() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Row > 0 {
		fmt.Fprintf(&b, "row %d", e.Row)
		if e.Line > 0 {
			fmt.Fprintf(&b, " (line %d)", e.Line)
		}
	} else {
		b.WriteString("header")
	}
	if e.Column != "" {
		fmt.Fprintf(&b, ", column %s", e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying error.
func (e *InputError) Unwrap() error { return e.Err }

// CSVOptions configure CSVSource.
type CSVOptions struct {
	// Delimiter of the input file. Zero means comma.
	Delimiter sfcsv.Delimiter
}

// csvInputBuffer is the read buffer of CSVSource: large enough that reading a big file
// takes few system calls.
const csvInputBuffer = 256 << 10

// CSVSource reads rows from a CSV file in Salesforce's dialect (BOM stripped). name appears in
// errors. A row with more or fewer cells than the header is an *InputError.
func CSVSource(r io.Reader, name string, opts CSVOptions) Source {
	d := opts.Delimiter
	if d == 0 {
		d = sfcsv.Comma
	}
	return &csvSource{r: sfcsv.NewReader(r, sfcsv.ReaderOptions{Delimiter: d, Name: name, ReuseRecord: true, BufferSize: csvInputBuffer, RawRecords: true}), name: name, delim: d}
}

type csvSource struct {
	r      *sfcsv.Reader
	name   string
	delim  sfcsv.Delimiter
	header []string
	err    error
	n      int64
	once   sync.Once
	// slab is where rows' values are carved from: one allocation for csvSlabRows rows
	// rather than one per row. A row's values keep its slab alive, so a caller that keeps
	// one row keeps the strings of up to csvSlabRows rows.
	slab []string
}

// csvSlabRows is how many rows' values one allocation of CSVSource holds.
const csvSlabRows = 128

// values returns a copy of the record the reader returned (reused by its next Read).
func (s *csvSource) values(rec []string) []string {
	n := len(rec)
	if n == 0 {
		return []string{}
	}
	if len(s.slab) < n {
		s.slab = make([]string, n*csvSlabRows)
	}
	v := s.slab[:n:n]
	s.slab = s.slab[n:]
	copy(v, rec)
	return v
}

func (s *csvSource) init() {
	s.once.Do(func() {
		h, err := s.r.Header()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = &InputError{File: s.name, Err: errors.New("empty input: no header row")}
			}
			s.err = err
			return
		}
		s.header = slices.Clone(h)
		seen := make(map[string]bool, len(h))
		for i, c := range h {
			k := strings.ToLower(strings.TrimSpace(c))
			if k == "" {
				s.err = &InputError{File: s.name, Line: 1, Column: fmt.Sprint(i + 1), Err: errors.New("empty column name in header")}
				return
			}
			if seen[k] {
				s.err = &InputError{File: s.name, Line: 1, Column: c, Err: errors.New("duplicate column in header")}
				return
			}
			seen[k] = true
		}
	})
}

// Name returns the input name given to CSVSource.
func (s *csvSource) Name() string { return s.name }

func (s *csvSource) Header() []string {
	s.init()
	return s.header
}

func (s *csvSource) Next() (Row, error) {
	s.init()
	if s.err != nil {
		return Row{}, s.err
	}
	rec, err := s.r.Read()
	if err == io.EOF {
		return Row{}, io.EOF
	}
	// The data row number is the file's record number minus the header, so it stays
	// stable whatever happened to earlier rows.
	n := int64(s.r.Row() - 1)
	if err != nil {
		var pe *sfcsv.ParseError
		if errors.As(err, &pe) {
			return s.errorFor(pe, rec)
		}
		return Row{}, fmt.Errorf("load: reading %s: %w", s.name, err)
	}
	s.n = n
	vals := s.values(rec)
	return Row{Number: n, Values: vals, Line: s.r.Line(), text: csvRecordText(s.r, vals, s.delim)}, nil
}

// errorFor turns the reader's error for a record (rec: its cells, when the reader returned
// them) into the row's *InputError, naming the column.
func (s *csvSource) errorFor(pe *sfcsv.ParseError, rec []string) (Row, error) {
	col := ""
	if pe.Column > 0 && pe.Column <= len(s.header) {
		col = s.header[pe.Column-1]
	} else if pe.Column > 0 {
		col = fmt.Sprint(pe.Column)
	}
	cause := pe.Err
	if errors.Is(pe, sfcsv.ErrFieldCount) {
		col = fmt.Sprint(len(rec))
		if len(rec) < len(s.header) {
			col = s.header[len(rec)]
		}
		cause = fmt.Errorf("%w: row has %d cells, header has %d", sfcsv.ErrFieldCount, len(rec), len(s.header))
	}
	structural := errors.Is(pe, sfcsv.ErrUnclosedQuote) || errors.Is(pe, sfcsv.ErrRecordTooLarge)
	return Row{}, &InputError{File: s.name, Row: int64(pe.Row - 1), Line: pe.Line, Column: col, Err: cause,
		Values: slices.Clone(rec), Structural: structural}
}

// RowsSource is a Source over string rows already in header order, for example rows produced
// by another program. Values are used as given.
func RowsSource(header []string, rows iter.Seq[[]string]) Source {
	next, stop := iter.Pull(rows)
	return &funcSource{header: slices.Clone(header), stop: stop, next: func(n int64) ([]string, error) {
		v, ok := next()
		if !ok {
			stop()
			return nil, io.EOF
		}
		if len(v) != len(header) {
			return nil, &InputError{Row: n, Values: slices.Clone(v), Err: fmt.Errorf("row has %d values, header has %d", len(v), len(header))}
		}
		return slices.Clone(v), nil
	}}
}

// MapSource is a Source over maps from column name to Go value. Values are converted with
// sfcsv.FormatValue (nil is a null: see Options.Nulls). A missing key is an empty cell; a key
// that is not in header is an *InputError naming the row and the column.
func MapSource(header []string, rows iter.Seq[map[string]any]) Source {
	index := make(map[string]int, len(header))
	for i, h := range header {
		index[h] = i
	}
	next, stop := iter.Pull(rows)
	return &funcSource{header: slices.Clone(header), stop: stop, next: func(n int64) ([]string, error) {
		m, ok := next()
		if !ok {
			stop()
			return nil, io.EOF
		}
		vals := make([]string, len(header))
		for k, v := range m {
			i, ok := index[k]
			if !ok {
				return nil, &InputError{Row: n, Column: k, Err: errors.New("column is not in the header")}
			}
			s, err := formatValue(v)
			if err != nil {
				return nil, &InputError{Row: n, Column: k, Err: err}
			}
			vals[i] = s
		}
		return vals, nil
	}}
}

// formatValue converts a Go value to CSV text; nil becomes "" and is turned into "#N/A" by
// the engine when Options.Nulls is NullsWrite.
func formatValue(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "", nil
		}
		v = rv.Elem().Interface()
	}
	return sfcsv.FormatValue(v, sfcsv.NullsAsEmpty)
}

// StructSource is a Source over struct values. The header is the struct's exported fields in
// declaration order, named by their `sf:"FieldName"` tag (or the Go field name); `sf:"-"`
// skips a field. Nil pointers are nulls (see Options.Nulls). T must be a struct type.
func StructSource[T any](rows iter.Seq[T]) (Source, error) {
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("load: StructSource: %v is not a struct type", t)
	}
	var header []string
	var idx [][]int
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name := f.Name
		if tag, ok := f.Tag.Lookup("sf"); ok {
			tag, _, _ = strings.Cut(tag, ",")
			if tag == "-" {
				continue
			}
			if tag != "" {
				name = tag
			}
		}
		header = append(header, name)
		idx = append(idx, f.Index)
	}
	if len(header) == 0 {
		return nil, fmt.Errorf("load: StructSource: %v has no exported fields", t)
	}
	next, stop := iter.Pull(rows)
	return &funcSource{header: header, stop: stop, next: func(n int64) ([]string, error) {
		v, ok := next()
		if !ok {
			stop()
			return nil, io.EOF
		}
		rv := reflect.ValueOf(v)
		vals := make([]string, len(header))
		for i, ix := range idx {
			s, err := formatValue(rv.FieldByIndex(ix).Interface())
			if err != nil {
				return nil, &InputError{Row: n, Column: header[i], Err: err}
			}
			vals[i] = s
		}
		return vals, nil
	}}, nil
}

type funcSource struct {
	header []string
	next   func(n int64) ([]string, error)
	stop   func()
	n      int64
	done   bool
}

// Close releases the iterator behind the source; the engine calls it when it stops reading.
func (s *funcSource) Close() error {
	s.stop()
	return nil
}

func (s *funcSource) Header() []string { return s.header }

func (s *funcSource) Next() (Row, error) {
	if s.done {
		return Row{}, io.EOF
	}
	vals, err := s.next(s.n + 1)
	if err != nil {
		if errors.Is(err, io.EOF) {
			s.done = true
		}
		if ie, ok := err.(*InputError); ok && ie.rowError() {
			s.n++ // the rejected row keeps its number; the next row is the one after it
		}
		return Row{}, err
	}
	s.n++
	return Row{Number: s.n, Values: vals}, nil
}
