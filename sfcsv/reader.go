package sfcsv

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"unicode/utf8"
)

// ReaderOptions configures a Reader. The zero value reads comma-separated
// data with strict quoting.
type ReaderOptions struct {
	// Delimiter separates fields. Zero means Comma.
	Delimiter Delimiter
	// Name names the input (usually the file name) in errors. Optional.
	Name string
	// ReuseRecord makes Read return a slice that is overwritten by the next
	// call, so reading allocates only the field text. The strings themselves
	// are never reused and stay valid.
	ReuseRecord bool
	// LazyQuotes accepts a double quote inside an unquoted field as a literal
	// character. By default it is an error (ErrBareQuote), as it is for
	// Salesforce, which fails such rows.
	LazyQuotes bool
	// BufferSize is the read buffer size in bytes. Zero means 64 KiB. Lines
	// longer than the buffer are still read whole.
	BufferSize int
	// RawRecords makes RawRecord return the text of each record read. It is free for
	// records without quotes; a record with quotes costs a copy of its text.
	RawRecords bool
	// MaxRecordBytes caps the size of one record (and of one physical line),
	// so that a missing closing quote cannot make the Reader hold the whole
	// input in memory. Zero means DefaultMaxRecordBytes. A longer record is
	// a *ParseError matching ErrRecordTooLarge, after which the Reader stops.
	MaxRecordBytes int
}

// DefaultMaxRecordBytes is the default ReaderOptions.MaxRecordBytes: 16 MiB,
// above the 10 MB a whole Bulk API 1.0 batch may hold.
const DefaultMaxRecordBytes = 16 << 20

// Reader reads records in Salesforce's CSV dialect from a stream.
//
// The first record is the header; every later record must have as many
// fields as the header. A UTF-8 byte order mark at the start is skipped.
// Records end with LF or CRLF (both accepted in one file) or at the end of
// input. Blank lines are skipped and are not rows.
//
// Errors in a row (invalid UTF-8, a bare or misplaced quote, a wrong number
// of fields) are returned as *ParseError and do not stop the Reader: the next
// Read continues with the next row, so every row can be accounted for. For a
// wrong number of fields the record is returned together with the error.
//
// Some errors stop the Reader: an I/O error from the underlying reader, a
// record over MaxRecordBytes, a quoted field still open at the end of the
// input (ErrUnclosedQuote), and any error in the header. A stopping
// *ParseError is returned once; every later call returns an error that wraps
// the same cause (errors.Is still matches it) but is not a *ParseError, so a
// caller that records bad rows and reads on still stops. I/O errors are
// returned as they are on every later call.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	br    *bufio.Reader
	opts  ReaderOptions
	delim byte
	// delimBytes holds delim, for bytes.Count.
	delimBytes [1]byte
	err        error // sticky error
	bomChk     bool

	header      []string
	headerDone  bool // header has been read
	headerGiven bool // header has been returned by Read

	row     int   // rows read so far (including failed ones)
	line    int   // physical lines read so far
	recLine int   // line where the last record started
	lastEOL int   // terminator of the last record: 0 none, 1 LF, 2 CRLF
	offset  int64 // input bytes consumed

	lineBuf []byte
	max     int
	recBuf  []byte // unescaped fields of a record with quotes
	rawBuf  []byte // text of a record that spans lines or has quotes
	ends    []int
	fields  int // fields of the last record
	record  []string

	raw      string // text of the last record Read returned, see RawRecord
	rawChars int    // its characters
}

// NewReader returns a Reader that reads from r.
func NewReader(r io.Reader, opts ReaderOptions) *Reader {
	size := opts.BufferSize
	if size <= 0 {
		size = 64 << 10
	}
	rd := &Reader{br: bufio.NewReaderSize(r, size), opts: opts, delim: opts.Delimiter.byteValue(), max: opts.MaxRecordBytes}
	rd.delimBytes[0] = rd.delim
	if rd.max <= 0 {
		rd.max = DefaultMaxRecordBytes
	}
	if !opts.Delimiter.Valid() {
		rd.err = fmt.Errorf("sfcsv: %w: %s", ErrDelimiter, opts.Delimiter.Name())
	}
	return rd
}

