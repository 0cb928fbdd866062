package salesforce

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// maxRecordDepth bounds nesting in record JSON (parents, subqueries, arrays).
const maxRecordDepth = 256

// recordParser decodes REST record JSON straight from a byte slice into Records, keeping field
// order, numbers as json.Number, and sharing one string per distinct field name across the
// records of a page. It accepts exactly what encoding/json accepts for these values.
type recordParser struct {
	data  []byte
	pos   int
	depth int
	names map[string]string
}

func newRecordParser(data []byte) *recordParser {
	return &recordParser{data: data, names: make(map[string]string)}
}

func (p *recordParser) errorf(format string, args ...any) error {
	return fmt.Errorf("salesforce: malformed record JSON at offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *recordParser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// parseTop decodes one JSON object that must be the whole input.
func (p *recordParser) parseTop() (Record, error) {
	p.skipSpace()
	if p.pos >= len(p.data) || p.data[p.pos] != '{' {
		return Record{}, p.errorf("want an object")
	}
	r, err := p.object()
	if err != nil {
		return Record{}, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return Record{}, p.errorf("data after the object")
	}
	return r, nil
}

func (p *recordParser) value() (any, error) {
	p.skipSpace()
	if p.pos >= len(p.data) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.str(false)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	default:
		return nil, p.errorf("unexpected character %q", c)
	}
}

func (p *recordParser) literal(word string) error {
	if len(p.data)-p.pos < len(word) || string(p.data[p.pos:p.pos+len(word)]) != word {
		return p.errorf("invalid literal")
	}
	p.pos += len(word)
	return nil
}

// object decodes an object at '{'. The "attributes" member becomes the record's attributes.
func (p *recordParser) object() (Record, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxRecordDepth {
		return Record{}, p.errorf("nested too deeply")
	}
	p.pos++ // '{'
	r := Record{values: make(map[string]any, 8)}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return r, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return Record{}, p.errorf("want a field name")
		}
		key, err := p.str(true)
		if err != nil {
			return Record{}, err
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return Record{}, p.errorf("want ':'")
		}
		p.pos++
		v, err := p.value()
		if err != nil {
			return Record{}, err
		}
		if key == "attributes" {
			if a, ok := v.(Record); ok {
				r.attrs.Type, _ = a.values["type"].(string)
				r.attrs.URL, _ = a.values["url"].(string)
			}
		} else {
			if _, dup := r.values[key]; !dup {
				r.keys = append(r.keys, key)
			}
			r.values[key] = v
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return Record{}, p.errorf("unexpected end of input in object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return r, nil
		default:
			return Record{}, p.errorf("want ',' or '}'")
		}
	}
}

func (p *recordParser) array() ([]any, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxRecordDepth {
		return nil, p.errorf("nested too deeply")
	}
	p.pos++ // '['
	list := []any{}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return list, nil
	}
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		list = append(list, v)
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input in array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return list, nil
		default:
			return nil, p.errorf("want ',' or ']'")
		}
	}
}

// str decodes a string at '"'. Plain strings are sliced directly; strings with escapes or
// invalid UTF-8 go through encoding/json so the result is identical to it. Names are interned.
func (p *recordParser) str(name bool) (string, error) {
	start := p.pos
	p.pos++
	simple := true
	for {
		if p.pos >= len(p.data) {
			return "", p.errorf("unterminated string")
		}
		c := p.data[p.pos]
		if c == '"' {
			break
		}
		if c == '\\' {
			simple = false
			p.pos += 2
			continue
		}
		if c < 0x20 {
			return "", p.errorf("control character in string")
		}
		if c >= utf8.RuneSelf {
			simple = false
		}
		p.pos++
	}
	p.pos++ // closing quote
	raw := p.data[start+1 : p.pos-1]
	if !simple && !hasEscape(raw) && utf8.Valid(raw) {
		simple = true
	}
	if simple {
		if name {
			if s, ok := p.names[string(raw)]; ok {
				return s, nil
			}
			s := string(raw)
			p.names[s] = s
			return s, nil
		}
		return string(raw), nil
	}
	var s string
	if err := json.Unmarshal(p.data[start:p.pos], &s); err != nil {
		return "", p.errorf("invalid string: %v", err)
	}
	return s, nil
}

func hasEscape(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// number decodes a JSON number (validated against the JSON grammar) as json.Number.
func (p *recordParser) number() (json.Number, error) {
	start := p.pos
	d := p.data
	i := p.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		p.pos = i
		return "", p.errorf("invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			p.pos = i
			return "", p.errorf("invalid number")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			p.pos = i
			return "", p.errorf("invalid number")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	p.pos = i
	return json.Number(d[start:i]), nil
}
