package extract

import (
	"bufio"
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
)

// ArrowBatchRows is the number of rows per record batch of Arrow output: memory holds one
// batch whatever the partition's size.
const ArrowBatchRows = 8192

// Column is one result column with its kind from describe. A read's columns are fixed when it
// is planned, so every partition of the read has the same schema.
type Column struct {
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
}

// MarshalText writes the kind's name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *Kind) UnmarshalText(b []byte) error {
	for _, c := range []Kind{KindString, KindBool, KindInt, KindFloat, KindDate, KindDateTime} {
		if string(b) == c.String() {
			*k = c
			return nil
		}
	}
	return fmt.Errorf("extract: unknown column kind %q", b)
}

// ArrowType is the Arrow type of a column of kind k. With kindOf (describe type to Kind) it is
// the one Salesforce-to-columnar type map; Parquet output follows the same kinds.
func ArrowType(k Kind) arrow.DataType {
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
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	}
	return arrow.BinaryTypes.String
}

// SparkType is the Spark SQL type name (as in a StructType's JSON) of a column of kind k, the
// type Spark gives an Arrow column of ArrowType(k).
func SparkType(k Kind) string {
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

// ArrowSchema is the schema of Arrow output with columns cols, every field nullable.
func ArrowSchema(cols []Column) *arrow.Schema {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.Name, Type: ArrowType(c.Kind), Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// arrowWriter writes an Arrow IPC stream whose schema is fixed in advance: result columns are
// matched to it by name (case-insensitively), and schema columns a result lacks are null.
type arrowWriter struct {
	bw      *bufio.Writer
	cols    []Column
	w       *ipc.Writer
	b       *array.RecordBuilder
	index   []int // result column -> schema column
	missing []int // schema columns no result column fills (always null)
	n       int   // rows in the current batch
}

func newArrowWriter(out io.Writer, cols []Column) *arrowWriter {
	bw := bufio.NewWriterSize(out, 256<<10)
	schema := ArrowSchema(cols)
	return &arrowWriter{
		bw: bw, cols: cols,
		w: ipc.NewWriter(bw, ipc.WithSchema(schema)),
		b: array.NewRecordBuilder(memory.DefaultAllocator, schema),
	}
}

func (a *arrowWriter) header(columns []string, _ []Kind) error {
	a.index = make([]int, len(columns))
	for i, c := range columns {
		a.index[i] = -1
		for j, sc := range a.cols {
			if strings.EqualFold(c, sc.Name) {
				a.index[i] = j
				break
			}
		}
		if a.index[i] < 0 {
			return fmt.Errorf("extract: result column %q is not in the read's schema", c)
		}
	}
	a.missing = a.missing[:0]
	for j := range a.cols {
		found := false
		for _, i := range a.index {
			found = found || i == j
		}
		if !found {
			a.missing = append(a.missing, j)
		}
	}
	return nil
}

func (a *arrowWriter) row(values []string, row int64) error {
	if len(values) != len(a.index) {
		return fmt.Errorf("extract: row %d has %d values, the header %d", row, len(values), len(a.index))
	}
	for i, v := range values {
		col := a.index[i]
		if err := appendArrow(a.b.Field(col), a.cols[col].Kind, v); err != nil {
			return &ValueError{Row: row, Column: a.cols[col].Name, Kind: a.cols[col].Kind, Value: v}
		}
	}
	for _, j := range a.missing {
		a.b.Field(j).AppendNull()
	}
	a.n++
	if a.n >= ArrowBatchRows {
		return a.flush()
	}
	return nil
}

// appendArrow appends the Salesforce CSV text v ("" = null) to b as kind k.
func appendArrow(b array.Builder, k Kind, v string) error {
	if v == "" {
		b.AppendNull()
		return nil
	}
	switch k {
	case KindBool:
		switch {
		case strings.EqualFold(v, "true"):
			b.(*array.BooleanBuilder).Append(true)
		case strings.EqualFold(v, "false"):
			b.(*array.BooleanBuilder).Append(false)
		default:
			return errBadValue
		}
	case KindInt:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(v, 64)
			if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<63-1 {
				return errBadValue
			}
			n = int64(f)
		}
		b.(*array.Int64Builder).Append(n)
	case KindFloat:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return errBadValue
		}
		b.(*array.Float64Builder).Append(f)
	case KindDate:
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return errBadValue
		}
		b.(*array.Date32Builder).Append(arrow.Date32FromTime(t))
	case KindDateTime:
		t, err := parseDateTime(v)
		if err != nil {
			return errBadValue
		}
		b.(*array.TimestampBuilder).Append(arrow.Timestamp(t.UnixMicro()))
	default:
		b.(*array.StringBuilder).Append(v)
	}
	return nil
}

// errBadValue is turned into a *ValueError naming the row and column.
var errBadValue = fmt.Errorf("extract: value does not fit its column")

func (a *arrowWriter) flush() error {
	if a.n == 0 {
		return nil
	}
	rec := a.b.NewRecordBatch()
	defer rec.Release()
	a.n = 0
	if err := a.w.Write(rec); err != nil {
		return fmt.Errorf("extract: arrow: %w", err)
	}
	return nil
}

func (a *arrowWriter) close() error {
	defer a.b.Release()
	if err := a.flush(); err != nil {
		return err
	}
	if err := a.w.Close(); err != nil {
		return fmt.Errorf("extract: arrow: %w", err)
	}
	return a.bw.Flush()
}
