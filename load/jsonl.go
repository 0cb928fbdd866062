package load

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/sfbatch/sfbatch/sfcsv"
)

// JSONLOptions configure JSONLSource.
type JSONLOptions struct {
	// Header fixes the columns. Nil means the union of every object's keys in
	// first-seen order, found by reading the input once before streaming it
	// (which needs an io.Seeker).
	Header []string
	// MaxLineBytes bounds one input line. Zero means DefaultMaxJSONLLine.
	MaxLineBytes int
}

// DefaultMaxJSONLLine is the longest JSON Lines record JSONLSource accepts by
// default (a Salesforce record holds at most MaxRecordChars characters).
const DefaultMaxJSONLLine = 4 << 20

// JSONLSource reads rows from JSON Lines: one JSON object per line. Values
// become Salesforce CSV text: strings as they are, numbers verbatim, booleans
// as true/false, null as "#N/A" (set the field to null), arrays joined with
// ';' (multi-select picklists), and nested objects flattened to relationship
// columns ({"Account": {"External_Id__c": "A1"}} is column
// Account.External_Id__c). A key that is absent leaves the field unchanged.
//
// Without opts.Header, r must be an io.Seeker: the input is read twice, once
// for the columns and once for the rows, so memory stays bounded; a line over
// MaxLineBytes is found by that first read and returned here, before any row.
// A line that is not a JSON object, holds invalid UTF-8, or (with a fixed
// header) has a key outside the header is a row's *InputError naming the row
// and column: that row fails alone and the next line is read.
func JSONLSource(r io.Reader, name string, opts JSONLOptions) (Source, error) {
	max := opts.MaxLineBytes
	if max <= 0 {
		max = DefaultMaxJSONLLine
	}
	s := &jsonlSource{name: name, max: max}
	if opts.Header != nil {
		s.setHeader(opts.Header)
		s.fixed = true
	} else {
		rs, ok := r.(io.Seeker)
		if !ok {
			return nil, fmt.Errorf("load: JSONLSource %s: without JSONLOptions.Header the input must be seekable", name)
		}
		start, err := rs.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, fmt.Errorf("load: JSONLSource %s: %w", name, err)
		}
		if err := s.scanHeader(r); err != nil {
			return nil, err
		}
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			return nil, fmt.Errorf("load: JSONLSource %s: %w", name, err)
		}
	}
	s.sc = newLineScanner(r, max)
	return s, nil
}

type jsonlSource struct {
	name   string
	max    int
	header []string
	index  map[string]int // lower-case column -> position
	fixed  bool
	sc     *bufio.Scanner
	line   int
	rows   int64
}

func newLineScanner(r io.Reader, max int) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	// The scanner's limit is the larger of max and the buffer's capacity.
	sc.Buffer(make([]byte, 0, min(64*1024, max)), max)
	return sc
}

func (s *jsonlSource) setHeader(h []string) {
	s.header = h
	s.index = make(map[string]int, len(h))
	for i, c := range h {
		s.index[strings.ToLower(c)] = i
	}
}

func (s *jsonlSource) scanHeader(r io.Reader) error {
	sc := newLineScanner(r, s.max)
	s.setHeader(nil)
	line := 0
	var rows int64
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		rows++
		// A line that is not a usable object fails alone when the rows are read: here it
		// only adds the keys read before the problem.
		_ = flattenJSON(b, func(col, _ string) error {
			if _, ok := s.index[strings.ToLower(col)]; !ok {
				s.index[strings.ToLower(col)] = len(s.header)
				s.header = append(s.header, col)
			}
			return nil
		})
	}
	if err := sc.Err(); err != nil {
		// The lines after an over-long one cannot be delimited: the input is unusable.
		return &InputError{File: s.name, Row: rows + 1, Line: line + 1, Err: lineErr(err, s.max), Structural: true}
	}
	if len(s.header) == 0 {
		return &InputError{File: s.name, Err: errors.New("no JSON objects with fields in the input")}
	}
	return nil
}

func lineErr(err error, max int) error {
	if errors.Is(err, bufio.ErrTooLong) {
		return fmt.Errorf("line longer than %d bytes", max)
	}
	return err
}

// Header returns the columns.
func (s *jsonlSource) Header() []string { return s.header }

// Name returns the input name given to JSONLSource.
func (s *jsonlSource) Name() string { return s.name }

// Next returns the next row.
func (s *jsonlSource) Next() (Row, error) {
	for s.sc.Scan() {
		s.line++
		b := bytes.TrimSpace(s.sc.Bytes())
		if len(b) == 0 {
			continue
		}
		s.rows++
		vals := make([]string, len(s.header))
		err := flattenJSON(b, func(col, v string) error {
			i, ok := s.index[strings.ToLower(col)]
			if !ok {
				return &InputError{File: s.name, Row: s.rows, Line: s.line, Column: col, Err: errors.New("column is not in the header")}
			}
			vals[i] = v
			return nil
		})
		if err != nil {
			var ie *InputError
			if errors.As(err, &ie) {
				ie.Values = vals
				return Row{}, ie
			}
			return Row{}, &InputError{File: s.name, Row: s.rows, Line: s.line, Err: err, Values: vals}
		}
		return Row{Number: s.rows, Values: vals, Line: s.line}, nil
	}
	if err := s.sc.Err(); err != nil {
		return Row{}, &InputError{File: s.name, Row: s.rows + 1, Line: s.line + 1, Err: lineErr(err, s.max), Structural: true}
	}
	return Row{}, io.EOF
}

// flattenJSON calls emit for every leaf of one JSON object, with dotted
// column names for nested objects, in document order.
func flattenJSON(b []byte, emit func(col, val string) error) error {
	if !utf8.Valid(b) {
		return errors.New("invalid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return invalidJSON(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("not a JSON object")
	}
	if err := flattenObject(dec, "", emit); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("more than one JSON value on the line")
	}
	return nil
}

func flattenObject(dec *json.Decoder, prefix string, emit func(col, val string) error) error {
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return invalidJSON(err)
		}
		key := prefix + tok.(string)
		tok, err = dec.Token()
		if err != nil {
			return invalidJSON(err)
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				if err := flattenObject(dec, key+".", emit); err != nil {
					return err
				}
			case '[':
				var parts []string
				for dec.More() {
					var v any
					if err := dec.Decode(&v); err != nil {
						return fmt.Errorf("column %s: %w", key, invalidJSON(err))
					}
					s, err := scalarText(v)
					if err != nil {
						return fmt.Errorf("column %s: %w", key, err)
					}
					parts = append(parts, s)
				}
				if _, err := dec.Token(); err != nil {
					return invalidJSON(err)
				}
				if err := emit(key, strings.Join(parts, ";")); err != nil {
					return err
				}
			}
		default:
			s, err := scalarText(t)
			if err != nil {
				return fmt.Errorf("column %s: %w", key, err)
			}
			if err := emit(key, s); err != nil {
				return err
			}
		}
	}
	_, err := dec.Token() // closing '}'
	if err != nil {
		return invalidJSON(err)
	}
	return nil
}

// invalidJSON wraps a decoding error. A line that ends early is reported as
// io.ErrUnexpectedEOF, never io.EOF, so no caller mistakes it for the end of
// the input.
func invalidJSON(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

func scalarText(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return sfcsv.NullValue, nil
	case string:
		return x, nil
	case bool:
		if x {
			return "true", nil
		}
		return "false", nil
	case json.Number:
		return x.String(), nil
	}
	return "", fmt.Errorf("nested %T values are not supported inside arrays", v)
}
