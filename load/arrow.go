package load

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Limits on one Arrow IPC message: a record batch body, and its metadata. A message that claims
// more is an *InputError, so a corrupt length cannot make the reader allocate without bound.
const (
	MaxArrowBatchBytes    = 256 << 20
	MaxArrowMetadataBytes = 16 << 20
)

// ErrValue is wrapped by the *InputError ArrowSource returns for a cell that has no Salesforce
// form (a NaN or infinite float, a string that is not UTF-8). That error names the row; the
// source can go on to the next row, so a caller may fail that row alone and keep reading.
var ErrValue = errors.New("value cannot be converted for Salesforce")

// ArrowOptions configure ArrowSource.
type ArrowOptions struct {
	// TimeZone is the zone of timestamps without one (Arrow timestamp types with an empty
	// TimeZone: wall-clock values). Nil means UTC. Timestamps with a zone are instants and
	// need none.
	TimeZone *time.Location
	// NullText is the CSV text a null cell becomes: "" (the default) leaves the field
	// unchanged, sfcsv's "#N/A" sets it to null. An empty string is always sent as empty.
	NullText string
	// Allocator for the record batches. Nil means memory.DefaultAllocator.
	Allocator memory.Allocator
}

// ArrowSource reads rows from an Arrow IPC stream (the format pyarrow's RecordBatchStreamWriter
// and Spark's Arrow serialization write), one record batch at a time, so memory holds one
// batch whatever the stream's length. The stream must end with its end-of-stream marker,
// which every writer writes on close: a stream without it broke off (its producer died),
// and is an *InputError rather than a short input. It is a Source; use it from one goroutine.
//
// Cells become Salesforce CSV text: strings (utf8, large_utf8, string_view) as they are;
// integers of every width and sign in decimal; float and double in the shortest decimal
// form that reads back to the same value (NaN and infinities fail their row, ErrValue);
// decimal128 and decimal256 with their scale; booleans as true/false; date32 and date64 as
// YYYY-MM-DD; timestamps (any unit) as UTC YYYY-MM-DDTHH:MM:SS.sssZ, those without a zone
// read in ArrowOptions.TimeZone; time32 and time64 as HH:MM:SS.sssZ; binary, large_binary and
// fixed_size_binary in base64 (Salesforce's form for base64 fields); nulls as
// ArrowOptions.NullText. Nested types (list, struct, map, union, ...) and dictionaries are
// refused when the stream opens, with an *InputError naming the column.
type ArrowSource struct {
	rd     *ipc.Reader
	name   string
	opts   ArrowOptions
	header []string
	conv   []cellFunc
	rec    arrow.RecordBatch
	i      int   // next row in rec
	n      int64 // rows read so far
	err    error
	cur    int // row of rec that Next returned last
	tail   *tailReader
}

// arrowEOS is the Arrow IPC stream's end-of-stream marker: continuation 0xFFFFFFFF, length 0.
var arrowEOS = [8]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}

// tailReader remembers the last 8 bytes read, to tell a stream that ended with its
// end-of-stream marker from one that broke off between two batches.
type tailReader struct {
	r    io.Reader
	last [8]byte
}

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n >= 8 {
		copy(t.last[:], p[n-8:n])
	} else if n > 0 {
		copy(t.last[:], t.last[n:])
		copy(t.last[8-n:], p[:n])
	}
	return n, err
}

// cellFunc converts row i of an array to Salesforce CSV text.
type cellFunc func(a arrow.Array, i int) (string, error)

// NewArrowSource reads the stream's schema from r and checks every column's type. name appears
// in errors. Release the source when done.
func NewArrowSource(r io.Reader, name string, opts ArrowOptions) (*ArrowSource, error) {
	if opts.TimeZone == nil {
		opts.TimeZone = time.UTC
	}
	if opts.Allocator == nil {
		opts.Allocator = memory.DefaultAllocator
	}
	tail := &tailReader{r: r}
	rd, err := ipc.NewReader(tail, ipc.WithAllocator(opts.Allocator), ipc.WithBodySizeLimit(MaxArrowBatchBytes),
		ipc.WithMetadataSizeLimit(MaxArrowMetadataBytes))
	if err != nil {
		return nil, &InputError{File: name, Err: fmt.Errorf("reading the Arrow IPC stream's schema: %w", err)}
	}
	s := &ArrowSource{rd: rd, name: name, opts: opts, tail: tail}
	schema := rd.Schema()
	seen := make(map[string]bool, schema.NumFields())
	for _, f := range schema.Fields() {
		if f.Name == "" {
			rd.Release()
			return nil, &InputError{File: name, Err: errors.New("a column has no name")}
		}
		if seen[f.Name] {
			rd.Release()
			return nil, &InputError{File: name, Column: f.Name, Err: errors.New("duplicate column")}
		}
		seen[f.Name] = true
		c, err := arrowCell(f.Type, opts.TimeZone)
		if err != nil {
			rd.Release()
			return nil, &InputError{File: name, Column: f.Name, Err: err}
		}
		s.header = append(s.header, f.Name)
		s.conv = append(s.conv, c)
	}
	return s, nil
}