// Header returns the header (the first record), reading it if it has not
// been read yet. It does not consume a data row: after Header, Read returns
// row 2. The returned slice belongs to the caller. Input without any record
// gives a *ParseError that matches ErrNoHeader and io.EOF (later calls: an
// error matching both that is not a *ParseError; see Reader).
func (r *Reader) Header() ([]string, error) {
	if !r.headerDone {
		if err := r.readHeader(); err != nil {
			return nil, err
		}
		r.headerGiven = true
	}
	return slices.Clone(r.header), nil
}

// Read returns the next record. If Header has not been called, the first
// call returns the header. At the end of input Read returns nil, io.EOF.
//
// Unless ReuseRecord is set, the returned slice is new on every call.
func (r *Reader) Read() ([]string, error) {
	r.raw, r.rawChars = "", 0
	if !r.headerDone {
		if err := r.readHeader(); err != nil {
			return nil, err
		}
	}
	if !r.headerGiven {
		r.headerGiven = true
		if r.opts.ReuseRecord {
			r.record = append(r.record[:0], r.header...)
			return r.record, nil
		}
		return slices.Clone(r.header), nil
	}
	if r.err != nil {
		return nil, r.stickyErr()
	}
	var dst []string
	if r.opts.ReuseRecord {
		dst = r.record[:0]
	}
	rec, err := r.readRecord(dst, true)
	if r.opts.ReuseRecord && rec != nil {
		r.record = rec
	}
	if err == nil && len(rec) != len(r.header) {
		col := min(len(rec), len(r.header)) + 1
		err = r.parseError(col, fmt.Errorf("%w: got %d, want %d (header)", ErrFieldCount, len(rec), len(r.header)))
	}
	if err != nil {
		r.raw, r.rawChars = "", 0
	}
	return rec, err
}

// RawRecord returns the text of the record last returned by Read without an
// error, exactly as it appeared in the input (quotes, doubled quotes and line
// breaks inside quoted fields included) but without its line terminator, and
// its length in characters (Unicode code points; the text is valid UTF-8).
// It needs ReaderOptions.RawRecords; without it the text is "".
// A record read with the Reader's delimiter is valid CSV for the same header,
// so a caller that sends the record unchanged can copy this text instead of
// encoding the fields again.
//
// The text shares memory with the record's fields and stays valid: it costs no
// allocation or copy. After Skip, Header, or a Read that returned an error
// (or the header), it is "".
//
// How they share it is part of the contract, so that a caller can tell
// whether fields are still the ones returned (the same strings, by position):
// the fields of a record without a double quote are substrings of the text,
// between the delimiters; those of a record with quotes follow the text in the
// same string, unescaped, each followed by the delimiter.
func (r *Reader) RawRecord() (text string, chars int) {
	return r.raw, r.rawChars
}

// Skip reads the next record as Read does and returns the error Read would
// return for it (nil, a *ParseError for a bad row, io.EOF at the end), but
// not its fields: it allocates nothing per record. It is for a pass that only
// checks the input's structure and counts its rows.
func (r *Reader) Skip() error {
	if !r.headerDone {
		if err := r.readHeader(); err != nil {
			return err
		}
	}
	if !r.headerGiven {
		r.headerGiven = true
		return nil
	}
	if r.err != nil {
		return r.stickyErr()
	}
	_, err := r.readRecord(nil, false)
	if err == nil && r.fields != len(r.header) {
		col := min(r.fields, len(r.header)) + 1
		err = r.parseError(col, fmt.Errorf("%w: got %d, want %d (header)", ErrFieldCount, r.fields, len(r.header)))
	}
	return err
}

// Row returns the 1-based row number of the record last returned by Read or
// Header (the header is row 1), including a row returned with an error.
func (r *Reader) Row() int { return r.row }

// Line returns the 1-based physical line on which the last record started.
func (r *Reader) Line() int { return r.recLine }

// LineEnding returns the line ending that ended the last record read, and
// false if that record ended at the end of input without one. Salesforce
// fails a job whose data does not use the job's lineEnding; this lets a
// caller check.
func (r *Reader) LineEnding() (LineEnding, bool) {
	switch r.lastEOL {
	case 1:
		return LF, true
	case 2:
		return CRLF, true
	}
	return LF, false
}

// InputOffset returns the number of input bytes consumed so far, including a
// byte order mark: the offset just past the last record read.
func (r *Reader) InputOffset() int64 { return r.offset }

