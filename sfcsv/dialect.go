package sfcsv

import (
	"fmt"
	"strings"
)

// Delimiter is a column delimiter Salesforce accepts for Bulk API CSV data
// (the columnDelimiter job property). The zero value means Comma.
type Delimiter byte

// The column delimiters of Bulk API 2.0 (Bulk API 1.0 accepts only Comma).
const (
	Comma     Delimiter = ','  // COMMA, the default
	Tab       Delimiter = '\t' // TAB
	Pipe      Delimiter = '|'  // PIPE
	Semicolon Delimiter = ';'  // SEMICOLON
	Caret     Delimiter = '^'  // CARET
	Backquote Delimiter = '`'  // BACKQUOTE
)

// Delimiters lists every delimiter Salesforce accepts, in documentation order.
func Delimiters() []Delimiter {
	return []Delimiter{Comma, Tab, Pipe, Semicolon, Caret, Backquote}
}

// ParseDelimiter returns the delimiter for a Salesforce columnDelimiter name
// ("COMMA", "TAB", "PIPE", "SEMICOLON", "CARET", "BACKQUOTE", any case) or for
// the delimiter character itself (",", "\t", "|", ";", "^", "`"). The empty
// string means Comma, Salesforce's default.
func ParseDelimiter(name string) (Delimiter, error) {
	if name == "\t" {
		return Tab, nil
	}
	switch strings.ToUpper(strings.TrimSpace(name)) {
	case "", "COMMA", ",":
		return Comma, nil
	case "TAB":
		return Tab, nil
	case "PIPE", "|":
		return Pipe, nil
	case "SEMICOLON", ";":
		return Semicolon, nil
	case "CARET", "^":
		return Caret, nil
	case "BACKQUOTE", "`":
		return Backquote, nil
	}
	return 0, fmt.Errorf("sfcsv: unknown column delimiter %q (want COMMA, TAB, PIPE, SEMICOLON, CARET or BACKQUOTE)", name)
}

// Valid reports whether d is one of the delimiters Salesforce accepts (or the
// zero value, which means Comma).
func (d Delimiter) Valid() bool {
	switch d {
	case 0, Comma, Tab, Pipe, Semicolon, Caret, Backquote:
		return true
	}
	return false
}

// Name returns the Salesforce columnDelimiter name ("COMMA", "TAB", ...).
// The zero value is "COMMA"; an unsupported delimiter gives "Delimiter(0x..)".
func (d Delimiter) Name() string {
	switch d {
	case 0, Comma:
		return "COMMA"
	case Tab:
		return "TAB"
	case Pipe:
		return "PIPE"
	case Semicolon:
		return "SEMICOLON"
	case Caret:
		return "CARET"
	case Backquote:
		return "BACKQUOTE"
	}
	return fmt.Sprintf("Delimiter(%#02x)", byte(d))
}

// String returns d.Name().
func (d Delimiter) String() string { return d.Name() }

// byteValue resolves the zero value to Comma.
func (d Delimiter) byteValue() byte {
	if d == 0 {
		return ','
	}
	return byte(d)
}

// LineEnding is the record terminator of a CSV file (the lineEnding job
// property). The zero value is LF, Salesforce's default.
type LineEnding int

// Line endings Salesforce accepts.
const (
	LF   LineEnding = iota // "\n", the default
	CRLF                   // "\r\n"
)

// ParseLineEnding parses "LF" or "CRLF" (any case). The empty string means LF.
func ParseLineEnding(name string) (LineEnding, error) {
	switch strings.ToUpper(strings.TrimSpace(name)) {
	case "", "LF":
		return LF, nil
	case "CRLF":
		return CRLF, nil
	}
	return 0, fmt.Errorf("sfcsv: unknown line ending %q (want LF or CRLF)", name)
}

// String returns the Salesforce lineEnding name, "LF" or "CRLF".
func (le LineEnding) String() string {
	switch le {
	case LF:
		return "LF"
	case CRLF:
		return "CRLF"
	}
	return fmt.Sprintf("LineEnding(%d)", int(le))
}

// Valid reports whether le is LF or CRLF.
func (le LineEnding) Valid() bool { return le == LF || le == CRLF }

// Terminator returns the bytes that end a record: "\n" or "\r\n".
func (le LineEnding) Terminator() string {
	if le == CRLF {
		return "\r\n"
	}
	return "\n"
}

// NullValue is the cell text that sets a field to null in a Bulk API load.
// An empty cell instead leaves the field unchanged on update.
const NullValue = "#N/A"

// BOM is the UTF-8 byte order mark. Salesforce does not strip it (a file that
// starts with one fails with "Field name not found : \ufeffName"), so the
// Reader strips it and the Writer writes it only on request.
const BOM = "\ufeff"
