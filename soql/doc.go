// Package soql parses the subset of the Salesforce Object Query Language
// (SOQL) that sfbatch needs: the emulator evaluates the resulting syntax tree
// against its records, and the extract engine rewrites queries to split them
// into id ranges.
//
// # Supported syntax
//
//	SELECT field[, field...] | COUNT() | COUNT(field)
//	FROM object
//	[WHERE condition]
//	[ORDER BY path [ASC|DESC] [NULLS FIRST|LAST][, ...]]
//	[LIMIT n] [OFFSET n]
//
// Fields are dotted relationship paths (Account.Owner.Name). Conditions
// combine comparisons with AND, OR, NOT and parentheses; NOT binds tighter than
// AND, which binds tighter than OR. Comparison operators are =, !=, <>, <, <=,
// >, >=, LIKE, IN, NOT IN, INCLUDES and EXCLUDES. Values are strings in single
// quotes with backslash escapes, numbers, true, false, null, dates
// (2024-01-31), datetimes (2024-01-31T10:00:00Z, with milliseconds or a
// +hh:mm offset) and relative date literals (TODAY, LAST_N_DAYS:30, ...).
// Keywords are case-insensitive.
//
// Valid SOQL that this package does not support (subqueries, GROUP BY, HAVING,
// WITH, aggregate functions other than COUNT, TYPEOF, FOR UPDATE, object
// aliases, ...) is recognised and rejected with an *Error whose Unsupported
// field is true; it is never silently ignored.
//
// # Errors
//
// Parse errors are *Error values with Code "MALFORMED_QUERY". Their Message
// has the multi-line shape Salesforce uses in its REST error bodies: the query
// line, a caret under the offending token, "ERROR at Row:r:Column:c" and the
// reason, for example "unexpected token: FORM".
//
// # Differences from Salesforce
//
// Salesforce requires parentheses when AND and OR are mixed at one level;
// this parser accepts such conditions with the usual precedence, and the
// printer always emits the parentheses so that printed queries are accepted
// by Salesforce. Weeks start on Sunday and the fiscal year is the calendar
// year (the Salesforce defaults) when date literals are resolved.
//
// All functions are safe for concurrent use; a *Query is a plain value that
// must not be mutated while other goroutines read it.
package soql
