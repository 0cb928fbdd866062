package sfcsv

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"
)

// Layouts of Salesforce date and datetime values in Bulk API CSV.
const (
	DateLayout     = "2006-01-02"               // date fields: yyyy-MM-dd
	DateTimeLayout = "2006-01-02T15:04:05.000Z" // datetime fields, always UTC: yyyy-MM-ddTHH:mm:ss.SSSZ
)

// Nulls chooses how FormatValue writes a nil value.
type Nulls int

const (
	// NullsAsNA writes nil as "#N/A" (NullValue), which sets the field to null.
	NullsAsNA Nulls = iota
	// NullsAsEmpty writes nil as an empty cell, which leaves the field
	// unchanged on update (and empty on insert).
	NullsAsEmpty
)

// ErrUnsupportedValue means FormatValue got a value it cannot represent.
var ErrUnsupportedValue = errors.New("unsupported value")

// Date is a calendar date without time or zone (a Salesforce date field).
// The zero value is 0000-00-00 and IsZero reports it.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate parses yyyy-MM-dd.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("sfcsv: parse date %q: %w", s, err)
	}
	return DateOf(t), nil
}

// String returns the date as yyyy-MM-dd.
func (d Date) String() string { return string(d.AppendText(nil)) }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// In returns midnight of d in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// AppendText appends yyyy-MM-dd to b.
func (d Date) AppendText(b []byte) []byte {
	b = appendPadded(b, d.Year, 4)
	b = append(b, '-')
	b = appendPadded(b, int(d.Month), 2)
	b = append(b, '-')
	return appendPadded(b, d.Day, 2)
}

// MarshalText implements encoding.TextMarshaler (yyyy-MM-dd).
func (d Date) MarshalText() ([]byte, error) { return d.AppendText(nil), nil }

// UnmarshalText implements encoding.TextUnmarshaler (yyyy-MM-dd).
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func appendPadded(b []byte, v, width int) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// FormatDateTime formats t as a Salesforce datetime in UTC with
// milliseconds: 2024-01-03T23:52:01.000Z.
func FormatDateTime(t time.Time) string { return t.UTC().Format(DateTimeLayout) }

// FormatValue returns the CSV text Salesforce expects for v:
//
//   - nil (and nil pointers): "#N/A" with NullsAsNA, "" with NullsAsEmpty
//   - string: verbatim; []byte: verbatim as UTF-8 text
//   - bool: "true" or "false"
//   - signed and unsigned integers: decimal
//   - float32, float64: shortest decimal without exponent (1e21 is
//     "1000000000000000000000"); NaN and infinities are errors
//   - json.Number: verbatim
//   - time.Time: UTC datetime yyyy-MM-ddTHH:mm:ss.SSSZ
//   - Date: yyyy-MM-dd
//   - encoding.TextMarshaler, fmt.Stringer: their text
//   - pointers to any of these: the pointed-to value
//
// Relationship columns such as Account.External_Id__c need no special
// handling: their values are the parent's external id as a string. Other
// types give an error wrapping ErrUnsupportedValue.
func FormatValue(v any, nulls Nulls) (string, error) {
	switch x := v.(type) {
	case nil:
		return nullText(nulls), nil
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int8:
		return strconv.FormatInt(int64(x), 10), nil
	case int16:
		return strconv.FormatInt(int64(x), 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint8:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint16:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint32:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case float64:
		return formatFloat(x, 64)
	case float32:
		return formatFloat(float64(x), 32)
	case json.Number:
		return string(x), nil
	case time.Time:
		return FormatDateTime(x), nil
	case Date:
		return x.String(), nil
	case *string:
		if x == nil {
			return nullText(nulls), nil
		}
		return *x, nil
	case *time.Time:
		if x == nil {
			return nullText(nulls), nil
		}
		return FormatDateTime(*x), nil
	case *Date:
		if x == nil {
			return nullText(nulls), nil
		}
		return x.String(), nil
	case encoding.TextMarshaler:
		if isNilPointer(v) {
			return nullText(nulls), nil
		}
		b, err := x.MarshalText()
		if err != nil {
			return "", fmt.Errorf("sfcsv: format %T: %w", v, err)
		}
		return string(b), nil
	case fmt.Stringer:
		if isNilPointer(v) {
			return nullText(nulls), nil
		}
		return x.String(), nil
	}
	return formatReflect(v, nulls)
}

func nullText(nulls Nulls) string {
	if nulls == NullsAsEmpty {
		return ""
	}
	return NullValue
}

func formatFloat(f float64, bits int) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("sfcsv: format %v: %w: not a finite number", f, ErrUnsupportedValue)
	}
	return strconv.FormatFloat(f, 'f', -1, bits), nil
}

func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// formatReflect handles pointers and named types with basic underlying kinds.
func formatReflect(v any, nulls Nulls) (string, error) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nullText(nulls), nil
		}
		return FormatValue(rv.Elem().Interface(), nulls)
	case reflect.String:
		return rv.String(), nil
	case reflect.Bool:
		return strconv.FormatBool(rv.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(rv.Uint(), 10), nil
	case reflect.Float32:
		return formatFloat(rv.Float(), 32)
	case reflect.Float64:
		return formatFloat(rv.Float(), 64)
	}
	return "", fmt.Errorf("sfcsv: format %T: %w", v, ErrUnsupportedValue)
}

// AppendValue appends the text FormatValue returns for v to dst. It avoids
// the intermediate string for numbers, booleans, dates and datetimes.
func AppendValue(dst []byte, v any, nulls Nulls) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, nullText(nulls)...), nil
	case string:
		return append(dst, x...), nil
	case []byte:
		return append(dst, x...), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			_, err := formatFloat(x, 64)
			return dst, err
		}
		return strconv.AppendFloat(dst, x, 'f', -1, 64), nil
	case json.Number:
		return append(dst, x...), nil
	case time.Time:
		return x.UTC().AppendFormat(dst, DateTimeLayout), nil
	case Date:
		return x.AppendText(dst), nil
	}
	s, err := FormatValue(v, nulls)
	if err != nil {
		return dst, err
	}
	return append(dst, s...), nil
}
