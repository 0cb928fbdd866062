package extract

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/soql"
)

// The one Salesforce-to-columnar type map. A describe field type becomes a Kind (kindOf);
// parseCell turns Salesforce's text for a Kind into a typed cell; Parquet output
// (parquetWriter) and Arrow output (ArrowWriter, used by sfbatch pipe --export) only encode
// those cells; the Spark type (Kind.SparkType, for the schema a read plans) is what Spark
// makes of the Arrow type:
//
//	Kind          Parquet                 Arrow                 Spark
//	KindString    BYTE_ARRAY (String)     utf8                  string
//	KindBool      BOOLEAN                 bool                  boolean
//	KindInt       INT64                   int64                 long
//	KindFloat     DOUBLE                  float64               double
//	KindDate      INT32 (Date)            date32                date
//	KindDateTime  INT64 (Timestamp ms)    timestamp[us, UTC]    timestamp

// cell is one non-empty Salesforce value parsed for its column's Kind.
type cell struct {
	b    bool
	i    int64 // KindInt; KindDateTime: Unix milliseconds
	f    float64
	days int32 // KindDate: days since the Unix epoch
	s    string
}

// parseCell parses v (non-empty Salesforce CSV text) for kind; false when it does not fit.
func parseCell(kind Kind, v string) (cell, bool) {
	switch kind {
	case KindBool:
		switch {
		case strings.EqualFold(v, "true"):
			return cell{b: true}, true
		case strings.EqualFold(v, "false"):
			return cell{}, true
		}
		return cell{}, false
	case KindInt:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(v, 64)
			if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<63-1 {
				return cell{}, false
			}
			n = int64(f)
		}
		return cell{i: n}, true
	case KindFloat:
		f, err := strconv.ParseFloat(v, 64)
		return cell{f: f}, err == nil
	case KindDate:
		t, err := time.Parse(time.DateOnly, v)
		return cell{days: int32(t.Unix() / 86400)}, err == nil
	case KindDateTime:
		t, err := parseDateTime(v)
		return cell{i: t.UnixMilli()}, err == nil
	}
	return cell{s: v}, true
}

// ArrowType is the Arrow type of a column of kind k.
func (k Kind) ArrowType() arrow.DataType {
	switch k {
	case KindBool:
		return arrow.FixedWidthTypes.Boolean
	case KindInt:
		return arrow.PrimitiveTypes.Int64
	case KindFloat:
		return arrow.PrimitiveTypes.Float64
	case KindDate:
		return arrow.FixedWidthTypes.Date32
	case KindDateTime:
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"} // the unit Spark reads
	}
	return arrow.BinaryTypes.String
}

// SparkType is the Spark SQL type name (as in a StructType's JSON) of a column of kind k:
// the type Spark gives an Arrow column of k.ArrowType().
func (k Kind) SparkType() string {
	switch k {
	case KindBool:
		return "boolean"
	case KindInt:
		return "long"
	case KindFloat:
		return "double"
	case KindDate:
		return "date"
	case KindDateTime:
		return "timestamp"
	}
	return "string"
}

