package load

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
)

// arrowColumn is one column of the every-type test stream: its type, how to append the test
// value, and the Salesforce text that value must become.
type arrowColumn struct {
	name   string
	typ    arrow.DataType
	append func(b array.Builder)
	want   string
}

func arrowColumns() []arrowColumn {
	// 2024-03-01 12:34:56.789 as a wall-clock or UTC instant.
	ts := time.Date(2024, 3, 1, 12, 34, 56, 789_000_000, time.UTC)
	return []arrowColumn{
		{"str", arrow.BinaryTypes.String, func(b array.Builder) { b.(*array.StringBuilder).Append("héllo, \"world\"") }, "héllo, \"world\""},
		{"large_str", arrow.BinaryTypes.LargeString, func(b array.Builder) { b.(*array.LargeStringBuilder).Append("") }, ""},
		{"view_str", arrow.BinaryTypes.StringView, func(b array.Builder) { b.(*array.StringViewBuilder).Append("a view") }, "a view"},
		{"i8", arrow.PrimitiveTypes.Int8, func(b array.Builder) { b.(*array.Int8Builder).Append(-128) }, "-128"},
		{"i16", arrow.PrimitiveTypes.Int16, func(b array.Builder) { b.(*array.Int16Builder).Append(32767) }, "32767"},
		{"i32", arrow.PrimitiveTypes.Int32, func(b array.Builder) { b.(*array.Int32Builder).Append(-2147483648) }, "-2147483648"},
		{"i64", arrow.PrimitiveTypes.Int64, func(b array.Builder) { b.(*array.Int64Builder).Append(math.MaxInt64) }, "9223372036854775807"},
		{"u8", arrow.PrimitiveTypes.Uint8, func(b array.Builder) { b.(*array.Uint8Builder).Append(255) }, "255"},
		{"u16", arrow.PrimitiveTypes.Uint16, func(b array.Builder) { b.(*array.Uint16Builder).Append(65535) }, "65535"},
		{"u32", arrow.PrimitiveTypes.Uint32, func(b array.Builder) { b.(*array.Uint32Builder).Append(4294967295) }, "4294967295"},
		{"u64", arrow.PrimitiveTypes.Uint64, func(b array.Builder) { b.(*array.Uint64Builder).Append(math.MaxUint64) }, "18446744073709551615"},
		{"f16", arrow.FixedWidthTypes.Float16, func(b array.Builder) { b.(*array.Float16Builder).Append(float16.New(1.5)) }, "1.5"},
		{"f32", arrow.PrimitiveTypes.Float32, func(b array.Builder) { b.(*array.Float32Builder).Append(0.1) }, "0.1"},
		{"f64", arrow.PrimitiveTypes.Float64, func(b array.Builder) { b.(*array.Float64Builder).Append(-1234.5e-10) }, "-0.00000012345"},
		{"dec", &arrow.Decimal128Type{Precision: 18, Scale: 2}, func(b array.Builder) {
			b.(*array.Decimal128Builder).Append(decimal128.FromI64(-123456))
		}, "-1234.56"},
		{"dec256", &arrow.Decimal256Type{Precision: 40, Scale: 3}, func(b array.Builder) {
			b.(*array.Decimal256Builder).Append(decimal256.FromI64(1005))
		}, "1.005"},
		{"flag", arrow.FixedWidthTypes.Boolean, func(b array.Builder) { b.(*array.BooleanBuilder).Append(true) }, "true"},
		{"d32", arrow.FixedWidthTypes.Date32, func(b array.Builder) { b.(*array.Date32Builder).Append(arrow.Date32FromTime(ts)) }, "2024-03-01"},
		{"d64", arrow.FixedWidthTypes.Date64, func(b array.Builder) { b.(*array.Date64Builder).Append(arrow.Date64FromTime(ts)) }, "2024-03-01"},
		{"ts_ntz", &arrow.TimestampType{Unit: arrow.Microsecond}, func(b array.Builder) {
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(ts.UnixMicro()))
		}, "2024-03-01T17:34:56.789Z"}, // wall clock read in America/New_York (EST, UTC-5)
		{"ts_s", &arrow.TimestampType{Unit: arrow.Second}, func(b array.Builder) {
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(ts.Unix()))
		}, "2024-03-01T17:34:56.000Z"},
		{"ts_tz", &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "Asia/Tokyo"}, func(b array.Builder) {
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(ts.UnixMicro()))
		}, "2024-03-01T12:34:56.789Z"}, // an instant: the zone is only for display
		{"ts_ns_utc", &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}, func(b array.Builder) {
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(ts.UnixNano() + 999))
		}, "2024-03-01T12:34:56.789Z"},
		{"t32", arrow.FixedWidthTypes.Time32ms, func(b array.Builder) { b.(*array.Time32Builder).Append(arrow.Time32(45296789)) }, "12:34:56.789Z"},
		{"t64", arrow.FixedWidthTypes.Time64us, func(b array.Builder) { b.(*array.Time64Builder).Append(arrow.Time64(45296789000)) }, "12:34:56.789Z"},
		{"bin", arrow.BinaryTypes.Binary, func(b array.Builder) { b.(*array.BinaryBuilder).Append([]byte{0, 1, 2, 0xff}) }, "AAEC/w=="},
		{"large_bin", arrow.BinaryTypes.LargeBinary, func(b array.Builder) { b.(*array.BinaryBuilder).Append([]byte("hi")) }, "aGk="},
		{"fixed_bin", &arrow.FixedSizeBinaryType{ByteWidth: 3}, func(b array.Builder) { b.(*array.FixedSizeBinaryBuilder).Append([]byte("abc")) }, "YWJj"},
		{"nothing", arrow.Null, func(b array.Builder) { b.AppendNull() }, ""},
	}
}

