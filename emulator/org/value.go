package org

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Stored values are typed by field type:
//
//	id, reference, string, textarea, email, phone, url, picklist, multipicklist: string
//	boolean: bool
//	int, double, currency, percent: float64
//	date: Date
//	datetime: time.Time (UTC, millisecond precision)
//
// and nil for null.

// Date is the value of a date field: a calendar day, held as midnight UTC.
type Date struct{ time.Time }

// String returns the date as yyyy-MM-dd.
func (d Date) String() string { return d.Format("2006-01-02") }

// MarshalJSON encodes the date as "yyyy-MM-dd".
func (d Date) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

// toText converts a JSON-shaped input value to the text Salesforce would
// receive in CSV: strings as they are, numbers in plain notation, booleans as
// true/false.
func toText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case *string:
		return *x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z"), true
	case Date:
		return x.String(), true
	}
	return "", false
}

// convertInput converts an input value for field f to its stored form. nil
// and "" mean null.
func convertInput(f *Field, v any) (any, *Error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case *string:
		// A string the caller has not boxed (WriteRequest.Values): kept as
		// it is while the value is unchanged, so it is never boxed.
		if *x != "" && isText(f) {
			t, e := convertText(f, *x)
			switch {
			case e != nil:
				return nil, e
			case t == "":
				return nil, nil
			case t == *x:
				return v, nil
			}
			return t, nil
		}
		return convertInput(f, *x)
	case string:
		if x != "" && isText(f) {
			t, e := convertText(f, x)
			switch {
			case e != nil:
				return nil, e
			case t == "":
				return nil, nil
			case t == x:
				return v, nil // keep the caller's boxed string: no allocation
			}
			return t, nil
		}
		cv, e := convertValue(f, x)
		if s, ok := cv.(string); ok && len(s) == len(x) && s == x {
			return v, nil // keep the caller's boxed string: no allocation
		}
		return cv, e
	case bool:
		if f.Type == TypeBoolean {
			return x, nil
		}
	case float64:
		switch f.Type {
		case TypeDouble, TypeCurrency, TypePercent:
			return checkRange(f, x, v)
		case TypeInt:
			if x == math.Trunc(x) {
				return checkRange(f, x, v)
			}
		}
	case time.Time:
		if f.Type == TypeDateTime {
			return x.UTC().Truncate(time.Millisecond), nil
		}
	case Date:
		if f.Type == TypeDate {
			return x, nil
		}
	}
	s, ok := toText(v)
	if !ok {
		return nil, errInvalidType(f, fmt.Sprint(v))
	}
	return convertValue(f, s)
}

// textValue returns v when it is a string, or the string it points to
// (convertInput keeps a *string value as it is until the record is packed).
func textValue(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case *string:
		return *x, true
	}
	return "", false
}

// convertValue converts text (CSV form) to the stored value of field f.
func convertValue(f *Field, s string) (any, *Error) {
	if s == "" {
		return nil, nil
	}
	switch f.Type {
	case TypeBoolean:
		switch strings.ToLower(s) {
		case "true", "1", "yes":
			return true, nil
		case "false", "0", "no":
			return false, nil
		}
		return nil, errInvalidType(f, s)
	case TypeInt:
		n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || n != math.Trunc(n) || math.IsInf(n, 0) || math.IsNaN(n) {
			return nil, errInvalidType(f, s)
		}
		return checkRange(f, n, nil)
	case TypeDouble, TypeCurrency, TypePercent:
		n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
			return nil, errInvalidType(f, s)
		}
		return checkRange(f, n, nil)
	case TypeDate:
		d, ok := parseDate(s)
		if !ok {
			return nil, errInvalidType(f, s)
		}
		return d, nil
	case TypeDateTime:
		t, ok := parseDateTime(s)
		if !ok {
			return nil, errInvalidType(f, s)
		}
		return t, nil
	case TypeID, TypeReference:
		return s, nil // checked by the caller, which knows the target objects
	}
	t, e := convertText(f, s)
	if e != nil || t == "" {
		return nil, e
	}
	return t, nil
}

// isText reports whether convertValue treats f's values as text.
func isText(f *Field) bool {
	switch f.Type {
	case TypeBoolean, TypeInt, TypeDouble, TypeCurrency, TypePercent, TypeDate, TypeDateTime, TypeID, TypeReference:
		return false
	}
	return true
}

