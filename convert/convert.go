package convert

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sfbatch/sfbatch/sfcsv"
)

// Kind is what a column holds.
type Kind string

// The kinds of conversion.
const (
	Date     Kind = "date"     // to YYYY-MM-DD
	DateTime Kind = "datetime" // to YYYY-MM-DDTHH:mm:ss.SSSZ in UTC
	Boolean  Kind = "boolean"  // yes/no, y/n, 1/0, true/false, on/off to true/false
	Number   Kind = "number"   // locale separators to a plain decimal
)

// Salesforce's text forms.
const (
	dateOut     = "2006-01-02"
	dateTimeOut = "2006-01-02T15:04:05.000Z"
)

// ErrConvert is wrapped by every error a Rule returns for a value it cannot convert.
var ErrConvert = errors.New("value cannot be converted")

// Rule says how to convert one column. The zero Rule of a kind reads Salesforce's own
// form (ISO dates, ISO date-times, true/false, plain decimals). A Rule is safe for
// concurrent use once compiled.
type Rule struct {
	Kind Kind
	// Format is the input format of a date or date-time (see the package doc). Empty means
	// ISO 8601 (YYYY-MM-DD; date-times YYYY-MM-DDTHH:mm:ss with optional fraction and zone).
	Format string
	// Zone is the zone of a date-time without one. Nil means UTC.
	Zone *time.Location
	// Pivot accepts two-digit years, mapped into [Pivot, Pivot+99]. Zero refuses them.
	Pivot int
	// Decimal is a number's decimal separator, '.' or ','; the other one (and spaces,
	// apostrophes and no-break spaces) groups digits. Zero means '.'.
	Decimal rune
	// Nulls are values that mean an explicit null (#N/A), compared case-insensitively.
	Nulls []string

	layout  string // Go layout of Format
	twoYear bool   // Format has YY but not YYYY
}

var isoDateTimeLayouts = []string{
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
}

// Compile checks the rule and prepares its layout. Convert compiles on first use too, but
// Compile reports a bad rule before any row is read.
func (r *Rule) Compile() error {
	switch r.Kind {
	case Date, DateTime:
		if r.Format == "" {
			return nil
		}
		layout, two, err := Layout(r.Format)
		if err != nil {
			return err
		}
		if two && r.Pivot == 0 {
			return fmt.Errorf("convert: format %q has a two-digit year: set a pivot year to accept it", r.Format)
		}
		r.layout, r.twoYear = layout, two
	case Boolean:
	case Number:
		if r.Decimal != 0 && r.Decimal != '.' && r.Decimal != ',' {
			return fmt.Errorf("convert: decimal separator %q is not '.' or ','", r.Decimal)
		}
	default:
		return fmt.Errorf("convert: unknown kind %q (date, datetime, boolean, number)", r.Kind)
	}
	return nil
}

// Expected describes the input the rule accepts, for error messages.
func (r *Rule) Expected() string {
	switch r.Kind {
	case Date:
		return "a date in format " + cmpOr(r.Format, "YYYY-MM-DD")
	case DateTime:
		return "a date-time in format " + cmpOr(r.Format, "YYYY-MM-DDTHH:mm:ss[.SSS][Z]")
	case Boolean:
		return "a boolean (true/false, yes/no, y/n, 1/0, on/off)"
	case Number:
		if r.Decimal == ',' {
			return "a number with ',' as decimal separator (1.234,56)"
		}
		return "a number with '.' as decimal separator (1,234.56)"
	}
	return string(r.Kind)
}

// Convert returns v as Salesforce expects it, or an error wrapping ErrConvert.
func (r *Rule) Convert(v string) (string, error) {
	s := strings.TrimSpace(v)
	if s == "" || s == sfcsv.NullValue {
		return s, nil
	}
	for _, n := range r.Nulls {
		if strings.EqualFold(s, n) {
			return sfcsv.NullValue, nil
		}
	}
	if r.layout == "" && r.Format != "" {
		if err := r.Compile(); err != nil {
			return "", err
		}
	}
	var out string
	var ok bool
	switch r.Kind {
	case Date:
		out, ok = r.date(s)
	case DateTime:
		out, ok = r.dateTime(s)
	case Boolean:
		out, ok = boolean(s)
	case Number:
		out, ok = r.number(s)
	default:
		return "", fmt.Errorf("convert: unknown kind %q", r.Kind)
	}
	if !ok {
		return "", &valueError{fmt.Sprintf("%q is not %s", v, r.Expected())}
	}
	return out, nil
}

// valueError is a value a Rule cannot convert; it matches ErrConvert.
type valueError struct{ msg string }

func (e *valueError) Error() string        { return e.msg }
func (e *valueError) Is(target error) bool { return target == ErrConvert }

