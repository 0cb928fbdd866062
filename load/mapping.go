package load

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Mapping renames, duplicates and adds columns between an input file and the
// fields of a Salesforce object, in the style of Data Loader's .sdl mapping
// files:
//
//	# comment
//	FIRST_NAME=FirstName
//	EMAIL=Email, Username__c        one source column to several fields
//	"Web"=LeadSource                 a constant value for every row
//	LEGACY_ID=                       explicitly unmapped (dropped)
//
// Keys may escape '=', ':' and spaces with a backslash, as in a properties
// file. Source column names match case-insensitively. Input columns the
// mapping does not name are dropped, as Data Loader does. A Mapping is safe
// for concurrent use once built.
type Mapping struct {
	entries []mappingEntry
}

type mappingEntry struct {
	source   string // input column; "" for a constant
	constant string
	isConst  bool
	targets  []string
	where    string // "file:line" or "--map value", for errors
}

// ParseMapping reads a .sdl mapping file. name is used in errors.
func ParseMapping(r io.Reader, name string) (*Mapping, error) {
	m := &Mapping{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if line == 1 {
			text = strings.TrimPrefix(text, "\uFEFF")
		}
		if text == "" || text[0] == '#' || text[0] == '!' {
			continue
		}
		if err := m.add(text, fmt.Sprintf("%s:%d", name, line)); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("load: reading mapping %s: %w", name, err)
	}
	return m, nil
}

// Add adds one "source=Target[, Target2]" or "\"constant\"=Target" entry,
// as given to the CLI's --map flag.
func (m *Mapping) Add(spec string) error {
	return m.add(strings.TrimSpace(spec), fmt.Sprintf("mapping %q", spec))
}

// MappingError reports a malformed mapping entry or one that does not fit
// the input.
type MappingError struct {
	Where string // "file.sdl:3" or "mapping \"a=b\""
	Err   error
}

// Error names where the entry came from.
func (e *MappingError) Error() string { return "load: " + e.Where + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *MappingError) Unwrap() error { return e.Err }

func (m *Mapping) add(text, where string) error {
	key, value, ok := splitProperty(text)
	if !ok {
		return &MappingError{Where: where, Err: errors.New(`expected "source=Target"`)}
	}
	e := mappingEntry{where: where}
	if len(key) >= 2 && key[0] == '"' && key[len(key)-1] == '"' {
		e.isConst = true
		e.constant = key[1 : len(key)-1]
	} else {
		e.source = key
		if key == "" {
			return &MappingError{Where: where, Err: errors.New("empty source column")}
		}
	}
	for _, t := range strings.Split(value, ",") {
		if t = strings.TrimSpace(t); t != "" {
			e.targets = append(e.targets, t)
		}
	}
	if e.isConst && len(e.targets) == 0 {
		return &MappingError{Where: where, Err: errors.New("a constant needs a target field")}
	}
	m.entries = append(m.entries, e)
	return nil
}

// splitProperty splits a properties-file line at its first unescaped '=' or
// ':' and unescapes the key.
func splitProperty(s string) (key, value string, ok bool) {
	var b strings.Builder
	inQuote := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == '"':
			inQuote = !inQuote
			b.WriteByte(c)
		case (c == '=' || c == ':') && !inQuote:
			return strings.TrimSpace(b.String()), strings.TrimSpace(s[i+1:]), true
		default:
			b.WriteByte(c)
		}
	}
	return "", "", false
}

// Targets returns the header the mapping produces for an input header, or a
// *MappingError when an entry names a column the input does not have or two
// entries map to the same field.
func (m *Mapping) Targets(inputHeader []string) ([]string, error) {
	_, header, err := m.plan(inputHeader)
	return header, err
}

// cell says where one output column's value comes from.
type cell struct {
	from     int // input column index, or -1 for a constant
	constant string
}

func (m *Mapping) plan(in []string) ([]cell, []string, error) {
	index := make(map[string]int, len(in))
	for i, h := range in {
		index[strings.ToLower(strings.TrimSpace(h))] = i
	}
	var cells []cell
	var header []string
	seen := map[string]string{}
	for _, e := range m.entries {
		c := cell{from: -1, constant: e.constant}
		if !e.isConst {
			i, ok := index[strings.ToLower(e.source)]
			if !ok {
				return nil, nil, &MappingError{Where: e.where, Err: fmt.Errorf("the input has no column %q", e.source)}
			}
			c.from = i
		}
		for _, t := range e.targets {
			k := strings.ToLower(t)
			if prev, dup := seen[k]; dup {
				return nil, nil, &MappingError{Where: e.where, Err: fmt.Errorf("field %s is already mapped at %s", t, prev)}
			}
			seen[k] = e.where
			cells = append(cells, c)
			header = append(header, t)
		}
	}
	if len(header) == 0 {
		return nil, nil, &MappingError{Where: "mapping", Err: errors.New("maps no column to a field")}
	}
	return cells, header, nil
}

// Apply returns a Source that yields src's rows under the mapped header,
// keeping each row's input row number.
func (m *Mapping) Apply(src Source) (Source, error) {
	cells, header, err := m.plan(src.Header())
	if err != nil {
		return nil, err
	}
	return &mappedSource{src: src, cells: cells, header: header}, nil
}

type mappedSource struct {
	src    Source
	cells  []cell
	header []string
}

func (s *mappedSource) Header() []string { return s.header }

// Name returns the mapped source's input name.
func (s *mappedSource) Name() string { return sourceName(s.src) }

func (s *mappedSource) Next() (Row, error) {
	row, err := s.src.Next()
	if err != nil {
		if ie, ok := err.(*InputError); ok && ie.Values != nil {
			ie.Values = s.mapValues(ie.Values) // a rejected row's cells, in the mapped header's order
		}
		return row, err
	}
	return Row{Number: row.Number, Values: s.mapValues(row.Values), Line: row.Line}, nil
}

// mapValues puts a source row's cells in the mapped header's order. A cell the row lacks (a
// rejected row may be short) is empty.
func (s *mappedSource) mapValues(vals []string) []string {
	out := make([]string, len(s.cells))
	for i, c := range s.cells {
		switch {
		case c.from < 0:
			out[i] = c.constant
		case c.from < len(vals):
			out[i] = vals[c.from]
		}
	}
	return out
}