// convertText checks a non-empty value of a text field and returns its
// canonical form ("" for a multipicklist that names no value).
func convertText(f *Field, s string) (string, *Error) {
	if f.Length > 0 && len(s) > f.Length && utf8.RuneCountInString(s) > f.Length {
		return "", newErr(CodeStringTooLong, fmt.Sprintf("%s: data value too large: %s (max length=%d)", f.Label, s, f.Length), f.Name)
	}
	switch f.Type {
	case TypeEmail:
		if !validEmail(s) {
			return "", newErr(CodeInvalidEmail, fmt.Sprintf("%s: invalid email address: %s", f.Label, s), f.Name)
		}
	case TypePicklist:
		// Salesforce matches a picklist value without regard to case and keeps the
		// picklist's spelling, restricted or not; only a restricted one refuses others.
		if canon, ok := pickValue(f, s); ok {
			return canon, nil
		}
		if f.RestrictedPicklist {
			return "", newErr(CodeRestrictedPicklist, fmt.Sprintf("%s: bad value for restricted picklist field: %s", f.Label, s), f.Name)
		}
	case TypeMultiPicklist:
		parts := strings.Split(s, ";")
		out := parts[:0]
		for _, p := range parts {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			if canon, ok := pickValue(f, p); ok {
				p = canon
			} else if f.RestrictedPicklist {
				return "", newErr(CodeRestrictedPicklist, fmt.Sprintf("%s: bad value for restricted picklist field: %s", f.Label, p), f.Name)
			}
			out = append(out, p)
		}
		if len(out) == 0 {
			return "", nil
		}
		return strings.Join(out, ";"), nil
	}
	return s, nil
}

// checkRange rejects numbers with more integer digits than the field's
// precision minus scale allows. boxed, when not nil, is n already boxed.
func checkRange(f *Field, n float64, boxed any) (any, *Error) {
	if digits := f.Precision - f.Scale; digits > 0 && digits < 19 && math.Abs(n) >= math.Pow10(digits) {
		return nil, newErr(CodeNumberOutsideValidRange, fmt.Sprintf("%s: value outside of valid range on numeric field: %s", f.Label, strconv.FormatFloat(n, 'f', -1, 64)), f.Name)
	}
	if boxed != nil {
		return boxed, nil
	}
	return n, nil
}

func pickValue(f *Field, s string) (string, bool) {
	for _, v := range f.PicklistValues {
		if strings.EqualFold(v, s) {
			return v, true
		}
	}
	return "", false
}

func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || hasEmailSpecial(s) || strings.Contains(domain, "@") {
		return false
	}
	dot := strings.LastIndexByte(domain, '.')
	return dot > 0 && dot < len(domain)-1 && !strings.Contains(domain, "..")
}

// hasEmailSpecial reports whether s holds a character an address may not
// (white space, or one of ,;<>()[]\"), byte by byte: every one is ASCII.
func hasEmailSpecial(s string) bool {
	// The bytes below 64 and from 64 to 127 that are special, as bit sets.
	const (
		low  uint64 = 1<<' ' | 1<<'\t' | 1<<'\r' | 1<<'\n' | 1<<',' | 1<<';' | 1<<'<' | 1<<'>' | 1<<'(' | 1<<')' | 1<<'"'
		high uint64 = 1<<('['-64) | 1<<(']'-64) | 1<<('\\'-64)
	)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 64:
			if low>>c&1 != 0 {
				return true
			}
		case c < 128:
			if high>>(c-64)&1 != 0 {
				return true
			}
		}
	}
	return false
}

// parseDate accepts yyyy-MM-dd, optionally followed by Z, an offset
// (+HH:MM or +HHmm) or a time part (the date as written is kept).
func parseDate(s string) (Date, bool) {
	if len(s) < 10 {
		return Date{}, false
	}
	t, err := time.Parse("2006-01-02", s[:10])
	if err != nil {
		return Date{}, false
	}
	rest := s[10:]
	switch {
	case rest == "" || rest == "Z":
	case rest[0] == 'T':
		if _, ok := parseDateTime(s); !ok {
			return Date{}, false
		}
	case rest[0] == '+' || rest[0] == '-':
		if !validOffset(rest) {
			return Date{}, false
		}
	default:
		return Date{}, false
	}
	return Date{t}, true
}

func validOffset(s string) bool {
	s = s[1:]
	if len(s) == 5 && s[2] == ':' {
		s = s[:2] + s[3:]
	}
	if len(s) != 4 && len(s) != 2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseDateTime accepts the datetime forms of protocol reference §0.6;
// without a zone the time is UTC.
func parseDateTime(s string) (time.Time, bool) {
	layouts := [...]string{
		"2006-01-02T15:04:05.999999999Z07:00",
		"2006-01-02T15:04:05.999999999Z0700",
		"2006-01-02T15:04:05.999999999Z07",
		"2006-01-02T15:04:05.999999999",
		"2006-01-02T15:04Z07:00",
		"2006-01-02T15:04",
		"2006-01-02",
		"2006-01-02Z07:00",
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC().Truncate(time.Millisecond), true
		}
	}
	return time.Time{}, false
}

// FormatCSV returns v (a stored or Values value) as Bulk CSV text: empty
// for null, datetimes as 2024-01-03T23:52:01.000Z, dates as yyyy-MM-dd,
// numbers in plain notation, booleans as true/false.
func FormatCSV(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	case Date:
		return x.String()
	}
	s, _ := toText(v)
	return s
}

// jsonValue returns v in the shape REST records use: datetimes as
// 2024-01-03T23:52:01.000+0000 strings, dates as yyyy-MM-dd strings.
func jsonValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000-0700")
	case Date:
		return x.String()
	}
	return v
}
