package sfcsv_test

import (
	"encoding/json"
	"errors"
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/sfcsv"
)

type myString string
type myInt int16

func TestFormatValue(t *testing.T) {
	t.Parallel()
	str := "hello"
	var nilStr *string
	var nilTime *time.Time
	n := 42
	ts := time.Date(2024, 1, 3, 23, 52, 1, 7_000_000, time.FixedZone("x", -5*3600))
	tests := []struct {
		name  string
		v     any
		nulls sfcsv.Nulls
		want  string
	}{
		{"nil as NA", nil, sfcsv.NullsAsNA, "#N/A"},
		{"nil as empty", nil, sfcsv.NullsAsEmpty, ""},
		{"nil pointer as NA", nilStr, sfcsv.NullsAsNA, "#N/A"},
		{"nil time pointer empty", nilTime, sfcsv.NullsAsEmpty, ""},
		{"string", "a, \"b\"", 0, "a, \"b\""},
		{"empty string is not null", "", sfcsv.NullsAsNA, ""},
		{"string pointer", &str, 0, "hello"},
		{"bytes", []byte("raw"), 0, "raw"},
		{"true", true, 0, "true"},
		{"false", false, 0, "false"},
		{"int", -17, 0, "-17"},
		{"int pointer", &n, 0, "42"},
		{"int64", int64(math.MaxInt64), 0, "9223372036854775807"},
		{"uint64", uint64(math.MaxUint64), 0, "18446744073709551615"},
		{"uint8", uint8(7), 0, "7"},
		{"float", 3.25, 0, "3.25"},
		{"float no exponent large", 1e21, 0, "1000000000000000000000"},
		{"float no exponent small", 0.000001, 0, "0.000001"},
		{"float shortest", 0.1, 0, "0.1"},
		{"float32", float32(0.1), 0, "0.1"},
		{"negative zero", math.Copysign(0, -1), 0, "-0"},
		{"json number", json.Number("1.5e3"), 0, "1.5e3"},
		{"datetime utc millis", ts, 0, "2024-01-04T04:52:01.007Z"},
		{"datetime pointer", &ts, 0, "2024-01-04T04:52:01.007Z"},
		{"date", sfcsv.Date{Year: 1990, Month: time.January, Day: 31}, 0, "1990-01-31"},
		{"date padded", sfcsv.Date{Year: 33, Month: 2, Day: 3}, 0, "0033-02-03"},
		{"date pointer", &sfcsv.Date{Year: 2000, Month: 2, Day: 29}, 0, "2000-02-29"},
		{"named string", myString("x"), 0, "x"},
		{"named int", myInt(-3), 0, "-3"},
		{"text marshaler", netip.MustParseAddr("10.0.0.1"), 0, "10.0.0.1"},
		{"stringer", time.Duration(90 * time.Second), 0, "1m30s"},
		{"relationship value", "EXT-001", 0, "EXT-001"},
	}
	for _, tt := range tests {
		got, err := sfcsv.FormatValue(tt.v, tt.nulls)
		if err != nil || got != tt.want {
			t.Errorf("%s: FormatValue(%#v) = %q, %v; want %q", tt.name, tt.v, got, err, tt.want)
		}
		b, err := sfcsv.AppendValue([]byte("x"), tt.v, tt.nulls)
		if err != nil || string(b) != "x"+tt.want {
			t.Errorf("%s: AppendValue(%#v) = %q, %v; want %q", tt.name, tt.v, b, err, "x"+tt.want)
		}
	}
}

func TestFormatValueErrors(t *testing.T) {
	t.Parallel()
	for _, v := range []any{math.NaN(), math.Inf(1), float32(math.Inf(-1)), struct{}{}, []int{1}, map[string]int{}} {
		if got, err := sfcsv.FormatValue(v, 0); !errors.Is(err, sfcsv.ErrUnsupportedValue) {
			t.Errorf("FormatValue(%#v) = %q, %v; want ErrUnsupportedValue", v, got, err)
		}
		if got, err := sfcsv.AppendValue(nil, v, 0); !errors.Is(err, sfcsv.ErrUnsupportedValue) {
			t.Errorf("AppendValue(%#v) = %q, %v; want ErrUnsupportedValue", v, got, err)
		}
	}
}

func TestDate(t *testing.T) {
	t.Parallel()
	d, err := sfcsv.ParseDate("2024-02-29")
	if err != nil || d != (sfcsv.Date{Year: 2024, Month: time.February, Day: 29}) {
		t.Fatalf("ParseDate = %v, %v", d, err)
	}
	if _, err := sfcsv.ParseDate("2023-02-29"); err == nil {
		t.Error("ParseDate accepted 2023-02-29")
	}
	if got := sfcsv.DateOf(time.Date(2020, 5, 6, 23, 0, 0, 0, time.UTC)); got.String() != "2020-05-06" {
		t.Errorf("DateOf = %v", got)
	}
	var u sfcsv.Date
	if err := u.UnmarshalText([]byte("1999-12-31")); err != nil || u.String() != "1999-12-31" {
		t.Errorf("UnmarshalText = %v, %v", u, err)
	}
	if !(sfcsv.Date{}).IsZero() || d.IsZero() {
		t.Error("IsZero")
	}
	if got := d.In(time.UTC); !got.Equal(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("In = %v", got)
	}
}

func TestAppendValueNoAllocs(t *testing.T) {
	buf := make([]byte, 0, 64)
	vals := []any{int64(42), 3.25, true, time.Date(2024, 1, 3, 23, 52, 1, 0, time.UTC), sfcsv.Date{Year: 2024, Month: 1, Day: 3}, "s"}
	for _, v := range vals {
		if n := testing.AllocsPerRun(50, func() { buf, _ = sfcsv.AppendValue(buf[:0], v, 0) }); n != 0 {
			t.Errorf("AppendValue(%T) allocates %v times", v, n)
		}
	}
}