// arrowStream writes one IPC stream of the schema, with batches built by fill (each call one
// batch); no fill means a stream with a schema and no batches.
func arrowStream(t *testing.T, schema *arrow.Schema, fill ...func(b *array.RecordBuilder)) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	for _, f := range fill {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		f(b)
		rec := b.NewRecordBatch()
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		b.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestArrowSourceEveryType converts one row of every supported Arrow type, then a row of
// nulls, and checks the exact Salesforce text of each cell.
func TestArrowSourceEveryType(t *testing.T) {
	t.Parallel()
	cols := arrowColumns()
	var fields []arrow.Field
	var wantRow, wantHeader, nulls, clear []string
	for _, c := range cols {
		fields = append(fields, arrow.Field{Name: c.name, Type: c.typ, Nullable: true})
		wantHeader = append(wantHeader, c.name)
		wantRow = append(wantRow, c.want)
		nulls = append(nulls, "")
		clear = append(clear, "#N/A")
	}
	schema := arrow.NewSchema(fields, nil)
	stream := arrowStream(t, schema, func(b *array.RecordBuilder) {
		for i, c := range cols {
			c.append(b.Field(i))
			b.Field(i).AppendNull()
		}
	})
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		nullText string
		wantNull []string
	}{{"", nulls}, {"#N/A", clear}} {
		src, err := NewArrowSource(bytes.NewReader(stream), "every.arrow", ArrowOptions{TimeZone: ny, NullText: tc.nullText})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantHeader, src.Header()); diff != "" {
			t.Errorf("header (-want +got):\n%s", diff)
		}
		rows, err := readAll(t, src)
		if err != nil {
			t.Fatal(err)
		}
		want := []Row{{Number: 1, Values: wantRow}, {Number: 2, Values: tc.wantNull}}
		// The null-type column is null in both rows.
		want[0].Values = append([]string(nil), wantRow...)
		want[0].Values[len(cols)-1] = tc.nullText
		if diff := cmp.Diff(want, rows); diff != "" {
			t.Errorf("null text %q: rows (-want +got):\n%s", tc.nullText, diff)
		}
		src.Release()
	}
}

