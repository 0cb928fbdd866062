package sfcsv

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// WriterOptions configures a Writer. The zero value writes comma-separated
// data with LF line endings and no byte order mark.
type WriterOptions struct {
	// Delimiter separates fields. Zero means Comma.
	Delimiter Delimiter
	// LineEnding ends every record, including the last. Zero means LF.
	LineEnding LineEnding
	// BOM writes a UTF-8 byte order mark before the first record. Salesforce
	// itself rejects files that start with one; use it only for files meant
	// for spreadsheets.
	BOM bool
	// QuoteAll quotes every field, as Salesforce does in result and query
	// files. By default only fields that need it are quoted.
	QuoteAll bool
	// BufferSize is the write buffer size in bytes. Zero means 64 KiB.
	BufferSize int
}

// RowSize is the exact encoded size of one or more records: bytes and
// characters (Unicode code points) of the UTF-8 output, including quotes,
// delimiters and line endings. Bulk API 1.0 limits a batch to 10,000,000
// characters and 10 MB; these are the numbers to check against.
type RowSize struct {
	Bytes int // encoded UTF-8 bytes
	Chars int // encoded characters (runes)
}

// Add returns the sum of s and o.
func (s RowSize) Add(o RowSize) RowSize {
	return RowSize{Bytes: s.Bytes + o.Bytes, Chars: s.Chars + o.Chars}
}

// Writer writes records in Salesforce's CSV dialect and reports the exact
// encoded size of each.
//
// A field is quoted when it holds the delimiter, a double quote, CR or LF,
// or starts with a byte order mark; quotes inside are doubled. Everything else, including leading and trailing
// spaces and the empty string, is written as is, except that a record made
// of a single empty field is written as "" so it does not read back as a
// blank line.
//
// Output is buffered: call Flush when done. A Writer is not safe for
// concurrent use. With reuse of the caller's record slice, Write does not
// allocate.
type Writer struct {
	bw    *bufio.Writer
	opts  WriterOptions
	delim byte
	eol   string
	err   error // configuration error

	bomPending bool
	rows       int
	total      RowSize
	quote      []bool // per-field quoting decision, reused
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer, opts WriterOptions) *Writer {
	wr := &Writer{opts: opts, delim: opts.Delimiter.byteValue(), eol: opts.LineEnding.Terminator()}
	size := opts.BufferSize
	if size <= 0 {
		size = 64 << 10
	}
	wr.bw = bufio.NewWriterSize(w, size)
	wr.bomPending = opts.BOM
	switch {
	case !opts.Delimiter.Valid():
		wr.err = fmt.Errorf("sfcsv: %w: %s", ErrDelimiter, opts.Delimiter.Name())
	case !opts.LineEnding.Valid():
		wr.err = fmt.Errorf("sfcsv: %w: %s", ErrLineEnding, opts.LineEnding)
	}
	return wr
}

// Reset discards buffered output and counters and makes the Writer write to
// w with the same options, as if newly created (a BOM, if configured, is
// written again). It lets one Writer produce many batch files without
// allocating.
func (w *Writer) Reset(dst io.Writer) {
	w.bw.Reset(dst)
	w.bomPending = w.opts.BOM
	w.rows = 0
	w.total = RowSize{}
}

// Write writes one record and returns its exact encoded size. The first
// record's size includes the byte order mark if WriterOptions.BOM is set, so
// the sizes of all records add up to the output.
//
// A field that is not valid UTF-8 or an empty record is an error and nothing
// is written for that record.
func (w *Writer) Write(record []string) (RowSize, error) {
	if w.err != nil {
		return RowSize{}, w.err
	}
	if len(record) == 0 {
		return RowSize{}, fmt.Errorf("sfcsv: row %d: %w", w.rows+1, ErrEmptyRecord)
	}
	if cap(w.quote) < len(record) {
		w.quote = make([]bool, len(record))
	}
	quote := w.quote[:len(record)]
	size, bad := measure(record, w.delim, w.eol, w.opts.QuoteAll, quote)
	if bad > 0 {
		return RowSize{}, fmt.Errorf("sfcsv: row %d, column %d: %w", w.rows+1, bad, ErrInvalidUTF8)
	}
	if w.bomPending {
		w.bomPending = false
		w.bw.WriteString(BOM)
		size.Bytes += len(BOM)
		size.Chars++
	}
	for i, f := range record {
		if i > 0 {
			w.bw.WriteByte(w.delim)
		}
		if !quote[i] {
			w.bw.WriteString(f)
			continue
		}
		w.bw.WriteByte('"')
		for {
			j := strings.IndexByte(f, '"')
			if j < 0 {
				w.bw.WriteString(f)
				break
			}
			w.bw.WriteString(f[:j+1])
			w.bw.WriteByte('"')
			f = f[j+1:]
		}
		w.bw.WriteByte('"')
	}
	_, err := w.bw.WriteString(w.eol)
	if err != nil {
		return RowSize{}, fmt.Errorf("sfcsv: write: %w", err)
	}
	w.rows++
	w.total = w.total.Add(size)
	return size, nil
}

// Flush writes buffered output to the underlying writer.
func (w *Writer) Flush() error {
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("sfcsv: flush: %w", err)
	}
	return nil
}

// Rows returns the number of records written since creation or Reset.
func (w *Writer) Rows() int { return w.rows }

