package soql

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

type tokenKind int

const (
	tokEOF      tokenKind = iota
	tokIdent              // identifier or keyword; text as written
	tokString             // quoted string; text is the decoded value
	tokNumber             // number; text as written
	tokDate               // yyyy-mm-dd
	tokDateTime           // yyyy-mm-ddThh:mm:ss[.sss](Z|+hh:mm|-hh:mm)
	tokOp                 // = != <> < <= > >=
	tokComma
	tokDot
	tokLParen
	tokRParen
	tokColon
)

type token struct {
	kind tokenKind
	text string
	pos  int // byte offset
	end  int // byte offset after the token
}

// display returns the token as Salesforce names it in "unexpected token".
func (t token) display(query string) string {
	if t.kind == tokEOF {
		return "<EOF>"
	}
	return query[t.pos:t.end]
}

// lex splits the whole query into tokens.
func lex(query string) ([]token, error) {
	var toks []token
	i := 0
	for {
		for i < len(query) && isSpace(query[i]) {
			i++
		}
		if i >= len(query) {
			toks = append(toks, token{kind: tokEOF, pos: len(query), end: len(query)})
			return toks, nil
		}
		start := i
		c := query[i]
		switch {
		case isIdentStart(c):
			for i < len(query) && isIdentPart(query[i]) {
				i++
			}
			toks = append(toks, token{kind: tokIdent, text: query[start:i], pos: start, end: i})
		case isDigit(c) || ((c == '-' || c == '+' || c == '.') && i+1 < len(query) && isDigit(query[i+1])):
			t, err := lexNumberOrDate(query, start)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i = t.end
		case c == '\'':
			t, err := lexString(query, start)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i = t.end
		case c == ',':
			i++
			toks = append(toks, token{kind: tokComma, text: ",", pos: start, end: i})
		case c == '.':
			i++
			toks = append(toks, token{kind: tokDot, text: ".", pos: start, end: i})
		case c == '(':
			i++
			toks = append(toks, token{kind: tokLParen, text: "(", pos: start, end: i})
		case c == ')':
			i++
			toks = append(toks, token{kind: tokRParen, text: ")", pos: start, end: i})
		case c == ':':
			i++
			toks = append(toks, token{kind: tokColon, text: ":", pos: start, end: i})
		case c == '=':
			i++
			toks = append(toks, token{kind: tokOp, text: "=", pos: start, end: i})
		case c == '!':
			if i+1 < len(query) && query[i+1] == '=' {
				i += 2
				toks = append(toks, token{kind: tokOp, text: "!=", pos: start, end: i})
			} else {
				return nil, newError(query, start, false, "unexpected token: !")
			}
		case c == '<':
			i++
			op := "<"
			if i < len(query) && (query[i] == '=' || query[i] == '>') {
				op += string(query[i])
				i++
			}
			toks = append(toks, token{kind: tokOp, text: op, pos: start, end: i})
		case c == '>':
			i++
			op := ">"
			if i < len(query) && query[i] == '=' {
				op = ">="
				i++
			}
			toks = append(toks, token{kind: tokOp, text: op, pos: start, end: i})
		default:
			r, size := utf8.DecodeRuneInString(query[i:])
			if r == utf8.RuneError && size <= 1 {
				return nil, newError(query, start, false, "invalid UTF-8 in query")
			}
			return nil, newError(query, start, false, "unexpected token: %s", string(r))
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
}
func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) }

