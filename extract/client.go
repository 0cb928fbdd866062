package extract

import (
	"context"
	"io"
	"iter"
	"strconv"

	"github.com/sfbatch/sfbatch/salesforce"
)

// The engine depends only on the calls below, in the manner of the AWS SDK's transfer
// managers: *salesforce.Client's services satisfy them, and tests or other readers (the Spark
// path's `sfbatch pipe`) can stand in front of them the same way load's do.

// bulk2QueryAPI is the part of *salesforce.Bulk2Service the engine uses.
type bulk2QueryAPI interface {
	salesforce.QueryJobGetter
	CreateQueryJob(ctx context.Context, req salesforce.QueryJobRequest) (*salesforce.QueryJob, error)
	DeleteQueryJob(ctx context.Context, jobID string) error
	QueryResults(ctx context.Context, jobID, locator string, maxRecords int) (*salesforce.QueryResults, error)
	QueryResultPages(ctx context.Context, jobID string, maxRecords int) ([]salesforce.ResultPage, error)
	QueryResultPage(ctx context.Context, page salesforce.ResultPage) (*salesforce.QueryResults, error)
}

// bulk1QueryAPI is the part of *salesforce.Bulk1Service the engine uses.
type bulk1QueryAPI interface {
	salesforce.BatchLister
	CreateJob(ctx context.Context, req salesforce.JobRequest) (*salesforce.Job, error)
	CloseJob(ctx context.Context, jobID string) (*salesforce.Job, error)
	AddQueryBatch(ctx context.Context, jobID, contentType, soql string) (*salesforce.Batch, error)
	QueryResultList(ctx context.Context, jobID, batchID string) ([]string, error)
	QueryResult(ctx context.Context, jobID, batchID, resultID string) (io.ReadCloser, error)
}

// restAPI is the part of *salesforce.Client the engine uses for REST queries, the API
// choice and column typing.
type restAPI interface {
	describer
	APIVersion() string
	QueryPage(ctx context.Context, soql string, opts ...salesforce.QueryOption) (*salesforce.QueryResult, error)
	Query(ctx context.Context, soql string, opts ...salesforce.QueryOption) iter.Seq2[salesforce.Record, error]
	QueryAll(ctx context.Context, soql string, opts ...salesforce.QueryOption) iter.Seq2[salesforce.Record, error]
}

// client is everything the engine needs of Salesforce.
type client struct {
	bulk2 bulk2QueryAPI
	bulk1 bulk1QueryAPI
	rest  restAPI
}

func newClient(c *salesforce.Client) client {
	return client{bulk2: c.Bulk2, bulk1: c.Bulk1, rest: c}
}

// apiVersion is the client's API version as a number (0 when it cannot be read).
func (c client) apiVersion() float64 {
	v, _ := strconv.ParseFloat(c.rest.APIVersion(), 64)
	return v
}