// ArrowSchema is the Arrow schema of result columns of the given kinds, every column nullable
// (Salesforce's empty value is a null).
func ArrowSchema(columns []string, kinds []Kind) *arrow.Schema {
	fields := make([]arrow.Field, len(columns))
	for i, c := range columns {
		fields[i] = arrow.Field{Name: c, Type: kinds[i].ArrowType(), Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// ArrowBatchRows is how many rows ArrowWriter gathers into one record batch.
const ArrowBatchRows = 8192

// ArrowWriter writes result rows as an Arrow IPC stream whose schema is fixed when it is
// created (ArrowSchema), so that every partition of one read has the same schema, even an
// empty one. Not safe for concurrent use.
type ArrowWriter struct {
	bw    *bufio.Writer
	w     *ipc.Writer
	b     *array.RecordBuilder
	kinds []Kind
	cols  []string
	rows  int
	n     int64
	cells []cell // reused per row
}

// NewArrowWriter starts an Arrow IPC stream of columns of kinds on w.
func NewArrowWriter(w io.Writer, columns []string, kinds []Kind) *ArrowWriter {
	schema := ArrowSchema(columns, kinds)
	bw := bufio.NewWriterSize(w, 64<<10)
	return &ArrowWriter{bw: bw, w: ipc.NewWriter(bw, ipc.WithSchema(schema)), b: array.NewRecordBuilder(memory.DefaultAllocator, schema),
		kinds: kinds, cols: columns}
}

// Write adds one row of Salesforce CSV text in column order ("" is a null). A value that does
// not fit its column is a *ValueError, and nothing of the row is written.
func (a *ArrowWriter) Write(values []string) error {
	a.n++
	if cap(a.cells) < len(values) {
		a.cells = make([]cell, len(values))
	}
	cells := a.cells[:len(values)]
	for i, v := range values {
		if v == "" {
			continue
		}
		c, ok := parseCell(a.kinds[i], v)
		if !ok {
			return &ValueError{Row: a.n, Column: a.cols[i], Kind: a.kinds[i], Value: v}
		}
		cells[i] = c
	}
	for i, v := range values {
		if v == "" {
			a.b.Field(i).AppendNull()
			continue
		}
		c := cells[i]
		switch fb := a.b.Field(i).(type) {
		case *array.BooleanBuilder:
			fb.Append(c.b)
		case *array.Int64Builder:
			fb.Append(c.i)
		case *array.Float64Builder:
			fb.Append(c.f)
		case *array.Date32Builder:
			fb.Append(arrow.Date32(c.days))
		case *array.TimestampBuilder:
			fb.Append(arrow.Timestamp(c.i * 1000)) // milliseconds to the type's microseconds
		case *array.StringBuilder:
			fb.Append(c.s)
		}
	}
	a.rows++
	if a.rows >= ArrowBatchRows {
		return a.flush()
	}
	return nil
}

func (a *ArrowWriter) flush() error {
	if a.rows == 0 {
		return nil
	}
	rec := a.b.NewRecordBatch()
	defer rec.Release()
	a.rows = 0
	if err := a.w.Write(rec); err != nil {
		return fmt.Errorf("extract: arrow: %w", err)
	}
	return nil
}

// Rows returns how many rows were written.
func (a *ArrowWriter) Rows() int64 { return a.n }

// Close writes the last batch and the end-of-stream marker.
func (a *ArrowWriter) Close() error {
	defer a.b.Release()
	if err := a.flush(); err != nil {
		return err
	}
	if err := a.w.Close(); err != nil {
		return fmt.Errorf("extract: arrow: %w", err)
	}
	return a.bw.Flush()
}

// QueryColumns returns the FROM object and the result columns of a SOQL query, as Bulk CSV
// headers name them (dotted paths for parent fields), so that a reader can fix its schema
// before any row arrives. Aggregate queries have no fixed columns and are refused.
func QueryColumns(query string) (object string, columns []string, err error) {
	q, err := soql.Parse(query)
	if err != nil {
		return "", nil, err
	}
	for _, f := range q.Fields {
		ref, ok := f.(*soql.FieldRef)
		if !ok {
			return "", nil, fmt.Errorf("extract: %s: only field lists have columns fixed in advance", f)
		}
		columns = append(columns, strings.Join(ref.Path, "."))
	}
	return q.From, columns, nil
}

// ColumnKinds returns the Kind of each column (a dotted path) of object, from describes: the
// types Parquet and Arrow output use. Columns that cannot be resolved are KindString.
func ColumnKinds(ctx context.Context, c *salesforce.Client, object string, columns []string) ([]Kind, error) {
	return columnKinds(ctx, c, object, columns)
}

// arrowRowWriter is Run's FormatArrow output.
type arrowRowWriter struct {
	out io.Writer
	w   *ArrowWriter
}

func (a *arrowRowWriter) header(columns []string, kinds []Kind) error {
	a.w = NewArrowWriter(a.out, columns, kinds)
	return nil
}

func (a *arrowRowWriter) row(values []string, _ int64) error { return a.w.Write(values) }

func (a *arrowRowWriter) close() error {
	if a.w == nil {
		return nil
	}
	return a.w.Close()
}
