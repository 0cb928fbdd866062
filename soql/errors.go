package soql

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// CodeMalformedQuery is the Salesforce error code for a query that does not
// parse.
const CodeMalformedQuery = "MALFORMED_QUERY"

// Error is a query that could not be parsed or rewritten.
type Error struct {
	// Code is "MALFORMED_QUERY".
	Code string
	// Pos is the byte offset of the offending token in the query.
	Pos int
	// Row and Column are the 1-based line and character column of Pos.
	Row, Column int
	// Reason is the short reason, such as "unexpected token: FORM".
	Reason string
	// Message is the message in the shape of Salesforce's REST error body:
	// "\n<query line>\n<spaces>^\nERROR at Row:1:Column:11\n<reason>".
	Message string
	// Unsupported is true when the query is valid SOQL that this package
	// deliberately does not support (subqueries, GROUP BY, ...).
	Unsupported bool
}

// Error returns a single-line description: code, position and reason.
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s (at Row:%d:Column:%d)", e.Code, e.Reason, e.Row, e.Column)
}

// newError builds an *Error for position pos of query.
func newError(query string, pos int, unsupported bool, format string, args ...any) *Error {
	if pos < 0 {
		pos = 0
	}
	if pos > len(query) {
		pos = len(query)
	}
	reason := fmt.Sprintf(format, args...)
	row := 1 + strings.Count(query[:pos], "\n")
	lineStart := strings.LastIndexByte(query[:pos], '\n') + 1
	lineEnd := strings.IndexByte(query[pos:], '\n')
	if lineEnd < 0 {
		lineEnd = len(query)
	} else {
		lineEnd += pos
	}
	col := utf8.RuneCountInString(query[lineStart:pos]) + 1
	line := strings.TrimRight(query[lineStart:lineEnd], "\r")
	var b strings.Builder
	b.WriteString("\n")
	b.WriteString(line)
	b.WriteString("\n")
	b.WriteString(strings.Repeat(" ", col-1))
	fmt.Fprintf(&b, "^\nERROR at Row:%d:Column:%d\n%s", row, col, reason)
	return &Error{
		Code:        CodeMalformedQuery,
		Pos:         pos,
		Row:         row,
		Column:      col,
		Reason:      reason,
		Message:     b.String(),
		Unsupported: unsupported,
	}
}
