package convert

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sfbatch/sfbatch/load"
)

// Source returns src with rules applied to the columns they name (matched
// case-insensitively). A rule for a column the header lacks is an error. A value that
// cannot be converted fails its row: Next returns a *load.InputError (wrapping
// load.ErrValue and ErrConvert) naming the file, row, line, column and the expected
// format, and the next call goes on with the next row. Like every Source, the result is
// used by one goroutine.
func Source(src load.Source, rules map[string]*Rule) (load.Source, error) {
	hdr := src.Header()
	s := &source{src: src, rules: make([]*Rule, len(hdr))}
	for col, r := range rules {
		i := indexFold(hdr, col)
		if i < 0 {
			return nil, fmt.Errorf("convert: column %q is not in the input's header", col)
		}
		if err := r.Compile(); err != nil {
			return nil, fmt.Errorf("convert: column %s: %w", col, err)
		}
		s.rules[i] = r
	}
	return s, nil
}

type source struct {
	src   load.Source
	rules []*Rule
}

func (s *source) Header() []string { return s.src.Header() }

// Name names the wrapped input.
func (s *source) Name() string {
	if n, ok := s.src.(interface{ Name() string }); ok {
		return n.Name()
	}
	return ""
}

// Close closes the wrapped source, if it can be closed.
func (s *source) Close() error {
	if c, ok := s.src.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

func (s *source) Next() (load.Row, error) {
	row, err := s.src.Next()
	if err != nil {
		return row, err
	}
	for i, r := range s.rules {
		if r == nil || i >= len(row.Values) {
			continue
		}
		v, err := r.Convert(row.Values[i])
		if err != nil {
			if !errors.Is(err, ErrConvert) {
				return row, err
			}
			return load.Row{}, &load.InputError{File: s.Name(), Row: row.Number, Line: row.Line, Column: s.src.Header()[i],
				Values: row.Values, Err: fmt.Errorf("%w: %w", load.ErrValue, err)}
		}
		row.Values[i] = v
	}
	return row, nil
}

func indexFold(hdr []string, col string) int {
	for i, h := range hdr {
		if strings.EqualFold(h, col) {
			return i
		}
	}
	return -1
}

// Lazy returns src with the rules that rules returns for its header, decided when the
// first row is read (so that a caller can describe the object after the source is
// opened). A nil or empty map converts nothing; an error is returned by the first Next.
func Lazy(src load.Source, rules func(header []string) (map[string]*Rule, error)) load.Source {
	return &lazy{src: src, rules: rules}
}

type lazy struct {
	src   load.Source
	rules func([]string) (map[string]*Rule, error)
	s     load.Source
	err   error
}

func (l *lazy) Header() []string { return l.src.Header() }

// Name names the wrapped input.
func (l *lazy) Name() string {
	if n, ok := l.src.(interface{ Name() string }); ok {
		return n.Name()
	}
	return ""
}

// Close closes the wrapped source, if it can be closed.
func (l *lazy) Close() error {
	if c, ok := l.src.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

func (l *lazy) Next() (load.Row, error) {
	if l.s == nil && l.err == nil {
		rs, err := l.rules(l.src.Header())
		switch {
		case err != nil:
			l.err = err
		case len(rs) == 0:
			l.s = l.src
		default:
			l.s, l.err = Source(l.src, rs)
		}
	}
	if l.err != nil {
		return load.Row{}, l.err
	}
	return l.s.Next()
}
