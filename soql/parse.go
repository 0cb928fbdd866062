package soql

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of parentheses and NOT that Parse accepts;
// deeper conditions fail with MALFORMED_QUERY instead of exhausting the stack.
const MaxDepth = 200

// reserved are the SOQL reserved words that cannot be field or object names.
var reserved = map[string]bool{
	"AND": true, "ASC": true, "DESC": true, "EXCLUDES": true, "FIRST": true, "FROM": true,
	"GROUP": true, "HAVING": true, "IN": true, "INCLUDES": true, "LAST": true, "LIKE": true,
	"LIMIT": true, "NOT": true, "NULL": true, "NULLS": true, "OR": true, "SELECT": true,
	"WHERE": true, "WITH": true,
}

// clauseWords start a clause after FROM; any other identifier there is an
// object alias.
var clauseWords = map[string]bool{
	"WHERE": true, "WITH": true, "GROUP": true, "HAVING": true, "ORDER": true, "LIMIT": true,
	"OFFSET": true, "FOR": true, "UPDATE": true, "USING": true,
}

// functions are SOQL functions recognised in order to reject them clearly.
var functions = map[string]bool{
	"AVG": true, "COUNT_DISTINCT": true, "MIN": true, "MAX": true, "SUM": true,
	"CALENDAR_MONTH": true, "CALENDAR_QUARTER": true, "CALENDAR_YEAR": true, "DAY_IN_MONTH": true,
	"DAY_IN_WEEK": true, "DAY_IN_YEAR": true, "DAY_ONLY": true, "FISCAL_MONTH": true,
	"FISCAL_QUARTER": true, "FISCAL_YEAR": true, "HOUR_IN_DAY": true, "WEEK_IN_MONTH": true,
	"WEEK_IN_YEAR": true, "TOLABEL": true, "FORMAT": true, "CONVERTCURRENCY": true,
	"CONVERTTIMEZONE": true, "DISTANCE": true, "GEOLOCATION": true, "GROUPING": true, "FIELDS": true,
}

