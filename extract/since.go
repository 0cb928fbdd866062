package extract

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/soql"
)

// DefaultWatermarkField is the field an incremental read compares by default: Salesforce
// sets it on every change, deletion and undeletion included.
const DefaultWatermarkField = "SystemModstamp"

// watermarkLayout is how watermarks are written (UTC, milliseconds, a SOQL datetime literal).
const watermarkLayout = "2006-01-02T15:04:05.000Z"

// Window is the part of an incremental read between two watermarks: rows whose Field is
// after From (every row when From is empty) and at most To. Rows changed after To are left
// for the next window, so a window read twice returns the same rows.
type Window struct {
	Field string `json:"field"`
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
}

// LatestWatermark returns the largest value of field among the rows of opts' query,
// deleted rows included ("" when no row has one), as a SOQL datetime literal in UTC.
func LatestWatermark(ctx context.Context, c *salesforce.Client, opts Options, field string) (string, error) {
	opts, err := opts.ExpandFields(ctx, c)
	if err != nil {
		return "", err
	}
	s, err := opts.resolve(false)
	if err != nil {
		return "", err
	}
	q, err := soql.Parse(s.query)
	if err != nil {
		return "", fmt.Errorf("extract: an incremental read needs a query this package parses: %w", err)
	}
	mq := *q
	mq.Fields = []soql.SelectItem{&soql.FieldRef{Path: []string{field}}}
	mq.OrderBy = []soql.OrderItem{{Path: []string{field}, Desc: true, NullsSet: true, NullsLast: true}}
	one := 1
	mq.Limit, mq.Offset = &one, nil
	for rec, err := range c.QueryAll(ctx, mq.String()) {
		if err != nil {
			return "", fmt.Errorf("extract: finding the latest %s: %w", field, err)
		}
		v, _ := rec.Get(field)
		str, _ := v.(string)
		if str == "" {
			return "", nil
		}
		t, err := parseDateTime(str)
		if err != nil {
			return "", fmt.Errorf("extract: watermark field %s: %w", field, err)
		}
		return FormatWatermark(t), nil
	}
	return "", nil
}

// FormatWatermark writes t as a watermark.
func FormatWatermark(t time.Time) string { return t.UTC().Format(watermarkLayout) }

// WithWindow rewrites query to read only window w: it ANDs "Field > From" (when From is set)
// and "Field <= To" with the query's condition, and with deleted set it adds IsDeleted to the
// SELECT list unless it is there (a queryAll read then tells deleted rows apart).
func WithWindow(query string, w Window, deleted bool) (string, error) {
	q, err := soql.Parse(query)
	if err != nil {
		return "", fmt.Errorf("extract: an incremental read needs a query this package parses: %w", err)
	}
	if q.Limit != nil || q.Offset != nil {
		return "", fmt.Errorf("extract: an incremental read cannot have LIMIT or OFFSET")
	}
	lit := func(v string) (soql.Value, error) {
		t, err := parseDateTime(v)
		if err != nil {
			return nil, fmt.Errorf("extract: watermark %q: %w", v, err)
		}
		return soql.DateTimeLit{Text: FormatWatermark(t), Time: t.UTC()}, nil
	}
	var cond soql.Expr
	if w.From != "" {
		v, err := lit(w.From)
		if err != nil {
			return "", err
		}
		cond = &soql.Comparison{Path: []string{w.Field}, Op: ">", Value: v}
	}
	if w.To != "" {
		v, err := lit(w.To)
		if err != nil {
			return "", err
		}
		c := &soql.Comparison{Path: []string{w.Field}, Op: "<=", Value: v}
		if cond == nil {
			cond = c
		} else {
			cond = &soql.And{Left: cond, Right: c}
		}
	}
	if cond != nil {
		if q.Where == nil {
			q.Where = cond
		} else {
			q.Where = &soql.And{Left: q.Where, Right: cond}
		}
	}
	if deleted {
		has := false
		for _, f := range q.Fields {
			if fr, ok := f.(*soql.FieldRef); ok && len(fr.Path) == 1 && strings.EqualFold(fr.Path[0], "IsDeleted") {
				has = true
			}
		}
		if !has {
			q.Fields = append(q.Fields, &soql.FieldRef{Path: []string{"IsDeleted"}})
		}
	}
	return q.String(), nil
}

// SOQL returns the query opts describe: Query, or the one built from Object, Fields and Where.
func (o Options) SOQL() (string, error) {
	s, err := o.resolve(false)
	if err != nil {
		return "", err
	}
	return s.query, nil
}
