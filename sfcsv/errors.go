package sfcsv

import (
	"errors"
	"strconv"
)

// Errors a Reader or Writer reports, wrapped in *ParseError (reading) or in
// an error naming row and column (writing). Test with errors.Is.
var (
	// ErrInvalidUTF8 means a field is not valid UTF-8. Salesforce requires UTF-8.
	ErrInvalidUTF8 = errors.New("invalid UTF-8")
	// ErrBareQuote means a double quote appears in an unquoted field. Salesforce
	// requires such values to be quoted (with the quote doubled) and fails the row.
	ErrBareQuote = errors.New(`bare " in unquoted field (quote the value and double the ")`)
	// ErrQuote means a quoted field is followed by something other than a
	// delimiter or line ending (for example a space), or is never closed.
	ErrQuote = errors.New(`extraneous or missing " in quoted field`)
	// ErrUnclosedQuote means a quoted field is still open at the end of the
	// input: every line after its opening quote was read into it, so the rows
	// after it cannot be delimited. It is reported together with ErrQuote
	// (errors.Is matches both). Unlike the row errors above, it ends the input.
	ErrUnclosedQuote = errors.New("quoted field not closed before end of input")
	// ErrFieldCount means a row has a different number of fields than the header.
	ErrFieldCount = errors.New("wrong number of fields")
	// ErrNoHeader means the input holds no record at all, not even a header.
	// The *ParseError also matches io.EOF with errors.Is.
	ErrNoHeader = errors.New("no header row")
	// ErrRecordTooLarge means a record or line exceeds ReaderOptions.MaxRecordBytes.
	ErrRecordTooLarge = errors.New("record too large")
	// ErrEmptyRecord means a Writer was given a record with no fields.
	ErrEmptyRecord = errors.New("record has no fields")
	// ErrDelimiter means a Reader or Writer was configured with a delimiter
	// Salesforce does not accept.
	ErrDelimiter = errors.New("unsupported column delimiter")
	// ErrLineEnding means a Writer was configured with an unknown line ending.
	ErrLineEnding = errors.New("unsupported line ending")
)

// ParseError is a problem in CSV input, located by file, row and column.
//
// Row counts records, not physical lines: the header is row 1 and a quoted
// field holding line breaks does not start a new row. Line is the physical
// line (1-based) where the record starts. Column is the 1-based field
// number; it is 0 when the error concerns the whole row.
type ParseError struct {
	File   string // input name from ReaderOptions.Name ("" if none)
	Row    int    // 1-based record number; the header is row 1
	Column int    // 1-based field number, 0 for the whole row
	Line   int    // 1-based physical line where the record starts
	Err    error  // the underlying error, e.g. ErrInvalidUTF8
}

// Error returns "file: row R, column C: message" (file and the line number
// are included when known and informative).
func (e *ParseError) Error() string {
	b := make([]byte, 0, 64)
	if e.File != "" {
		b = append(b, e.File...)
		b = append(b, ": "...)
	}
	b = append(b, "row "...)
	b = strconv.AppendInt(b, int64(e.Row), 10)
	if e.Column > 0 {
		b = append(b, ", column "...)
		b = strconv.AppendInt(b, int64(e.Column), 10)
	}
	if e.Line > 0 && e.Line != e.Row {
		b = append(b, " (line "...)
		b = strconv.AppendInt(b, int64(e.Line), 10)
		b = append(b, ')')
	}
	b = append(b, ": "...)
	if e.Err != nil {
		b = append(b, e.Err.Error()...)
	} else {
		b = append(b, "parse error"...)
	}
	return string(b)
}

// Unwrap returns e.Err.
func (e *ParseError) Unwrap() error { return e.Err }