// Schema is the stream's schema.
func (s *ArrowSource) Schema() *arrow.Schema { return s.rd.Schema() }

// Header returns the column names in schema order.
func (s *ArrowSource) Header() []string { return s.header }

// Next returns the next row. A cell without a Salesforce form is an *InputError wrapping
// ErrValue, with Row set; the source stays usable and the next call returns the next row. A
// stream that breaks off or is malformed is an *InputError that ends the source.
func (s *ArrowSource) Next() (Row, error) {
	if s.err != nil {
		return Row{}, s.err
	}
	for s.rec == nil || s.i >= int(s.rec.NumRows()) {
		if s.rec != nil {
			s.rec.Release()
			s.rec = nil
		}
		if !s.rd.Next() {
			switch err := s.rd.Err(); {
			case err != nil && !errors.Is(err, io.EOF):
				s.err = &InputError{File: s.name, Row: s.n + 1, Err: fmt.Errorf("the Arrow IPC stream is truncated or malformed: %w", err)}
			case s.tail.last != arrowEOS:
				// Writers end a stream with the marker; without it the producer stopped
				// (crashed, or its process died) between two batches.
				s.err = &InputError{File: s.name, Row: s.n + 1, Err: errors.New("the Arrow IPC stream is truncated or malformed: it ended without its end-of-stream marker")}
			default:
				s.err = io.EOF
			}
			return Row{}, s.err
		}
		s.rec = s.rd.RecordBatch()
		s.rec.Retain()
		s.i = 0
	}
	s.cur = s.i
	s.i++
	s.n++
	row := Row{Number: s.n, Values: make([]string, len(s.conv))}
	for c, conv := range s.conv {
		col := s.rec.Column(c)
		if isNull(col, s.cur) {
			row.Values[c] = s.opts.NullText
			continue
		}
		v, err := conv(col, s.cur)
		if err != nil {
			return row, &InputError{File: s.name, Row: s.n, Column: s.header[c], Err: fmt.Errorf("%w: %w", ErrValue, err)}
		}
		row.Values[c] = v
	}
	return row, nil
}

// ValueStr returns column col of the row Next returned last in Arrow's own text form (what
// an array builder's AppendValueFromString reads back to the same value), and false when the
// cell is null.
func (s *ArrowSource) ValueStr(col int) (string, bool) {
	if s.rec == nil {
		return "", false
	}
	a := s.rec.Column(col)
	if isNull(a, s.cur) {
		return "", false
	}
	return a.ValueStr(s.cur), true
}

// isNull reports whether row i of a is null (every row of the null type is).
func isNull(a arrow.Array, i int) bool {
	return a.DataType().ID() == arrow.NULL || a.IsNull(i)
}

// Release frees the batch in hand and the reader.
func (s *ArrowSource) Release() {
	if s.rec != nil {
		s.rec.Release()
		s.rec = nil
	}
	s.rd.Release()
}

// Salesforce's text forms of dates and times.
const (
	sfDateTime = "2006-01-02T15:04:05.000Z"
	sfDate     = "2006-01-02"
	sfTime     = "15:04:05.000Z"
)

