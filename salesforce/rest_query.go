package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// Query page sizes accepted in Sforce-Query-Options (the server may return a different size).
const (
	MinQueryBatchSize     = 200
	MaxQueryBatchSize     = 2000
	DefaultQueryBatchSize = 2000
)

// QueryOption tunes Query and QueryAll.
type QueryOption func(*queryOptions)

type queryOptions struct {
	batchSize int
}

// QueryBatchSize asks for pages of n records (Sforce-Query-Options: batchSize=n). n is clamped
// to [MinQueryBatchSize, MaxQueryBatchSize]; zero leaves the server default (2,000).
func QueryBatchSize(n int) QueryOption {
	return func(o *queryOptions) {
		if n > 0 {
			o.batchSize = min(max(n, MinQueryBatchSize), MaxQueryBatchSize)
		}
	}
}

// QueryResult is one page of a REST query.
type QueryResult struct {
	// TotalSize is the number of rows of the whole query (the same on every page).
	TotalSize int `json:"totalSize"`
	// Done is true on the last page.
	Done bool `json:"done"`
	// NextRecordsURL fetches the next page (with QueryMore) when Done is false.
	NextRecordsURL string `json:"nextRecordsUrl"`
	// Records of this page.
	Records []Record `json:"records"`
}

// Query runs a SOQL query and yields its records, following nextRecordsUrl page after page.
// Iteration stops at the first error, which is yielded with a zero Record. Only one page is
// held in memory at a time.
//
//	for rec, err := range c.Query(ctx, "SELECT Id, Name FROM Account") {
//		if err != nil { return err }
//		name, _ := rec.String("Name")
//	}
func (c *Client) Query(ctx context.Context, soql string, opts ...QueryOption) iter.Seq2[Record, error] {
	return c.queryIter(ctx, "query", soql, opts)
}

// QueryAll is Query including deleted and archived records (the queryAll resource).
func (c *Client) QueryAll(ctx context.Context, soql string, opts ...QueryOption) iter.Seq2[Record, error] {
	return c.queryIter(ctx, "queryAll", soql, opts)
}

func (c *Client) queryIter(ctx context.Context, resource, soql string, opts []QueryOption) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		page, err := c.queryFirst(ctx, resource, soql, opts)
		seen := map[string]bool{}
		for {
			if err != nil {
				yield(Record{}, err)
				return
			}
			for _, rec := range page.Records {
				if !yield(rec, nil) {
					return
				}
			}
			if page.Done || page.NextRecordsURL == "" {
				return
			}
			if seen[page.NextRecordsURL] {
				yield(Record{}, fmt.Errorf("salesforce: query: nextRecordsUrl %q repeated", page.NextRecordsURL))
				return
			}
			seen[page.NextRecordsURL] = true
			page, err = c.queryMore(ctx, page.NextRecordsURL, opts)
		}
	}
}

// QueryPage runs a SOQL query and returns its first page. Use QueryMore for the next ones.
func (c *Client) QueryPage(ctx context.Context, soql string, opts ...QueryOption) (*QueryResult, error) {
	return c.queryFirst(ctx, "query", soql, opts)
}

// QueryMore fetches the page at nextRecordsURL (QueryResult.NextRecordsURL). Only its path and
// query are used: the page is always fetched from the client's instance, so a URL naming
// another host cannot make the client send its token there.
func (c *Client) QueryMore(ctx context.Context, nextRecordsURL string, opts ...QueryOption) (*QueryResult, error) {
	return c.queryMore(ctx, nextRecordsURL, opts)
}

func (c *Client) queryFirst(ctx context.Context, resource, soql string, opts []QueryOption) (*QueryResult, error) {
	r := &request{method: http.MethodGet, path: c.dataPath(resource), query: url.Values{"q": {soql}}}
	return c.queryPage(ctx, r, opts)
}

func (c *Client) queryMore(ctx context.Context, next string, opts []QueryOption) (*QueryResult, error) {
	p, err := instancePath(next)
	if err != nil {
		return nil, fmt.Errorf("salesforce: query: %w", err)
	}
	return c.queryPage(ctx, &request{method: http.MethodGet, path: p}, opts)
}

func (c *Client) queryPage(ctx context.Context, r *request, opts []QueryOption) (*QueryResult, error) {
	var o queryOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.batchSize > 0 {
		r.header = http.Header{"Sforce-Query-Options": {"batchSize=" + strconv.Itoa(o.batchSize)}}
	}
	var res QueryResult
	if err := c.doJSON(ctx, r, nil, &res); err != nil {
		return nil, err
	}
	if !res.Done && res.NextRecordsURL == "" {
		return nil, fmt.Errorf("salesforce: query page is not done but has no nextRecordsUrl")
	}
	return &res, nil
}

// UnmarshalJSON decodes a page in one pass.
func (q *QueryResult) UnmarshalJSON(data []byte) error {
	top, err := newRecordParser(data).parseTop()
	if err != nil {
		return err
	}
	var res QueryResult
	if v, ok := top.values["totalSize"]; ok && v != nil {
		n, isNum := v.(json.Number)
		i, err := n.Int64()
		if !isNum || err != nil {
			return fmt.Errorf("salesforce: query result totalSize %v is not an integer", v)
		}
		res.TotalSize = int(i)
	}
	if v, ok := top.values["done"]; ok && v != nil {
		b, isBool := v.(bool)
		if !isBool {
			return fmt.Errorf("salesforce: query result done %v is not a boolean", v)
		}
		res.Done = b
	}
	if v, ok := top.values["nextRecordsUrl"]; ok && v != nil {
		s, isStr := v.(string)
		if !isStr {
			return fmt.Errorf("salesforce: query result nextRecordsUrl %v is not a string", v)
		}
		res.NextRecordsURL = s
	}
	if v, ok := top.values["records"]; ok && v != nil {
		list, isList := v.([]any)
		if !isList {
			return errors.New("salesforce: query result records is not an array")
		}
		res.Records = make([]Record, len(list))
		for i, e := range list {
			rec, isRec := e.(Record)
			if !isRec {
				return fmt.Errorf("salesforce: query result record %d is not an object", i)
			}
			res.Records[i] = rec
		}
	}
	*q = res
	return nil
}
