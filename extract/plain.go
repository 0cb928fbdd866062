package extract

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/sfbatch/sfbatch/sfcsv"
)

// plainBuffer is readPagePlain's read buffer: lines longer than this are read by sfcsv's
// Reader.
const plainBuffer = 64 << 10

// readPagePlain is readPage for output that engine.raw can take. Salesforce quotes every
// field of its CSV results; the output quotes only the fields that need it. A line whose
// fields need no quotes in the output (plainRow) is rewritten without its quotes and written
// as is, with no fields or strings made of it; at the first line that is anything else (a
// quote or comma inside a field, a line break inside a field, a blank line, a long line,
// invalid UTF-8, a wrong field count...), the rest of the page, from that line on, is read by
// readRecords, which behaves and fails exactly as it does for a whole page. The output bytes
// are the same either way.
func (e *engine) readPagePlain(r io.Reader, name string, skip int64) (int64, error) {
	br := bufio.NewReaderSize(r, plainBuffer)
	// rest hands the page from line on to readRecords, after the header line.
	// err is the error that ended line: the end of the page or a read error, handed on
	// after line; nil or bufio.ErrBufferFull (a long line) when the page goes on in br.
	rest := func(header, line []byte, err error, n int64) (int64, error) {
		parts := []io.Reader{bytes.NewReader(header), bytes.NewReader(line)}
		if err != nil && err != bufio.ErrBufferFull {
			parts = append(parts, errReader{err})
		} else {
			parts = append(parts, br)
		}
		return e.readRecords(io.MultiReader(parts...), name, skip, n)
	}
	line, err := br.ReadSlice('\n')
	if err != nil {
		return rest(nil, bytes.Clone(line), err, 0)
	}
	hdr := bytes.Clone(line)
	out, fields, ok := plainRow(nil, line[:len(line)-1])
	if !ok || fields < 2 {
		// One column can be Bulk API 1.0's text for no records, or hold a single empty
		// field, which the output quotes.
		return rest(nil, hdr, nil, 0)
	}
	if err := e.setHeader(strings.Split(string(out), ","), name); err != nil {
		return 0, err
	}
	var n int64
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			if err == io.EOF && len(line) == 0 {
				return n, nil
			}
			return rest(hdr, bytes.Clone(line), err, n)
		}
		var f int
		out, f, ok = plainRow(out[:0], line[:len(line)-1])
		if !ok || f != fields {
			return rest(hdr, bytes.Clone(line), nil, n)
		}
		n++
		if n <= skip {
			continue
		}
		out = append(out, e.eol...)
		if err := e.raw(out); err != nil {
			return n, &sinkError{err}
		}
		e.sum.Rows++
	}
}

// plainRow appends to dst the fields of one CSV line (text, without its line feed), joined by
// commas, as sfcsv's Reader reads them and its Writer writes them with commas, no byte order
// mark and minimal quoting, and returns the number of fields. ok is false, and dst is to be
// ignored, unless the line is valid UTF-8 and every field either is quoted and holds no
// double quote (no "" inside) and no comma, or is unquoted and holds no double quote; and
// no field holds a CR or starts with a byte order mark. Such a line reads as one record,
// whose fields the Writer writes as they are.
func plainRow(dst, text []byte) (out []byte, fields int, ok bool) {
	if !utf8.Valid(text) {
		return dst, 0, false
	}
	for {
		var field []byte
		if len(text) > 0 && text[0] == '"' {
			i := bytes.IndexByte(text[1:], '"')
			if i < 0 {
				return dst, 0, false // the field goes on past the line end, or is not closed
			}
			field, text = text[1:1+i], text[2+i:]
			if len(text) > 0 && text[0] != ',' || bytes.IndexByte(field, ',') >= 0 {
				return dst, 0, false // a doubled quote, text after the closing quote, or a comma
			}
		} else {
			i := bytes.IndexByte(text, ',')
			if i < 0 {
				field, text = text, nil
			} else {
				field, text = text[:i], text[i:]
			}
			if bytes.IndexByte(field, '"') >= 0 {
				return dst, 0, false // a bare quote: an error for the Reader
			}
		}
		if bytes.IndexByte(field, '\r') >= 0 || bytes.HasPrefix(field, []byte(sfcsv.BOM)) {
			return dst, 0, false // the Writer quotes these
		}
		dst = append(dst, field...)
		fields++
		if len(text) == 0 {
			return dst, fields, true
		}
		dst = append(dst, ',')
		text = text[1:] // the comma
	}
}

// errReader returns err on every Read: the error that ended a read, handed on to
// readRecords after the bytes read before it.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