// arrowCell returns the converter for one Arrow type, or an error naming a type that has no
// Salesforce form.
func arrowCell(dt arrow.DataType, zone *time.Location) (cellFunc, error) {
	switch t := dt.(type) {
	case *arrow.StringType:
		return utf8Cell(func(a arrow.Array, i int) string { return a.(*array.String).Value(i) }), nil
	case *arrow.LargeStringType:
		return utf8Cell(func(a arrow.Array, i int) string { return a.(*array.LargeString).Value(i) }), nil
	case *arrow.StringViewType:
		return utf8Cell(func(a arrow.Array, i int) string { return a.(*array.StringView).Value(i) }), nil
	case *arrow.Int8Type:
		return intCell(func(a arrow.Array, i int) int64 { return int64(a.(*array.Int8).Value(i)) }), nil
	case *arrow.Int16Type:
		return intCell(func(a arrow.Array, i int) int64 { return int64(a.(*array.Int16).Value(i)) }), nil
	case *arrow.Int32Type:
		return intCell(func(a arrow.Array, i int) int64 { return int64(a.(*array.Int32).Value(i)) }), nil
	case *arrow.Int64Type:
		return intCell(func(a arrow.Array, i int) int64 { return a.(*array.Int64).Value(i) }), nil
	case *arrow.Uint8Type:
		return uintCell(func(a arrow.Array, i int) uint64 { return uint64(a.(*array.Uint8).Value(i)) }), nil
	case *arrow.Uint16Type:
		return uintCell(func(a arrow.Array, i int) uint64 { return uint64(a.(*array.Uint16).Value(i)) }), nil
	case *arrow.Uint32Type:
		return uintCell(func(a arrow.Array, i int) uint64 { return uint64(a.(*array.Uint32).Value(i)) }), nil
	case *arrow.Uint64Type:
		return uintCell(func(a arrow.Array, i int) uint64 { return a.(*array.Uint64).Value(i) }), nil
	case *arrow.Float16Type:
		return floatCell(32, func(a arrow.Array, i int) float64 { return float64(a.(*array.Float16).Value(i).Float32()) }), nil
	case *arrow.Float32Type:
		return floatCell(32, func(a arrow.Array, i int) float64 { return float64(a.(*array.Float32).Value(i)) }), nil
	case *arrow.Float64Type:
		return floatCell(64, func(a arrow.Array, i int) float64 { return a.(*array.Float64).Value(i) }), nil
	case *arrow.Decimal128Type:
		return func(a arrow.Array, i int) (string, error) {
			return a.(*array.Decimal128).Value(i).ToString(t.Scale), nil
		}, nil
	case *arrow.Decimal256Type:
		return func(a arrow.Array, i int) (string, error) {
			return a.(*array.Decimal256).Value(i).ToString(t.Scale), nil
		}, nil
	case *arrow.BooleanType:
		return func(a arrow.Array, i int) (string, error) {
			return strconv.FormatBool(a.(*array.Boolean).Value(i)), nil
		}, nil
	case *arrow.Date32Type:
		return func(a arrow.Array, i int) (string, error) {
			return a.(*array.Date32).Value(i).ToTime().Format(sfDate), nil
		}, nil
	case *arrow.Date64Type:
		return func(a arrow.Array, i int) (string, error) {
			return a.(*array.Date64).Value(i).ToTime().Format(sfDate), nil
		}, nil
	case *arrow.TimestampType:
		loc := zone
		if t.TimeZone != "" {
			loc = nil // an instant
		}
		unit := t.Unit
		return func(a arrow.Array, i int) (string, error) {
			tm := a.(*array.Timestamp).Value(i).ToTime(unit) // UTC
			if loc != nil {
				// A wall-clock time: read it in the zone.
				tm = time.Date(tm.Year(), tm.Month(), tm.Day(), tm.Hour(), tm.Minute(), tm.Second(), tm.Nanosecond(), loc)
			}
			return tm.UTC().Format(sfDateTime), nil
		}, nil
	case *arrow.Time32Type:
		unit := t.Unit
		return func(a arrow.Array, i int) (string, error) {
			return a.(*array.Time32).Value(i).ToTime(unit).Format(sfTime), nil
		}, nil
	case *arrow.Time64Type:
		unit := t.Unit
		return func(a arrow.Array, i int) (string, error) {
			return a.(*array.Time64).Value(i).ToTime(unit).Format(sfTime), nil
		}, nil
	case *arrow.BinaryType:
		return func(a arrow.Array, i int) (string, error) {
			return base64.StdEncoding.EncodeToString(a.(*array.Binary).Value(i)), nil
		}, nil
	case *arrow.LargeBinaryType:
		return func(a arrow.Array, i int) (string, error) {
			return base64.StdEncoding.EncodeToString(a.(*array.LargeBinary).Value(i)), nil
		}, nil
	case *arrow.FixedSizeBinaryType:
		return func(a arrow.Array, i int) (string, error) {
			return base64.StdEncoding.EncodeToString(a.(*array.FixedSizeBinary).Value(i)), nil
		}, nil
	case *arrow.NullType:
		return func(arrow.Array, int) (string, error) { return "", nil }, nil // never called: every cell is null
	}
	if arrow.IsNested(dt.ID()) || dt.ID() == arrow.RUN_END_ENCODED {
		return nil, fmt.Errorf("nested type %s is not supported: flatten it into columns or cast it to a string", dt)
	}
	return nil, fmt.Errorf("type %s is not supported: cast it to a string, number, boolean, date, timestamp or binary", dt)
}

func utf8Cell(get func(arrow.Array, int) string) cellFunc {
	return func(a arrow.Array, i int) (string, error) {
		v := get(a, i)
		if !utf8.ValidString(v) {
			return "", errors.New("string is not valid UTF-8")
		}
		return v, nil
	}
}

func intCell(get func(arrow.Array, int) int64) cellFunc {
	return func(a arrow.Array, i int) (string, error) { return strconv.FormatInt(get(a, i), 10), nil }
}

func uintCell(get func(arrow.Array, int) uint64) cellFunc {
	return func(a arrow.Array, i int) (string, error) { return strconv.FormatUint(get(a, i), 10), nil }
}

func floatCell(bits int, get func(arrow.Array, int) float64) cellFunc {
	return func(a arrow.Array, i int) (string, error) {
		v := get(a, i)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", fmt.Errorf("%v has no Salesforce number form", v)
		}
		return strconv.FormatFloat(v, 'f', -1, bits), nil
	}
}
