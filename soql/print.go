package soql

import (
	"strconv"
	"strings"
)

// String returns the query as canonical SOQL: keywords in upper case, single
// spaces, parentheses wherever AND and OR meet, ASC omitted. Parse of the
// result gives an equal Query.
func (q *Query) String() string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, f := range q.Fields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.String())
	}
	b.WriteString(" FROM ")
	b.WriteString(q.From)
	if q.Where != nil {
		b.WriteString(" WHERE ")
		b.WriteString(q.Where.String())
	}
	if len(q.OrderBy) > 0 {
		b.WriteString(" ORDER BY ")
		for i, o := range q.OrderBy {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(o.String())
		}
	}
	if q.Limit != nil {
		b.WriteString(" LIMIT ")
		b.WriteString(strconv.Itoa(*q.Limit))
	}
	if q.Offset != nil {
		b.WriteString(" OFFSET ")
		b.WriteString(strconv.Itoa(*q.Offset))
	}
	return b.String()
}

// String returns the dotted path.
func (f *FieldRef) String() string { return strings.Join(f.Path, ".") }

// String returns COUNT() or COUNT(path).
func (c *Count) String() string { return "COUNT(" + strings.Join(c.Path, ".") + ")" }

// String returns the ORDER BY item.
func (o OrderItem) String() string {
	s := strings.Join(o.Path, ".")
	if o.Desc {
		s += " DESC"
	}
	if o.NullsSet {
		if o.NullsLast {
			s += " NULLS LAST"
		} else {
			s += " NULLS FIRST"
		}
	}
	return s
}

// String returns the conjunction. An operand that is an *Or, or a right
// operand that is an *And, is parenthesised.
func (e *And) String() string {
	_, leftAnd := e.Left.(*And)
	return operand(e.Left, leftAnd) + " AND " + operand(e.Right, false)
}

// String returns the disjunction. An operand that is an *And (Salesforce
// requires these parentheses), or a right operand that is an *Or, is
// parenthesised.
func (e *Or) String() string {
	_, leftOr := e.Left.(*Or)
	return operand(e.Left, leftOr) + " OR " + operand(e.Right, false)
}

// operand prints a child of a binary condition, parenthesised unless it is a
// comparison or a NOT, or bare is set.
func operand(child Expr, bare bool) string {
	switch child.(type) {
	case *Comparison, *Not:
		return child.String()
	}
	if bare {
		return child.String()
	}
	return "(" + child.String() + ")"
}

// String returns "NOT (condition)".
func (e *Not) String() string { return "NOT (" + e.Expr.String() + ")" }

// String returns the comparison.
func (c *Comparison) String() string {
	var b strings.Builder
	b.WriteString(strings.Join(c.Path, "."))
	b.WriteByte(' ')
	b.WriteString(c.Op)
	b.WriteByte(' ')
	if IsList(c.Op) {
		b.WriteByte('(')
		for i, v := range c.Values {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(v.String())
		}
		b.WriteByte(')')
		return b.String()
	}
	if c.Value == nil {
		b.WriteString("null")
	} else {
		b.WriteString(c.Value.String())
	}
	return b.String()
}

// String returns the quoted, escaped string.
func (v StringLit) String() string { return Quote(v.Value) }

// String returns the number as written.
func (v NumberLit) String() string { return v.Text }

// String returns true or false.
func (v BoolLit) String() string { return strconv.FormatBool(v.Value) }

// String returns null.
func (NullLit) String() string { return "null" }

// String returns the date as written.
func (v DateLit) String() string { return v.Text }

// String returns the datetime as written.
func (v DateTimeLit) String() string { return v.Text }

// String returns NAME or NAME:n.
func (v DateLiteral) String() string {
	if dateLiteralsN[v.Name] {
		return v.Name + ":" + strconv.Itoa(v.N)
	}
	return v.Name
}

// Quote returns s as a SOQL string literal: in single quotes, with quote,
// backslash and control characters escaped. A backslash followed by % or _
// is kept as written (a LIKE escape).
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\'':
			b.WriteString(`\'`)
		case '\\':
			if i+1 < len(s) && (s[i+1] == '%' || s[i+1] == '_') {
				b.WriteByte('\\')
				b.WriteByte(s[i+1])
				i++
			} else {
				b.WriteString(`\\`)
			}
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