func (r *Reader) readHeader() error {
	if r.err != nil {
		return r.stickyErr()
	}
	rec, err := r.readRecord(nil, true)
	if err != nil {
		if err == io.EOF {
			err = r.parseErrorAt(1, 0, 0, fmt.Errorf("%w (%w)", ErrNoHeader, io.EOF))
		}
		r.err = err
		return err
	}
	r.header = rec
	r.headerDone = true
	r.raw, r.rawChars = "", 0
	return nil
}

// stickyErr returns the error that stopped the Reader, for calls after the
// one that first reported it. A *ParseError becomes a plain error wrapping
// its cause: a row is reported as bad once, and a loop that skips bad rows
// ends instead of seeing the same row forever.
func (r *Reader) stickyErr() error {
	if pe, ok := r.err.(*ParseError); ok {
		return fmt.Errorf("sfcsv: %s: reading stopped at row %d: %w", r.nameOr("input"), pe.Row, pe.Err)
	}
	return r.err
}

func (r *Reader) parseError(col int, err error) error {
	return r.parseErrorAt(r.row, col, r.recLine, err)
}

func (r *Reader) parseErrorAt(row, col, line int, err error) error {
	return &ParseError{File: r.opts.Name, Row: row, Column: col, Line: line, Err: err}
}

// readLine returns the next physical line including its terminator. The
// slice is valid until the next call. It returns io.EOF only when no bytes
// remain.
func (r *Reader) readLine() ([]byte, error) {
	if !r.bomChk {
		r.bomChk = true
		if b, _ := r.br.Peek(len(BOM)); string(b) == BOM {
			r.br.Discard(len(BOM))
			r.offset += int64(len(BOM))
		}
	}
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.lineBuf = append(r.lineBuf[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(r.lineBuf) > r.max {
				return nil, errTooLarge
			}
			line, err = r.br.ReadSlice('\n')
			r.lineBuf = append(r.lineBuf, line...)
		}
		line = r.lineBuf
	}
	if len(line) > r.max {
		return nil, errTooLarge
	}
	if len(line) > 0 {
		r.line++
		r.offset += int64(len(line))
		if err == io.EOF {
			err = nil
		}
	}
	if err != nil && err != io.EOF {
		err = fmt.Errorf("sfcsv: reading %s: %w", r.nameOr("input"), err)
		r.err = err
	}
	return line, err
}

func (r *Reader) nameOr(s string) string {
	if r.opts.Name != "" {
		return r.opts.Name
	}
	return s
}

// errTooLarge is returned by readLine for a line over the record limit.
var errTooLarge = errors.New("line too large")

// tooLarge makes the sticky error for a record over MaxRecordBytes.
func (r *Reader) tooLarge() error {
	r.err = r.parseError(0, fmt.Errorf("%w: more than %d bytes (unclosed quote?)", ErrRecordTooLarge, r.max))
	return r.err
}

// isEOL reports whether b is empty, "\n" or "\r\n".
func isEOL(b []byte) bool {
	switch len(b) {
	case 0:
		return true
	case 1:
		return b[0] == '\n'
	case 2:
		return b[0] == '\r' && b[1] == '\n'
	}
	return false
}

// trimEOL drops a final "\n" or "\r\n". A lone CR is data.
func trimEOL(b []byte) []byte {
	n := len(b)
	if n > 0 && b[n-1] == '\n' {
		n--
		if n > 0 && b[n-1] == '\r' {
			n--
		}
	}
	return b[:n]
}

// readRecord parses one record into dst. Row-level errors are returned as
// *ParseError after the whole record has been consumed. Unless keep is set it
// only checks the record: it returns nil and leaves the record's field count
// in r.fields.
func (r *Reader) readRecord(dst []string, keep bool) ([]string, error) {
	r.raw, r.rawChars = "", 0
	var line []byte
	var err error
	for {
		line, err = r.readLine()
		if err != nil {
			if err == io.EOF {
				r.err = io.EOF
			} else if err == errTooLarge {
				r.row++
				r.recLine = r.line + 1
				return nil, r.tooLarge()
			}
			return nil, err
		}
		if !isEOL(line) {
			break
		}
	}
	r.row++
	r.recLine = r.line
	r.ends = r.ends[:0]
	if text := trimEOL(line); bytes.IndexByte(text, '"') < 0 {
		return r.readPlain(line, text, dst, keep)
	}
	return r.readQuoted(line, dst, keep)
}