// Written returns the total encoded size of the records written since
// creation or Reset (buffered or not), byte order mark included.
func (w *Writer) Written() RowSize { return w.total }

// EncodedSize returns the size Writer.Write would report for record with
// delimiter d and line ending le, without writing (and without a byte order
// mark). Invalid UTF-8 bytes count as one character each. An empty record
// has size zero.
func EncodedSize(record []string, d Delimiter, le LineEnding) RowSize {
	size, _ := measure(record, d.byteValue(), le.Terminator(), false, nil)
	return size
}

// Size returns the size Write would report for record with this Writer's
// options, without writing. It does not include a pending byte order mark.
func (w *Writer) Size(record []string) RowSize {
	size, _ := measure(record, w.delim, w.eol, w.opts.QuoteAll, nil)
	return size
}

// measure computes the encoded size of record. If quote is non-nil it
// receives the per-field quoting decision. bad is the 1-based column of the
// first field that is not valid UTF-8, or 0.
func measure(record []string, d byte, eol string, quoteAll bool, quote []bool) (size RowSize, bad int) {
	if len(record) == 0 {
		return RowSize{}, 0
	}
	size = RowSize{Bytes: len(record) - 1 + len(eol), Chars: len(record) - 1 + len(eol)}
	for i, f := range record {
		fs := scanField(f, d)
		if !fs.valid && bad == 0 {
			bad = i + 1
		}
		q := fs.special || quoteAll || (len(record) == 1 && f == "")
		if quote != nil {
			quote[i] = q
		}
		size.Bytes += len(f)
		size.Chars += fs.runes
		if q {
			size.Bytes += 2 + fs.quotes
			size.Chars += 2 + fs.quotes
		}
	}
	return size, bad
}

// NeedsQuotes reports whether field must be quoted with delimiter d: it holds
// d, a double quote, CR or LF, or starts with a byte order mark.
func NeedsQuotes(field string, d Delimiter) bool {
	return scanField(field, d.byteValue()).special
}

type fieldScan struct {
	runes   int
	quotes  int
	special bool
	valid   bool
}

// scanField counts runes and quotes of s and reports whether it needs
// quoting with delimiter d and whether it is valid UTF-8.
func scanField(s string, d byte) fieldScan {
	fs := fieldScan{valid: true}
	if len(s) >= len(BOM) && s[0] == BOM[0] && s[:len(BOM)] == BOM {
		// A leading byte order mark would be stripped by readers.
		fs.special = true
	}
	// Fast path: eight ASCII bytes at a time while none is special.
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	dq, lf, cr, dd := uint64('"')*lo, uint64('\n')*lo, uint64('\r')*lo, uint64(d)*lo
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if x&hi != 0 || hasZero(x^dq)|hasZero(x^lf)|hasZero(x^cr)|hasZero(x^dd) != 0 {
			break
		}
		fs.runes += 8
	}
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= '"' || c == d {
				switch c {
				case '"':
					fs.quotes++
					fs.special = true
				case '\n', '\r', d:
					fs.special = true
				}
			}
			fs.runes++
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			fs.valid = false
		}
		fs.runes++
		i += n
	}
	return fs
}

// AppendRecord appends record, encoded as a Writer with opts would write it
// (without a byte order mark), to dst and returns the extended slice and the
// record's size. It suits callers that assemble batches in memory: with a
// reused dst it does not allocate for records of up to 64 fields.
func AppendRecord(dst []byte, record []string, opts WriterOptions) ([]byte, RowSize, error) {
	switch {
	case !opts.Delimiter.Valid():
		return dst, RowSize{}, fmt.Errorf("sfcsv: %w: %s", ErrDelimiter, opts.Delimiter.Name())
	case !opts.LineEnding.Valid():
		return dst, RowSize{}, fmt.Errorf("sfcsv: %w: %s", ErrLineEnding, opts.LineEnding)
	case len(record) == 0:
		return dst, RowSize{}, fmt.Errorf("sfcsv: %w", ErrEmptyRecord)
	}
	var qbuf [64]bool
	var quote []bool
	if len(record) <= len(qbuf) {
		quote = qbuf[:len(record)]
	} else {
		quote = make([]bool, len(record))
	}
	d := opts.Delimiter.byteValue()
	eol := opts.LineEnding.Terminator()
	size, bad := measure(record, d, eol, opts.QuoteAll, quote)
	if bad > 0 {
		return dst, RowSize{}, fmt.Errorf("sfcsv: column %d: %w", bad, ErrInvalidUTF8)
	}
	dst = slices.Grow(dst, size.Bytes)
	for i, f := range record {
		if i > 0 {
			dst = append(dst, d)
		}
		if !quote[i] {
			dst = append(dst, f...)
			continue
		}
		dst = append(dst, '"')
		for {
			j := strings.IndexByte(f, '"')
			if j < 0 {
				dst = append(dst, f...)
				break
			}
			dst = append(dst, f[:j+1]...)
			dst = append(dst, '"')
			f = f[j+1:]
		}
		dst = append(dst, '"')
	}
	return append(dst, eol...), size, nil
}

// hasZero is non-zero if any byte of x is zero (for x without high bits set).
func hasZero(x uint64) uint64 {
	return (x - 0x0101010101010101) & ^x & 0x8080808080808080
}
