package rest

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/emulator/wire"
)

// recordEncoder writes records as Salesforce does: "attributes" first, then
// the fields in a given order (describe order or SELECT order), with the
// attribute URLs in the caller's API version.
type recordEncoder struct {
	urlFrom, urlTo string // attribute url prefix rewrite
}

func newRecordEncoder(ver string) recordEncoder {
	return recordEncoder{
		urlFrom: "/services/data/v" + org.DefaultAPIVersion + "/",
		urlTo:   "/services/data/v" + ver + "/",
	}
}

// appendRecord appends rec as a JSON object. order lists keys to write
// first, in that order; remaining keys follow sorted.
func (e recordEncoder) appendRecord(b []byte, rec map[string]any, order []string) []byte {
	b = append(b, '{')
	first := true
	key := func(k string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, k)
		b = append(b, ':')
	}
	if a, ok := rec["attributes"]; ok {
		key("attributes")
		b = e.appendAttributes(b, a)
	}
	done := make(map[string]bool, len(order))
	for _, k := range order {
		if i := strings.IndexByte(k, '.'); i >= 0 {
			k = k[:i]
		}
		v, ok := rec[k]
		if !ok {
			for rk, rv := range rec {
				if strings.EqualFold(rk, k) {
					k, v, ok = rk, rv, true
					break
				}
			}
		}
		if !ok || done[k] || k == "attributes" {
			continue
		}
		done[k] = true
		key(k)
		b = e.appendValue(b, v, childOrder(order, k))
	}
	seen := len(done)
	if _, ok := rec["attributes"]; ok {
		seen++
	}
	if seen < len(rec) {
		rest := make([]string, 0, len(rec)-len(done))
		for k := range rec {
			if !done[k] && k != "attributes" {
				rest = append(rest, k)
			}
		}
		slices.Sort(rest)
		for _, k := range rest {
			key(k)
			b = e.appendValue(b, rec[k], nil)
		}
	}
	return append(b, '}')
}

// childOrder returns the keys under prefix "k." in order, for nested
// parent records.
func childOrder(order []string, k string) []string {
	var out []string
	for _, o := range order {
		if len(o) > len(k)+1 && o[len(k)] == '.' && strings.EqualFold(o[:len(k)], k) {
			out = append(out, o[len(k)+1:])
		}
	}
	return out
}

func (e recordEncoder) appendAttributes(b []byte, a any) []byte {
	m, ok := a.(map[string]any)
	if !ok {
		return e.appendValue(b, a, nil)
	}
	b = append(b, '{')
	first := true
	for _, k := range []string{"type", "url"} {
		v, ok := m[k]
		if !ok {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, k)
		b = append(b, ':')
		if s, ok := v.(string); ok && k == "url" && e.urlFrom != e.urlTo && strings.HasPrefix(s, e.urlFrom) {
			v = e.urlTo + s[len(e.urlFrom):]
		}
		b = e.appendValue(b, v, nil)
	}
	return append(b, '}')
}

// appendValue appends one JSON value.
func (e recordEncoder) appendValue(b []byte, v any, order []string) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return append(b, "null"...)
		}
		return strconv.AppendFloat(b, x, 'f', -1, 64)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case time.Time:
		return appendString(b, wire.FormatDateTime(x))
	case map[string]any:
		return e.appendRecord(b, x, order)
	case []any:
		b = append(b, '[')
		for i, it := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.appendValue(b, it, order)
		}
		return append(b, ']')
	}
	j, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, j...)
}

// appendString appends s as a JSON string (no HTML escaping).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, `\u00`...)
				b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, "0123456789abcdef"[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// describeOrder is the field order of an object's describe.
func describeOrder(ob *org.Object) []string {
	out := make([]string, len(ob.Fields))
	for i, f := range ob.Fields {
		out[i] = f.Name
	}
	return out
}