// readPlain parses a record that is one physical line without any double
// quote (the common case): its fields are the line split at the delimiter, so
// they are not copied, and the record's text is its fields' backing string.
// In r.ends it leaves the offset in text of each field's end.
func (r *Reader) readPlain(line, text []byte, dst []string, keep bool) ([]string, error) {
	d := r.delim
	if !keep {
		// A check needs only the number of fields and the validity of the text.
		r.setEOL(line)
		r.fields = bytes.Count(text, r.delimBytes[:]) + 1
		if utf8.Valid(text) {
			return nil, nil
		}
	}
	for pos := 0; ; {
		i := bytes.IndexByte(text[pos:], d)
		if i < 0 {
			r.ends = append(r.ends, len(text))
			break
		}
		r.ends = append(r.ends, pos+i)
		pos += i + 1
	}
	r.setEOL(line)
	r.fields = len(r.ends)
	// The delimiter is ASCII, so the fields are valid UTF-8 exactly when the line is.
	chars, ok := countRunes(text)
	if !ok {
		prev := 0
		for i, e := range r.ends {
			if !utf8.Valid(text[prev:e]) {
				return nil, r.parseError(i+1, ErrInvalidUTF8)
			}
			prev = e + 1
		}
		return nil, r.parseError(0, ErrInvalidUTF8)
	}
	if !keep {
		return nil, nil
	}
	s := string(text)
	if dst == nil {
		dst = make([]string, 0, len(r.ends))
	}
	prev := 0
	for _, e := range r.ends {
		dst = append(dst, s[prev:e])
		prev = e + 1
	}
	if r.opts.RawRecords {
		r.raw, r.rawChars = s, chars
	}
	return dst, nil
}

// readQuoted parses a record that holds a double quote, starting at its first
// physical line: quoted fields are unescaped into r.recBuf and may span lines,
// whose text is gathered in r.rawBuf. In r.ends it leaves the offset in
// r.recBuf of each field's end.
func (r *Reader) readQuoted(line []byte, dst []string, keep bool) ([]string, error) {
	var err error
	r.recBuf = r.recBuf[:0]
	r.rawBuf = r.rawBuf[:0]
	phys, multi := line, false // the physical line being parsed; whether the record spans lines
	d := r.delim
	var perr error
	errCol := 0
	fail := func(e error) {
		if perr == nil {
			perr = e
			errCol = len(r.ends) + 1
		}
	}

parse:
	for {
		if len(line) == 0 || line[0] != '"' {
			// Unquoted field: runs to the next delimiter or the line end.
			i := bytes.IndexByte(line, d)
			var field []byte
			if i >= 0 {
				field = line[:i]
			} else {
				field = trimEOL(line)
			}
			if !r.opts.LazyQuotes && bytes.IndexByte(field, '"') >= 0 {
				fail(ErrBareQuote)
			}
			r.recBuf = append(r.recBuf, field...)
			r.endField()
			if i < 0 {
				break parse
			}
			line = line[i+1:]
			continue
		}
		// Quoted field: runs to a closing quote not followed by another quote.
		line = line[1:]
		for {
			i := bytes.IndexByte(line, '"')
			if i < 0 {
				// The field continues on the next line; line breaks are data.
				r.recBuf = append(r.recBuf, line...)
				if len(r.recBuf) > r.max {
					return nil, r.tooLarge()
				}
				if r.opts.RawRecords {
					r.rawBuf = append(r.rawBuf, phys...)
				}
				multi = true
				line, err = r.readLine()
				if err != nil {
					if err == errTooLarge {
						return nil, r.tooLarge()
					}
					if err != io.EOF {
						return nil, err
					}
					r.err = io.EOF
					fail(fmt.Errorf("%w: %w", ErrQuote, ErrUnclosedQuote))
					r.endField()
					break parse
				}
				phys = line
				continue
			}
			r.recBuf = append(r.recBuf, line[:i]...)
			line = line[i+1:]
			switch {
			case len(line) > 0 && line[0] == '"':
				r.recBuf = append(r.recBuf, '"')
				line = line[1:]
			case len(line) > 0 && line[0] == d:
				r.endField()
				line = line[1:]
				continue parse
			case isEOL(line):
				r.endField()
				break parse
			default:
				// Text after the closing quote: the row is invalid. Skip to the
				// end of this physical line to resynchronise.
				fail(fmt.Errorf("%w: %q after closing quote", ErrQuote, firstRune(line)))
				r.endField()
				break parse
			}
		}
	}
	r.setEOL(line)
	r.fields = len(r.ends)
	if perr != nil {
		return nil, r.parseError(errCol, perr)
	}
	if !r.opts.RawRecords {
		return r.quotedFields(dst, keep)
	}
	// The record's text, as read: its physical lines without the last terminator.
	raw := phys
	if multi {
		r.rawBuf = append(r.rawBuf, phys...)
		raw = r.rawBuf
	}
	raw = trimEOL(raw)
	// Quotes and delimiters are ASCII: the text is valid UTF-8 exactly when every
	// field is.
	chars, ok := countRunes(raw)
	if !ok {
		return nil, r.parseError(r.invalidColumn(), ErrInvalidUTF8)
	}
	if !keep {
		return nil, nil
	}
	// One string holds the record's text and then its unescaped fields, each followed
	// by the delimiter (see RawRecord).
	if multi {
		r.rawBuf = r.rawBuf[:len(raw)] // raw is the start of rawBuf
	} else {
		r.rawBuf = append(r.rawBuf[:0], raw...)
	}
	r.rawBuf = append(r.rawBuf, r.recBuf...)
	s := string(r.rawBuf)
	if dst == nil {
		dst = make([]string, 0, len(r.ends))
	}
	n := len(raw)
	prev := 0
	for _, e := range r.ends {
		dst = append(dst, s[n+prev:n+e])
		prev = e + 1
	}
	r.raw, r.rawChars = s[:n], chars
	return dst, nil
}

