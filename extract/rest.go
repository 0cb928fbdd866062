package extract

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/soql"
)

// choose picks the API for APIAuto: Bulk 2.0 for id-range chunking, for
// queries this package cannot parse (Salesforce judges them) and when the
// count fails; REST when a COUNT() of the query is at most RESTMaxRows, or
// the query uses OFFSET or COUNT (which Bulk API 2.0 rejects); Bulk 2.0
// otherwise.
func (e *engine) choose(ctx context.Context) (API, error) {
	if e.s.IDChunks > 1 {
		return APIBulk2, nil
	}
	q, err := soql.Parse(e.s.query)
	if err != nil {
		e.s.log.Debug("extract: query not parsed locally; using Bulk 2.0", "err", err)
		return APIBulk2, nil
	}
	if q.Offset != nil || q.IsCount() {
		return APIREST, nil
	}
	for _, f := range q.Fields {
		if _, ok := f.(*soql.Count); ok {
			return APIREST, nil
		}
	}
	cq := *q
	cq.Fields = []soql.SelectItem{&soql.Count{}}
	cq.OrderBy, cq.Limit, cq.Offset = nil, nil, nil
	page, err := e.c.rest.QueryPage(ctx, cq.String())
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		// A COUNT() can time out on a large object: Bulk API 2.0 is the
		// right choice then, and it reports any error in the query itself.
		e.s.log.Warn("extract: could not estimate the row count; using Bulk 2.0", "err", err)
		return APIBulk2, nil
	}
	n := page.TotalSize
	if q.Limit != nil {
		n = min(n, *q.Limit)
	}
	e.s.log.Debug("extract: estimated rows", "rows", n)
	if n <= e.s.restMax {
		return APIREST, nil
	}
	return APIBulk2, nil
}

// runREST pages through the REST query (or queryAll) resource. Columns are
// the SELECT list as written; values are formatted as in Bulk CSV results.
func (e *engine) runREST(ctx context.Context) error {
	q, err := soql.Parse(e.s.query)
	if err != nil {
		return fmt.Errorf("extract: the REST API path needs a query this package can parse (use API bulk2 otherwise): %w", err)
	}
	var cols []string
	var paths []string
	countOnly := q.IsCount()
	exprN := 0
	for _, f := range q.Fields {
		switch f := f.(type) {
		case *soql.FieldRef:
			cols = append(cols, f.String())
			paths = append(paths, f.String())
		case *soql.Count:
			alias := "expr" + strconv.Itoa(exprN)
			exprN++
			if countOnly {
				alias = "count"
			}
			cols = append(cols, alias)
			paths = append(paths, alias)
		}
	}
	if err := e.setHeader(cols, "REST query results"); err != nil {
		return unwrapSink(err)
	}
	var opts []salesforce.QueryOption
	if e.s.PageSize > 0 {
		opts = append(opts, salesforce.QueryBatchSize(e.s.PageSize))
	}
	if countOnly {
		page, err := e.c.rest.QueryPage(ctx, e.s.query, opts...)
		if err != nil {
			return fmt.Errorf("extract: REST query: %w", err)
		}
		if err := e.emit([]string{strconv.Itoa(page.TotalSize)}); err != nil {
			return unwrapSink(err)
		}
		e.sum.Pages++
		e.progress("", "")
		return nil
	}
	seq := e.c.rest.Query(ctx, e.s.query, opts...)
	if e.s.All {
		seq = e.c.rest.QueryAll(ctx, e.s.query, opts...)
	}
	vals := make([]string, len(cols))
	for rec, err := range seq {
		if err != nil {
			return fmt.Errorf("extract: REST query after %d rows: %w", e.sum.Rows, err)
		}
		for i, p := range paths {
			v, _ := rec.Get(p)
			s, err := restText(v)
			if err != nil {
				return fmt.Errorf("extract: REST row %d, column %s: %w", e.sum.Rows+1, cols[i], err)
			}
			vals[i] = s
		}
		if err := e.emit(vals); err != nil {
			return unwrapSink(err)
		}
		if e.sum.Rows%salesforce.DefaultQueryBatchSize == 0 {
			e.progress("", "")
		}
	}
	e.sum.Pages++
	e.progress("", "")
	return nil
}

func unwrapSink(err error) error {
	if se, ok := err.(*sinkError); ok {
		return se.err
	}
	return err
}

// restText formats a REST JSON value as Bulk CSV text: null is "", REST
// datetimes (...+0000) become Bulk's ...Z form, nested values become JSON.
func restText(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		if len(x) == 28 && x[10] == 'T' && strings.HasSuffix(x, "+0000") {
			return x[:23] + "Z", nil
		}
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case json.Number:
		return x.String(), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case salesforce.Record:
		b, err := json.Marshal(x)
		return string(b), err
	default:
		b, err := json.Marshal(x)
		return string(b), err
	}
}