// lexNumberOrDate reads a number, a date or a datetime starting at start.
func lexNumberOrDate(query string, start int) (token, error) {
	i := start
	if query[i] == '-' || query[i] == '+' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(query) && isDigit(query[i]) {
			i++
			n++
		}
		return n
	}
	n := digits()
	// Date: exactly yyyy-mm-dd, unsigned.
	if n == 4 && start == i-4 && i+6 <= len(query) && query[i] == '-' &&
		isDigit(query[i+1]) && isDigit(query[i+2]) && query[i+3] == '-' &&
		isDigit(query[i+4]) && isDigit(query[i+5]) {
		i += 6
		if i < len(query) && (query[i] == 'T' || query[i] == 't') {
			return lexDateTimeTail(query, start, i)
		}
		if i < len(query) && isIdentPart(query[i]) {
			return token{}, newError(query, start, false, "unexpected token: %s", identEnd(query, start))
		}
		return token{kind: tokDate, text: query[start:i], pos: start, end: i}, nil
	}
	if i < len(query) && query[i] == '.' {
		i++
		if digits() == 0 && n == 0 {
			return token{}, newError(query, start, false, "unexpected token: %s", query[start:i])
		}
	}
	if i < len(query) && (query[i] == 'e' || query[i] == 'E') {
		j := i + 1
		if j < len(query) && (query[j] == '+' || query[j] == '-') {
			j++
		}
		if j < len(query) && isDigit(query[j]) {
			i = j
			digits()
		}
	}
	if i < len(query) && isIdentPart(query[i]) {
		return token{}, newError(query, start, false, "unexpected token: %s", identEnd(query, start))
	}
	text := query[start:i]
	if _, err := strconv.ParseFloat(text, 64); err != nil {
		return token{}, newError(query, start, false, "invalid number: %s", text)
	}
	return token{kind: tokNumber, text: text, pos: start, end: i}, nil
}

// identEnd returns the run of identifier-like characters at start, for error
// messages.
func identEnd(query string, start int) string {
	i := start
	for i < len(query) && (isIdentPart(query[i]) || query[i] == '-' || query[i] == '+' || query[i] == '.' || query[i] == ':') {
		i++
	}
	return query[start:i]
}

// lexDateTimeTail reads the time part of a datetime; i is at the 'T'.
func lexDateTimeTail(query string, start, i int) (token, error) {
	bad := func() (token, error) {
		return token{}, newError(query, start, false, "unexpected token: %s", identEnd(query, start))
	}
	i++ // T
	two := func() bool {
		if i+2 <= len(query) && isDigit(query[i]) && isDigit(query[i+1]) {
			i += 2
			return true
		}
		return false
	}
	if !two() || i >= len(query) || query[i] != ':' {
		return bad()
	}
	i++
	if !two() || i >= len(query) || query[i] != ':' {
		return bad()
	}
	i++
	if !two() {
		return bad()
	}
	if i < len(query) && query[i] == '.' {
		i++
		n := 0
		for i < len(query) && isDigit(query[i]) {
			i++
			n++
		}
		if n == 0 {
			return bad()
		}
	}
	switch {
	case i < len(query) && (query[i] == 'Z' || query[i] == 'z'):
		i++
	case i < len(query) && (query[i] == '+' || query[i] == '-'):
		i++
		if !two() {
			return bad()
		}
		if i < len(query) && query[i] == ':' {
			i++
		}
		if !two() {
			return bad()
		}
	default:
		return bad()
	}
	if i < len(query) && isIdentPart(query[i]) {
		return bad()
	}
	return token{kind: tokDateTime, text: query[start:i], pos: start, end: i}, nil
}

// lexString reads a single-quoted string with SOQL escapes.
func lexString(query string, start int) (token, error) {
	var b strings.Builder
	i := start + 1
	for i < len(query) {
		c := query[i]
		switch c {
		case '\'':
			return token{kind: tokString, text: b.String(), pos: start, end: i + 1}, nil
		case '\\':
			if i+1 >= len(query) {
				return token{}, newError(query, i, false, "invalid escape sequence at end of string")
			}
			e := query[i+1]
			switch e {
			case '\'', '"', '\\':
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case '%', '_':
				// LIKE escapes keep their backslash.
				b.WriteByte('\\')
				b.WriteByte(e)
			case 'u':
				if i+6 > len(query) {
					return token{}, newError(query, i, false, "Invalid string literal: invalid unicode escape")
				}
				v, err := strconv.ParseUint(query[i+2:i+6], 16, 32)
				if err != nil {
					return token{}, newError(query, i, false, "Invalid string literal: invalid unicode escape")
				}
				b.WriteRune(rune(v))
				i += 4
			default:
				return token{}, newError(query, i, false, "Invalid string literal '%s'. Illegal character sequence '\\%c' in string literal.", truncate(query[start:], 40), e)
			}
			i += 2
		default:
			b.WriteByte(c)
			i++
		}
	}
	return token{}, newError(query, start, false, "unterminated string literal")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
