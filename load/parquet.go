package load

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/sfbatch/sfbatch/sfcsv"
)

// parquetBatchRows is how many rows ParquetSource decodes at a time; memory
// is bounded by this batch, never by the file.
const parquetBatchRows = 256

// ParquetSource reads rows from a Parquet file with a flat schema (one leaf
// column per field; a column named "Account.External_Id__c" is a relationship
// column). Values become Salesforce CSV text: strings as they are, booleans
// as true/false, integers and floats in plain notation, decimals at their
// scale, DATE as yyyy-MM-dd, TIMESTAMP as UTC yyyy-MM-ddTHH:mm:ss.SSSZ, and
// null as "#N/A" (set the field to null). name appears in errors.
func ParquetSource(r io.ReaderAt, size int64, name string) (Source, error) {
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, &InputError{File: name, Err: fmt.Errorf("not a readable Parquet file: %w", err)}
	}
	schema := f.Schema()
	paths := schema.Columns()
	s := &parquetSource{name: name, reader: parquet.NewReader(f, schema), buf: make([]parquet.Row, parquetBatchRows)}
	for _, p := range paths {
		if len(p) != 1 {
			return nil, &InputError{File: name, Column: strings.Join(p, "."), Err: errors.New("nested Parquet columns are not supported; flatten them to one column per field")}
		}
		leaf, _ := schema.Lookup(p...)
		if leaf.MaxRepetitionLevel > 0 {
			return nil, &InputError{File: name, Column: p[0], Err: errors.New("repeated (list) Parquet columns are not supported")}
		}
		s.header = append(s.header, p[0])
		s.formats = append(s.formats, parquetFormatter(leaf.Node))
	}
	if len(s.header) == 0 {
		return nil, &InputError{File: name, Err: errors.New("the Parquet file has no columns")}
	}
	return s, nil
}

type parquetSource struct {
	name    string
	reader  *parquet.Reader
	header  []string
	formats []func(parquet.Value) (string, bool)
	buf     []parquet.Row
	pending []parquet.Row
	rows    int64
	done    bool
}

// Header returns the column names in schema order.
func (s *parquetSource) Header() []string { return s.header }

// Name returns the input name given to ParquetSource.
func (s *parquetSource) Name() string { return s.name }

// Next returns the next row.
func (s *parquetSource) Next() (Row, error) {
	if len(s.pending) == 0 {
		if s.done {
			return Row{}, io.EOF
		}
		n, err := s.reader.ReadRows(s.buf)
		if err != nil && !errors.Is(err, io.EOF) {
			// A page that cannot be decoded leaves no way to find the rows after it.
			return Row{}, &InputError{File: s.name, Row: s.rows + 1, Err: fmt.Errorf("reading Parquet: %w", err), Structural: true}
		}
		if err != nil || n == 0 {
			s.done = true
		}
		if n == 0 {
			return Row{}, io.EOF
		}
		s.pending = s.buf[:n]
	}
	pr := s.pending[0]
	s.pending = s.pending[1:]
	s.rows++
	vals := make([]string, len(s.header))
	var bad *InputError
	for _, v := range pr {
		c := v.Column()
		if c < 0 || c >= len(vals) {
			continue
		}
		if t, ok := s.formats[c](v); ok {
			vals[c] = t
		} else if bad == nil {
			bad = &InputError{File: s.name, Row: s.rows, Column: s.header[c],
				Err: fmt.Errorf("value %v cannot be converted to a Salesforce value", v)}
		}
	}
	if bad != nil {
		bad.Values = vals
		return Row{}, bad
	}
	return Row{Number: s.rows, Values: vals}, nil
}

// parquetFormatter returns the function that turns one column's values into
// Salesforce CSV text, from the column's physical and logical type. It reports
// false for a value Salesforce cannot take (a NaN or infinite number).
func parquetFormatter(n parquet.Node) func(parquet.Value) (string, bool) {
	var lt format.LogicalTypeValue
	if l := n.Type().LogicalType(); l != nil {
		lt = l.Value
	}
	null := func(f func(parquet.Value) string) func(parquet.Value) (string, bool) {
		return func(v parquet.Value) (string, bool) {
			if v.IsNull() {
				return sfcsv.NullValue, true
			}
			switch v.Kind() {
			case parquet.Float:
				if f := float64(v.Float()); math.IsNaN(f) || math.IsInf(f, 0) {
					return "", false
				}
			case parquet.Double:
				if f := v.Double(); math.IsNaN(f) || math.IsInf(f, 0) {
					return "", false
				}
			}
			return f(v), true
		}
	}
	switch t := lt.(type) {
	case *format.DateType:
		return null(func(v parquet.Value) string {
			return time.Unix(int64(v.Int32())*86400, 0).UTC().Format("2006-01-02")
		})
	case *format.TimestampType:
		unit := time.Millisecond
		switch t.Unit.Value.(type) {
		case *format.MicroSeconds:
			unit = time.Microsecond
		case *format.NanoSeconds:
			unit = time.Nanosecond
		}
		return null(func(v parquet.Value) string {
			ts := time.Unix(0, 0).Add(time.Duration(v.Int64()) * unit)
			return ts.UTC().Format("2006-01-02T15:04:05.000Z")
		})
	case *format.DecimalType:
		scale := int(t.Scale)
		return null(func(v parquet.Value) string {
			var unscaled big.Int
			switch v.Kind() {
			case parquet.Int32:
				unscaled.SetInt64(int64(v.Int32()))
			case parquet.Int64:
				unscaled.SetInt64(v.Int64())
			default:
				b := v.ByteArray()
				unscaled.SetBytes(b)
				if len(b) > 0 && b[0]&0x80 != 0 { // two's complement
					unscaled.Sub(&unscaled, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
				}
			}
			return decimalText(&unscaled, scale)
		})
	}
	return null(func(v parquet.Value) string {
		switch v.Kind() {
		case parquet.Boolean:
			return strconv.FormatBool(v.Boolean())
		case parquet.Int32:
			return strconv.FormatInt(int64(v.Int32()), 10)
		case parquet.Int64:
			return strconv.FormatInt(v.Int64(), 10)
		case parquet.Float:
			return strconv.FormatFloat(float64(v.Float()), 'f', -1, 32)
		case parquet.Double:
			return strconv.FormatFloat(v.Double(), 'f', -1, 64)
		default:
			return string(v.ByteArray())
		}
	})
}

// decimalText formats unscaled × 10^-scale exactly.
func decimalText(unscaled *big.Int, scale int) string {
	s := new(big.Int).Abs(unscaled).String()
	neg := unscaled.Sign() < 0
	if scale > 0 {
		for len(s) <= scale {
			s = "0" + s
		}
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