// endField ends a field of a record with quotes in r.recBuf: it records the
// field's end and appends the delimiter, so that the fields in r.recBuf are
// separated as readPlain's are in the line.
func (r *Reader) endField() {
	r.ends = append(r.ends, len(r.recBuf))
	r.recBuf = append(r.recBuf, r.delim)
}

// quotedFields ends readQuoted without the record's text: it checks the fields in
// r.recBuf and returns them as substrings of one string.
func (r *Reader) quotedFields(dst []string, keep bool) ([]string, error) {
	// The fields are separated by the (ASCII) delimiter: they are valid UTF-8
	// exactly when the buffer is.
	if !utf8.Valid(r.recBuf) {
		return nil, r.parseError(r.invalidColumn(), ErrInvalidUTF8)
	}
	if !keep {
		return nil, nil
	}
	s := string(r.recBuf)
	if dst == nil {
		dst = make([]string, 0, len(r.ends))
	}
	prev := 0
	for _, e := range r.ends {
		dst = append(dst, s[prev:e])
		prev = e + 1
	}
	return dst, nil
}

// setEOL records the terminator that ends the last physical line of a record.
func (r *Reader) setEOL(line []byte) {
	switch n := len(line); {
	case n >= 2 && line[n-2] == '\r' && line[n-1] == '\n':
		r.lastEOL = 2
	case n >= 1 && line[n-1] == '\n':
		r.lastEOL = 1
	default:
		r.lastEOL = 0
	}
}

// countRunes returns the number of Unicode code points in b and whether b is
// valid UTF-8. ASCII text is checked eight bytes at a time.
func countRunes(b []byte) (int, bool) {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&0x8080808080808080 != 0 {
			break
		}
	}
	for ; i < len(b) && b[i] < utf8.RuneSelf; i++ {
	}
	if i == len(b) {
		return len(b), true
	}
	rest := b[i:]
	if !utf8.Valid(rest) {
		return 0, false
	}
	// Valid UTF-8: every byte but a continuation byte (10xxxxxx) starts a code
	// point. A word's continuation bytes are those with bit 7 set and bit 6 clear.
	cont := 0
	j := 0
	for ; j+8 <= len(rest); j += 8 {
		w := binary.LittleEndian.Uint64(rest[j:])
		cont += bits.OnesCount64(w &^ (w << 1) & 0x8080808080808080)
	}
	for ; j < len(rest); j++ {
		if rest[j]&0xC0 == 0x80 {
			cont++
		}
	}
	return len(b) - cont, true
}

// invalidColumn returns the 1-based field of r.recBuf holding the first
// invalid UTF-8.
func (r *Reader) invalidColumn() int {
	prev := 0
	for i, e := range r.ends {
		if !utf8.Valid(r.recBuf[prev:e]) {
			return i + 1
		}
		prev = e + 1
	}
	return 0
}

func firstRune(b []byte) string {
	_, n := utf8.DecodeRune(b)
	return string(b[:n])
}