// TestArrowSourceValueStrRoundTrip checks that every type's ValueStr is read back by a builder
// to the same value: pipe echoes key columns that way.
func TestArrowSourceValueStrRoundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range arrowColumns() {
		schema := arrow.NewSchema([]arrow.Field{{Name: c.name, Type: c.typ, Nullable: true}}, nil)
		stream := arrowStream(t, schema, func(b *array.RecordBuilder) { c.append(b.Field(0)) })
		src, err := NewArrowSource(bytes.NewReader(stream), "one.arrow", ArrowOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.Next(); err != nil {
			t.Fatal(err)
		}
		text, ok := src.ValueStr(0)
		b := array.NewBuilder(memory.DefaultAllocator, c.typ)
		if !ok {
			b.AppendNull()
		} else if err := b.AppendValueFromString(text); err != nil {
			t.Errorf("%s: AppendValueFromString(%q): %v", c.name, text, err)
			continue
		}
		got := b.NewArray()
		ref := array.NewBuilder(memory.DefaultAllocator, c.typ)
		c.append(ref)
		want := ref.NewArray()
		if !array.Equal(want, got) {
			t.Errorf("%s: %v read back as %v (text %q)", c.name, want, got, text)
		}
		src.Release()
	}
}

func TestArrowSourceRefusesNestedTypesNamingTheColumn(t *testing.T) {
	t.Parallel()
	for _, typ := range []arrow.DataType{
		arrow.ListOf(arrow.BinaryTypes.String),
		arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32}),
		arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String),
		arrow.LargeListOf(arrow.PrimitiveTypes.Int64),
		arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Int64),
		&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String},
	} {
		schema := arrow.NewSchema([]arrow.Field{{Name: "Name", Type: arrow.BinaryTypes.String}, {Name: "Tags__c", Type: typ}}, nil)
		stream := arrowStream(t, schema)
		_, err := NewArrowSource(bytes.NewReader(stream), "nested.arrow", ArrowOptions{})
		var ie *InputError
		if !errors.As(err, &ie) || ie.Column != "Tags__c" || !strings.Contains(err.Error(), "not supported") {
			t.Errorf("%s: err = %v, want an *InputError naming Tags__c", typ, err)
		}
	}
}