// Parse parses a SOQL query. Errors are *Error values.
func Parse(query string) (*Query, error) {
	if !utf8.ValidString(query) {
		pos := 0
		for pos < len(query) {
			r, size := utf8.DecodeRuneInString(query[pos:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			pos += size
		}
		return nil, newError(query, pos, false, "invalid UTF-8 in query")
	}
	toks, err := lex(query)
	if err != nil {
		return nil, err
	}
	p := &parser{query: query, toks: toks}
	q, err := p.parseQuery()
	if err != nil {
		return nil, err
	}
	return q, nil
}

type parser struct {
	query string
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekAt(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// isKeyword reports whether t is the identifier kw (upper case).
func isKeyword(t token, kw string) bool {
	return t.kind == tokIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) keyword(kw string) bool {
	if isKeyword(p.peek(), kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) unexpected(t token) *Error {
	return newError(p.query, t.pos, false, "unexpected token: %s", t.display(p.query))
}

func (p *parser) unsupported(t token, what string) *Error {
	return newError(p.query, t.pos, true, "%s is not supported", what)
}

func (p *parser) expectKeyword(kw string) error {
	if !p.keyword(kw) {
		return p.unexpected(p.peek())
	}
	return nil
}

func (p *parser) expect(kind tokenKind) (token, error) {
	t := p.peek()
	if t.kind != kind {
		return t, p.unexpected(t)
	}
	return p.next(), nil
}

func (p *parser) parseQuery() (*Query, error) {
	if err := p.expectKeyword("SELECT"); err != nil {
		return nil, err
	}
	q := &Query{}
	if err := p.parseSelectList(q); err != nil {
		return nil, err
	}
	if err := p.expectKeyword("FROM"); err != nil {
		return nil, err
	}
	from := p.peek()
	if from.kind == tokLParen {
		return nil, p.unsupported(from, "a subquery in FROM")
	}
	if from.kind != tokIdent || reserved[strings.ToUpper(from.text)] {
		return nil, p.unexpected(from)
	}
	p.next()
	q.From = from.text
	if t := p.peek(); t.kind == tokComma {
		return nil, p.unsupported(t, "querying several objects")
	} else if t.kind == tokDot {
		return nil, p.unexpected(t)
	}
	if t := p.peek(); t.kind == tokIdent && !reserved[strings.ToUpper(t.text)] && !clauseWords[strings.ToUpper(t.text)] {
		return nil, p.unsupported(t, "an object alias")
	}
	if t := p.peek(); isKeyword(t, "USING") {
		return nil, p.unsupported(t, "USING SCOPE")
	}
	if p.keyword("WHERE") {
		e, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		q.Where = e
	}
	if t := p.peek(); isKeyword(t, "WITH") {
		return nil, p.unsupported(t, "WITH")
	}
	if t := p.peek(); isKeyword(t, "GROUP") {
		return nil, p.unsupported(t, "GROUP BY")
	}
	if t := p.peek(); isKeyword(t, "HAVING") {
		return nil, p.unsupported(t, "HAVING")
	}
	if p.keyword("ORDER") {
		if err := p.expectKeyword("BY"); err != nil {
			return nil, err
		}
		for {
			item, err := p.parseOrderItem()
			if err != nil {
				return nil, err
			}
			q.OrderBy = append(q.OrderBy, item)
			if p.peek().kind != tokComma {
				break
			}
			p.next()
		}
	}
	if p.keyword("LIMIT") {
		n, err := p.parseCount()
		if err != nil {
			return nil, err
		}
		q.Limit = &n
	}
	if p.keyword("OFFSET") {
		n, err := p.parseCount()
		if err != nil {
			return nil, err
		}
		q.Offset = &n
	}
	if t := p.peek(); isKeyword(t, "FOR") || isKeyword(t, "UPDATE") {
		return nil, p.unsupported(t, strings.ToUpper(t.text))
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.unexpected(t)
	}
	return q, nil
}

func (p *parser) parseSelectList(q *Query) error {
	countPos := -1
	var plain token
	hasPlain := false
	for {
		t := p.peek()
		switch {
		case t.kind == tokLParen:
			return p.unsupported(t, "a relationship subquery")
		case isKeyword(t, "TYPEOF"):
			return p.unsupported(t, "TYPEOF")
		case t.kind == tokIdent && p.peekAt(1).kind == tokLParen:
			name := strings.ToUpper(t.text)
			if name != "COUNT" {
				if functions[name] || !reserved[name] {
					return p.unsupported(t, "the function "+name+"()")
				}
				return p.unexpected(t)
			}
			p.next()
			p.next()
			item := &Count{}
			if p.peek().kind != tokRParen {
				path, err := p.parsePath()
				if err != nil {
					return err
				}
				item.Path = path
			}
			if _, err := p.expect(tokRParen); err != nil {
				return err
			}
			if a := p.peek(); a.kind == tokIdent && !reserved[strings.ToUpper(a.text)] {
				return p.unsupported(a, "a field alias")
			}
			if item.Path == nil {
				countPos = t.pos
			}
			q.Fields = append(q.Fields, item)
		default:
			path, err := p.parsePath()
			if err != nil {
				return err
			}
			if !hasPlain {
				plain, hasPlain = t, true
			}
			q.Fields = append(q.Fields, &FieldRef{Path: path})
		}
		if p.peek().kind != tokComma {
			break
		}
		p.next()
	}
	if countPos >= 0 && len(q.Fields) > 1 {
		return newError(p.query, countPos, false, "COUNT() must be the only element in the SELECT list")
	}
	if hasPlain && len(q.Fields) > 1 {
		for _, f := range q.Fields {
			if _, ok := f.(*Count); ok {
				return newError(p.query, plain.pos, false, "Field must be grouped or aggregated: %s", plain.display(p.query))
			}
		}
	}
	return nil
}

// parsePath reads a dotted field path.
func (p *parser) parsePath() ([]string, error) {
	var path []string
	for {
		t := p.peek()
		if t.kind != tokIdent || reserved[strings.ToUpper(t.text)] {
			return nil, p.unexpected(t)
		}
		p.next()
		path = append(path, t.text)
		if p.peek().kind != tokDot {
			return path, nil
		}
		p.next()
	}
}

func (p *parser) parseOrderItem() (OrderItem, error) {
	t := p.peek()
	if t.kind == tokIdent && p.peekAt(1).kind == tokLParen {
		return OrderItem{}, p.unsupported(t, "ORDER BY a function")
	}
	path, err := p.parsePath()
	if err != nil {
		return OrderItem{}, err
	}
	item := OrderItem{Path: path}
	if p.keyword("DESC") {
		item.Desc = true
	} else {
		p.keyword("ASC")
	}
	if p.keyword("NULLS") {
		item.NullsSet = true
		switch {
		case p.keyword("FIRST"):
		case p.keyword("LAST"):
			item.NullsLast = true
		default:
			return OrderItem{}, p.unexpected(p.peek())
		}
	}
	return item, nil
}

// parseCount reads the non-negative integer after LIMIT or OFFSET.
func (p *parser) parseCount() (int, error) {
	t := p.peek()
	if t.kind != tokNumber {
		return 0, p.unexpected(t)
	}
	n, err := strconv.Atoi(t.text)
	if err != nil || n < 0 || strings.HasPrefix(t.text, "+") {
		return 0, p.unexpected(t)
	}
	p.next()
	return n, nil
}

func (p *parser) enter(t token) error {
	p.depth++
	if p.depth > MaxDepth {
		return newError(p.query, t.pos, false, "condition nested deeper than %d levels", MaxDepth)
	}
	return nil
}

func (p *parser) parseOr() (Expr, error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.keyword("OR") {
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		left = &Or{Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) parseAnd() (Expr, error) {
	left, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	for p.keyword("AND") {
		right, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		left = &And{Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) parseNot() (Expr, error) {
	t := p.peek()
	if isKeyword(t, "NOT") {
		if err := p.enter(t); err != nil {
			return nil, err
		}
		p.next()
		e, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		p.depth--
		return &Not{Expr: e}, nil
	}
	if t.kind == tokLParen {
		if err := p.enter(t); err != nil {
			return nil, err
		}
		p.next()
		e, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen); err != nil {
			return nil, err
		}
		p.depth--
		return e, nil
	}
	return p.parseComparison()
}

func (p *parser) parseComparison() (Expr, error) {
	t := p.peek()
	if t.kind == tokIdent && p.peekAt(1).kind == tokLParen {
		name := strings.ToUpper(t.text)
		if functions[name] || name == "COUNT" {
			return nil, p.unsupported(t, "the function "+name+"() in WHERE")
		}
		return nil, p.unexpected(t)
	}
	path, err := p.parsePath()
	if err != nil {
		return nil, err
	}
	c := &Comparison{Path: path}
	op := p.peek()
	switch {
	case op.kind == tokOp:
		p.next()
		c.Op = op.text
	case isKeyword(op, "LIKE"):
		p.next()
		c.Op = "LIKE"
	case isKeyword(op, "IN"):
		p.next()
		c.Op = "IN"
	case isKeyword(op, "INCLUDES"):
		p.next()
		c.Op = "INCLUDES"
	case isKeyword(op, "EXCLUDES"):
		p.next()
		c.Op = "EXCLUDES"
	case isKeyword(op, "NOT") && isKeyword(p.peekAt(1), "IN"):
		p.next()
		p.next()
		c.Op = "NOT IN"
	default:
		return nil, p.unexpected(op)
	}
	if IsList(c.Op) {
		vals, err := p.parseValueList()
		if err != nil {
			return nil, err
		}
		c.Values = vals
		return c, nil
	}
	v, err := p.parseValue()
	if err != nil {
		return nil, err
	}
	c.Value = v
	return c, nil
}

func (p *parser) parseValueList() ([]Value, error) {
	if _, err := p.expect(tokLParen); err != nil {
		return nil, err
	}
	if t := p.peek(); isKeyword(t, "SELECT") {
		return nil, p.unsupported(t, "a semi-join subquery")
	}
	var vals []Value
	for {
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
		if p.peek().kind != tokComma {
			break
		}
		p.next()
	}
	if _, err := p.expect(tokRParen); err != nil {
		return nil, err
	}
	return vals, nil
}

func (p *parser) parseValue() (Value, error) {
	t := p.peek()
	switch t.kind {
	case tokString:
		p.next()
		return StringLit{Value: t.text}, nil
	case tokNumber:
		p.next()
		f, _ := strconv.ParseFloat(t.text, 64) // validated by the lexer
		return NumberLit{Text: t.text, Value: f}, nil
	case tokDate:
		tm, err := time.Parse("2006-01-02", t.text)
		if err != nil {
			return nil, newError(p.query, t.pos, false, "invalid date: %s", t.text)
		}
		p.next()
		return DateLit{Text: t.text, Time: tm}, nil
	case tokDateTime:
		tm, err := parseDateTime(t.text)
		if err != nil {
			return nil, newError(p.query, t.pos, false, "invalid datetime: %s", t.text)
		}
		p.next()
		return DateTimeLit{Text: t.text, Time: tm}, nil
	case tokIdent:
		up := strings.ToUpper(t.text)
		switch up {
		case "NULL":
			p.next()
			return NullLit{}, nil
		case "TRUE", "FALSE":
			p.next()
			return BoolLit{Value: up == "TRUE"}, nil
		}
		if dateLiterals[up] {
			p.next()
			return DateLiteral{Name: up}, nil
		}
		if dateLiteralsN[up] {
			p.next()
			if _, err := p.expect(tokColon); err != nil {
				return nil, err
			}
			nt := p.peek()
			n, err := strconv.Atoi(nt.text)
			if nt.kind != tokNumber || err != nil || n < 0 || strings.HasPrefix(nt.text, "+") {
				return nil, p.unexpected(nt)
			}
			p.next()
			return DateLiteral{Name: up, N: n}, nil
		}
		if p.peekAt(1).kind == tokColon {
			return nil, newError(p.query, t.pos, false, "unknown date literal: %s", t.text)
		}
	case tokColon:
		return nil, p.unsupported(t, "a bind variable")
	}
	return nil, p.unexpected(t)
}

// parseDateTime parses the datetime forms SOQL accepts.
func parseDateTime(s string) (time.Time, error) {
	s = strings.ToUpper(s)
	layouts := []string{
		"2006-01-02T15:04:05Z07:00",
		"2006-01-02T15:04:05.999999999Z07:00",
		"2006-01-02T15:04:05Z0700",
		"2006-01-02T15:04:05.999999999Z0700",
	}
	var err error
	for _, l := range layouts {
		var tm time.Time
		if tm, err = time.Parse(l, s); err == nil {
			return tm.UTC(), nil
		}
	}
	return time.Time{}, err
}