func (r *Rule) date(s string) (string, bool) {
	layout := cmpOr(r.layout, dateOut)
	t, err := time.Parse(layout, s)
	if err != nil {
		return "", false
	}
	if t, ok := r.fixYear(t); ok {
		return t.Format(dateOut), true
	}
	return "", false
}

func (r *Rule) dateTime(s string) (string, bool) {
	layouts := isoDateTimeLayouts
	if r.layout != "" {
		layouts = []string{r.layout}
	}
	for _, layout := range layouts {
		hasZone := strings.Contains(layout, "Z07")
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		t, ok := r.fixYear(t)
		if !ok {
			return "", false
		}
		if !hasZone {
			t = Local(t, r.Zone)
		}
		return t.UTC().Format(dateTimeOut), true
	}
	return "", false
}

// fixYear applies the pivot to a two-digit year (time.Parse reads 69-99 as 19xx, 00-68 as 20xx).
func (r *Rule) fixYear(t time.Time) (time.Time, bool) {
	if !r.twoYear {
		return t, true
	}
	yy := t.Year() % 100
	century := r.Pivot / 100 * 100
	y := century + yy
	if y < r.Pivot {
		y += 100
	}
	return time.Date(y, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location()), true
}

// Local returns the instant at which clocks in loc show the wall time of t (its fields read
// as if in UTC). A wall time in a gap is moved forward by the gap; one in an overlap is the
// earlier instant. A nil loc is UTC.
func Local(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	naive := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	_, before := naive.Add(-24 * time.Hour).In(loc).Zone()
	_, after := naive.Add(24 * time.Hour).In(loc).Zone()
	var found []time.Time
	for _, off := range []int{before, after} {
		inst := naive.Add(-time.Duration(off) * time.Second)
		w := inst.In(loc)
		if w.Year() == naive.Year() && w.YearDay() == naive.YearDay() && w.Hour() == naive.Hour() && w.Minute() == naive.Minute() && w.Second() == naive.Second() {
			found = append(found, inst)
		}
	}
	switch {
	case len(found) == 0: // gap: read with the offset in force before it, which moves it forward
		return naive.Add(-time.Duration(before) * time.Second).In(loc)
	case len(found) == 2 && found[1].Before(found[0]):
		return found[1].In(loc)
	}
	return found[0].In(loc)
}

func boolean(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "y", "1", "on", "t":
		return "true", true
	case "false", "no", "n", "0", "off", "f":
		return "false", true
	}
	return "", false
}

var plainNumber = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

func (r *Rule) number(s string) (string, bool) {
	dec, group := '.', ','
	if r.Decimal == ',' {
		dec, group = ',', '.'
	}
	if strings.Count(s, string(dec)) > 1 {
		return "", false
	}
	var b strings.Builder
	for i, c := range s {
		switch c {
		case group, ' ', '\'', '\u00a0', '\u202f':
			// Grouping must sit between digits.
			if i == 0 || i == len(s)-1 {
				return "", false
			}
			continue
		case dec:
			b.WriteByte('.')
		default:
			b.WriteRune(c)
		}
	}
	out := b.String()
	if !plainNumber.MatchString(out) {
		return "", false
	}
	if _, err := strconv.ParseFloat(out, 64); err != nil {
		return "", false
	}
	return out, true
}

// Layout turns a format written with YYYY, MM, DD, HH, mm, ss, SSS, Z (see the package doc)
// into a Go layout, and reports whether its year has two digits only.
func Layout(format string) (layout string, twoDigitYear bool, err error) {
	if strings.Contains(format, "2006") {
		return format, false, nil
	}
	tokens := []struct{ tok, go_ string }{
		{"YYYY", "2006"}, {"YY", "06"}, {"MM", "01"}, {"M", "1"}, {"DD", "02"}, {"D", "2"},
		{"HH", "15"}, {"H", "15"}, {"mm", "04"}, {"ss", "05"}, {"SSS", "000"}, {"Z", "Z07:00"},
	}
	var b strings.Builder
	year, two := false, false
	for i := 0; i < len(format); {
		matched := false
		for _, t := range tokens {
			if strings.HasPrefix(format[i:], t.tok) {
				switch t.tok {
				case "YYYY":
					year = true
				case "YY":
					year, two = true, true
				}
				b.WriteString(t.go_)
				i += len(t.tok)
				matched = true
				break
			}
		}
		if !matched {
			c := format[i]
			if strings.IndexByte("0123456789", c) >= 0 {
				return "", false, fmt.Errorf("convert: format %q: digits are not allowed as literals", format)
			}
			b.WriteByte(c)
			i++
		}
	}
	if !year && strings.ContainsAny(format, "DM") {
		return "", false, fmt.Errorf("convert: format %q has no year (YYYY)", format)
	}
	return b.String(), two, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