func TestArrowSourceEmptyStream(t *testing.T) {
	t.Parallel()
	schema := arrow.NewSchema([]arrow.Field{{Name: "LastName", Type: arrow.BinaryTypes.String}}, nil)
	src, err := NewArrowSource(bytes.NewReader(arrowStream(t, schema)), "empty.arrow", ArrowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Release()
	if _, err := src.Next(); err != io.EOF {
		t.Fatalf("Next = %v, want io.EOF", err)
	}
	if diff := cmp.Diff([]string{"LastName"}, src.Header()); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
}

// TestArrowSourceBadValueFailsOneRow: a NaN is an *InputError for its row wrapping ErrValue;
// the next call goes on with the next row.
func TestArrowSourceBadValueFailsOneRow(t *testing.T) {
	t.Parallel()
	schema := arrow.NewSchema([]arrow.Field{{Name: "Amount", Type: arrow.PrimitiveTypes.Float64}}, nil)
	stream := arrowStream(t, schema, func(b *array.RecordBuilder) {
		b.Field(0).(*array.Float64Builder).AppendValues([]float64{1, math.NaN(), math.Inf(-1), 2}, nil)
	})
	src, err := NewArrowSource(bytes.NewReader(stream), "nan.arrow", ArrowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Release()
	var got []string
	for {
		r, err := src.Next()
		if err == io.EOF {
			break
		}
		var ie *InputError
		if errors.As(err, &ie) && errors.Is(err, ErrValue) && ie.Column == "Amount" {
			got = append(got, "bad "+ie.Err.Error()[:len(ErrValue.Error())])
			if ie.Row != r.Number {
				t.Errorf("error row %d, row number %d", ie.Row, r.Number)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r.Values[0])
	}
	want := []string{"1", "bad " + ErrValue.Error(), "bad " + ErrValue.Error(), "2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

// TestArrowSourceTruncatedStream cuts a two-batch stream at every point: every cut gives the
// rows of the whole batches before it, then an *InputError (also a cut between two batches:
// the end-of-stream marker is missing), never a panic, a made-up row or a clean end.
func TestArrowSourceTruncatedStream(t *testing.T) {
	t.Parallel()
	schema := arrow.NewSchema([]arrow.Field{{Name: "LastName", Type: arrow.BinaryTypes.String}}, nil)
	batch := func(names ...string) func(b *array.RecordBuilder) {
		return func(b *array.RecordBuilder) { b.Field(0).(*array.StringBuilder).AppendValues(names, nil) }
	}
	stream := arrowStream(t, schema, batch("a", "b"), batch("c", "d", "e"))
	broken := 0
	for cut := 1; cut < len(stream); cut++ {
		src, err := NewArrowSource(bytes.NewReader(stream[:cut]), "cut.arrow", ArrowOptions{})
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Errorf("cut at %d: schema error %v is not an *InputError", cut, err)
			}
			continue
		}
		rows, err := readAll(t, src)
		src.Release()
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), "truncated or malformed") {
			t.Errorf("cut at %d: %d rows, err %v; want a truncated-stream error", cut, len(rows), err)
			continue
		}
		broken++
		if len(rows) != 0 && len(rows) != 2 && len(rows) != 5 {
			t.Errorf("cut at %d: %d rows before the error, want whole batches", cut, len(rows))
		}
		if ie.Row != 0 && ie.Row != int64(len(rows))+1 {
			t.Errorf("cut at %d: error names row %d after %d rows", cut, ie.Row, len(rows))
		}
	}
	if broken < len(stream)/2 {
		t.Errorf("only %d cuts gave a truncated-stream error", broken)
	}
	// Not Arrow at all.
	if _, err := NewArrowSource(strings.NewReader("LastName\nSmith\n"), "csv.arrow", ArrowOptions{}); err == nil {
		t.Error("CSV text read as an Arrow stream")
	}
}

// FuzzArrowSource feeds arbitrary record-batch bytes after a valid schema (seeded with real
// batches and their cuts) to ArrowSource: it never panics, every row it returns has one value
// per column, row numbers rise by one, and it ends with io.EOF or an *InputError. (The schema
// message itself is not fuzzed: arrow-go trusts the lengths of its flatbuffer vectors.)
func FuzzArrowSource(f *testing.F) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "Name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "N", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, {Name: "F", Type: arrow.PrimitiveTypes.Float64}}, nil)
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	w.Close()
	head := bytes.Clone(buf.Bytes()[:buf.Len()-8]) // the schema message, without the end marker
	buf.Reset()
	w = ipc.NewWriter(&buf, ipc.WithSchema(schema))
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"a", "", "c"}, []bool{true, false, true})
	b.Field(1).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
	b.Field(2).(*array.Float64Builder).AppendValues([]float64{0.5, math.NaN(), 2}, nil)
	rec := b.NewRecordBatch()
	w.Write(rec)
	w.Close()
	body := bytes.Clone(buf.Bytes()[len(head):])
	f.Add(body)
	f.Add(body[:len(body)/2])
	f.Add([]byte{})
	f.Add(arrowEOS[:])
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := NewArrowSource(io.MultiReader(bytes.NewReader(head), bytes.NewReader(data)), "fuzz.arrow", ArrowOptions{})
		if err != nil {
			t.Fatalf("open a valid schema: %v", err)
		}
		defer src.Release()
		var last int64
		for {
			r, err := src.Next()
			if err == io.EOF {
				return
			}
			var ie *InputError
			if err != nil && !errors.As(err, &ie) {
				t.Fatalf("row %d: %T %v", last+1, err, err)
			}
			if err != nil && !errors.Is(err, ErrValue) {
				return
			}
			if r.Number != last+1 {
				t.Fatalf("row %d after row %d", r.Number, last)
			}
			last = r.Number
			if err == nil && len(r.Values) != len(src.Header()) {
				t.Fatalf("row %d has %d values for %d columns", r.Number, len(r.Values), len(src.Header()))
			}
		}
	})
}
