package soql

import "time"

// Query is a parsed SOQL SELECT statement.
type Query struct {
	// Fields is the SELECT list in the order written.
	Fields []SelectItem
	// From is the object name as written (case preserved).
	From string
	// Where is the condition, nil when the query has no WHERE clause.
	Where Expr
	// OrderBy lists the ORDER BY items in order; empty when absent.
	OrderBy []OrderItem
	// Limit and Offset are nil when the clause is absent.
	Limit, Offset *int
}

// IsCount reports whether the SELECT list is exactly COUNT() (a row count
// query whose result is only a total size, not rows).
func (q *Query) IsCount() bool {
	if len(q.Fields) != 1 {
		return false
	}
	c, ok := q.Fields[0].(*Count)
	return ok && c.Path == nil
}

// SelectItem is one element of the SELECT list: *FieldRef or *Count.
type SelectItem interface {
	selectItem()
	// String returns the item as canonical SOQL.
	String() string
}

// FieldRef is a field, or a dotted path through parent relationships, such as
// ["Account", "Owner", "Name"].
type FieldRef struct {
	Path []string
}

// Count is COUNT() (Path nil) or COUNT(field) (Path set).
type Count struct {
	Path []string
}

func (*FieldRef) selectItem() {}
func (*Count) selectItem()    {}

// OrderItem is one ORDER BY element.
type OrderItem struct {
	Path []string
	// Desc is true for DESC; the default is ascending.
	Desc bool
	// NullsSet is true when NULLS FIRST or NULLS LAST was written; NullsLast
	// says which. When NullsSet is false Salesforce sorts nulls first for
	// ascending and last for descending order.
	NullsSet  bool
	NullsLast bool
}

// Expr is a WHERE condition: *And, *Or, *Not or *Comparison.
type Expr interface {
	expr()
	// String returns the condition as canonical SOQL.
	String() string
}

// And is the conjunction of two conditions.
type And struct{ Left, Right Expr }

// Or is the disjunction of two conditions.
type Or struct{ Left, Right Expr }

// Not is the negation of a condition.
type Not struct{ Expr Expr }

// Comparison compares a field with a value or a list of values.
type Comparison struct {
	// Path is the field, or dotted relationship path, on the left.
	Path []string
	// Op is one of "=", "!=", "<>", "<", "<=", ">", ">=", "LIKE", "IN",
	// "NOT IN", "INCLUDES", "EXCLUDES" (keywords in upper case).
	Op string
	// Value is the right-hand side for single-valued operators.
	Value Value
	// Values is the list for IN, NOT IN, INCLUDES and EXCLUDES.
	Values []Value
}

// IsList reports whether op takes a parenthesised list of values.
func IsList(op string) bool {
	switch op {
	case "IN", "NOT IN", "INCLUDES", "EXCLUDES":
		return true
	}
	return false
}

func (*And) expr()        {}
func (*Or) expr()         {}
func (*Not) expr()        {}
func (*Comparison) expr() {}

// Value is a literal: StringLit, NumberLit, BoolLit, NullLit, DateLit,
// DateTimeLit or DateLiteral.
type Value interface {
	value()
	// String returns the literal as canonical SOQL.
	String() string
}

// StringLit is a quoted string with escapes decoded. The LIKE escapes \% and
// \_ are kept as written (backslash included) so that Like treats them as
// literal characters.
type StringLit struct{ Value string }

// NumberLit is a numeric literal; Text is as written, Value its value.
type NumberLit struct {
	Text  string
	Value float64
}

// BoolLit is true or false.
type BoolLit struct{ Value bool }

// NullLit is null.
type NullLit struct{}

// DateLit is a date such as 2024-01-31; Time is midnight UTC of that day.
type DateLit struct {
	Text string
	Time time.Time
}

// DateTimeLit is a datetime such as 2024-01-31T10:00:00Z; Time is in UTC.
type DateTimeLit struct {
	Text string
	Time time.Time
}

// DateLiteral is a relative date literal such as TODAY or LAST_N_DAYS:30.
// Name is upper case; N is the number after the colon for the N_ forms.
type DateLiteral struct {
	Name string
	N    int
}

func (StringLit) value()   {}
func (NumberLit) value()   {}
func (BoolLit) value()     {}
func (NullLit) value()     {}
func (DateLit) value()     {}
func (DateTimeLit) value() {}
func (DateLiteral) value() {}
