package extract

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/soql"
)

// Partitioning chooses how PlanRead splits a query into partitions.
type Partitioning string

// Partitionings.
const (
	// ByPage runs one Bulk API 2.0 query job to completion and makes one partition per
	// result page (resultPages, API 58.0+; one partition for the whole job before that).
	ByPage Partitioning = "pages"
	// ByIDRange makes one partition per id range, with bounds taken from a sample of the
	// matching ids (ids cluster, so an even split of the id space would not balance);
	// each partition runs its own Bulk API 2.0 query job.
	ByIDRange Partitioning = "idRange"
	// ByPKChunk runs one Bulk API 1.0 query job with PK chunking and makes one partition
	// per chunk batch.
	ByPKChunk Partitioning = "pkChunking"
)

// Limits of read planning.
const (
	// MaxPartitions is the largest number of id-range partitions.
	MaxPartitions = 10_000
	// IDSamplesPerPartition is how many sampled ids back each id-range bound.
	IDSamplesPerPartition = 200
	// MaxIDSample bounds the id sample (memory: one id per entry).
	MaxIDSample = 200_000
)

// PartitionKind says how a partition is read.
type PartitionKind string

// Partition kinds.
const (
	PartPage    PartitionKind = "page"    // one result page of a completed Bulk 2.0 job
	PartJob     PartitionKind = "job"     // every page of a completed Bulk 2.0 job, in sequence
	PartIDRange PartitionKind = "idRange" // its own Bulk 2.0 job over Query (one id range)
	PartPKBatch PartitionKind = "pkBatch" // the results of one Bulk 1.0 PK-chunk batch
)

// Partition is one independently readable part of a planned read, as JSON that the driver
// hands to the process reading it. Columns fix the schema of its output.
type Partition struct {
	Index   int           `json:"index"`
	Kind    PartitionKind `json:"kind"`
	Query   string        `json:"query"`
	All     bool          `json:"all,omitempty"` // queryAll
	Job     string        `json:"job,omitempty"`
	Page    string        `json:"page,omitempty"` // the page's resultUrl
	Batch   string        `json:"batch,omitempty"`
	Pages   int           `json:"pages,omitempty"` // partitions sharing Job (PartPage), for cleanup
	Columns []Column      `json:"columns"`
}

// ReadPlan is a planned read: its columns and partitions.
type ReadPlan struct {
	Query        string       `json:"query"`
	All          bool         `json:"all,omitempty"`
	Partitioning Partitioning `json:"partitioning"`
	Columns      []Column     `json:"columns"`
	Partitions   []Partition  `json:"partitions"`
	// Jobs are the query jobs the plan created; Bulk 2.0 jobs of ByPage are deleted once
	// every page is read (see ReadPartition), Bulk 1.0 jobs are closed by PlanRead.
	Jobs []string `json:"jobs,omitempty"`
	// SampledIDs is the size of the id sample of ByIDRange.
	SampledIDs int `json:"sampledIds,omitempty"`
}

// PlanOptions configure PlanRead.
type PlanOptions struct {
	Partitioning Partitioning // "" means ByPage
	// Partitions is the number of id ranges of ByIDRange (required there).
	Partitions int
	// PKChunkSize is the chunk size of ByPKChunk (0 = Salesforce's default, 100,000).
	PKChunkSize int
}

// ReadColumns resolves the query of opts (Query, or Object, Fields and Where) and the kinds
// of its columns from describe, without running it. Columns not found in describe (aggregate
// aliases, unknown relationship paths) are strings.
func ReadColumns(ctx context.Context, c *salesforce.Client, opts Options) (string, []Column, error) {
	s, err := opts.resolve(false)
	if err != nil {
		return "", nil, err
	}
	q, err := soql.Parse(s.query)
	if err != nil {
		return "", nil, fmt.Errorf("extract: a partitioned read needs a query this package parses: %w", err)
	}
	names := make([]string, len(q.Fields))
	for i, f := range q.Fields {
		names[i] = f.String()
	}
	kinds, err := columnKinds(ctx, newClient(c).rest, q.From, names)
	if err != nil {
		return "", nil, fmt.Errorf("extract: describing %s for column types: %w", q.From, err)
	}
	cols := make([]Column, len(names))
	for i := range names {
		cols[i] = Column{Name: names[i], Kind: kinds[i]}
	}
	return s.query, cols, nil
}

// PlanRead plans a partitioned read of opts' query: it resolves the columns and creates
// what the partitions read (a completed Bulk 2.0 job for ByPage, an id sample for ByIDRange,
// a completed PK-chunked Bulk 1.0 job for ByPKChunk).
func PlanRead(ctx context.Context, c *salesforce.Client, opts Options, p PlanOptions) (*ReadPlan, error) {
	query, cols, err := ReadColumns(ctx, c, opts)
	if err != nil {
		return nil, err
	}
	s, err := opts.resolve(false)
	if err != nil {
		return nil, err
	}
	e := &engine{s: s, c: newClient(c), sum: &Summary{Query: query}}
	plan := &ReadPlan{Query: query, All: opts.All, Partitioning: p.Partitioning, Columns: cols}
	if plan.Partitioning == "" {
		plan.Partitioning = ByPage
	}
	part := func(k PartitionKind) Partition {
		return Partition{Index: len(plan.Partitions), Kind: k, Query: query, All: opts.All, Columns: cols}
	}
	switch plan.Partitioning {
	case ByPage:
		jobID, err := e.startBulk2(ctx, query)
		if err != nil {
			return nil, err
		}
		plan.Jobs = append(plan.Jobs, jobID)
		if err := e.waitBulk2(ctx, jobID); err != nil {
			e.deleteBulk2(context.WithoutCancel(ctx), jobID)
			return nil, err
		}
		pages, err := e.c.bulk2.QueryResultPages(ctx, jobID, s.PageSize)
		if err != nil {
			var ve *salesforce.APIVersionError
			if !errors.As(err, &ve) && !salesforce.IsErrorCode(err, "NOT_FOUND") {
				e.deleteBulk2(context.WithoutCancel(ctx), jobID)
				return nil, fmt.Errorf("extract: listing the result pages of job %s: %w", jobID, err)
			}
			pt := part(PartJob)
			pt.Job, pt.Pages = jobID, 1
			plan.Partitions = append(plan.Partitions, pt)
			return plan, nil
		}
		for _, pg := range pages {
			pt := part(PartPage)
			pt.Job, pt.Page, pt.Pages = jobID, pg.ResultURL, len(pages)
			plan.Partitions = append(plan.Partitions, pt)
		}
	case ByIDRange:
		if p.Partitions < 1 || p.Partitions > MaxPartitions {
			return nil, bad("Partitions", "%d is outside 1..%d", p.Partitions, MaxPartitions)
		}
		if _, err := soql.WithIDRange(query, "", ""); err != nil {
			return nil, fmt.Errorf("extract: idRange: %w", err)
		}
		bounds, n, err := sampleBounds(ctx, c, query, opts.All, p.Partitions)
		if err != nil {
			return nil, err
		}
		plan.SampledIDs = n
		for i := 0; i <= len(bounds); i++ {
			var lo, hi string
			if i > 0 {
				lo = bounds[i-1]
			}
			if i < len(bounds) {
				hi = bounds[i]
			}
			rq, err := soql.WithIDRange(query, lo, hi)
			if err != nil {
				return nil, fmt.Errorf("extract: idRange: %w", err)
			}
			pt := part(PartIDRange)
			pt.Query = rq
			plan.Partitions = append(plan.Partitions, pt)
		}
	case ByPKChunk:
		object := fromObject(query)
		job, err := e.c.bulk1.CreateJob(ctx, salesforce.JobRequest{
			Object: object, Operation: s.operation, ContentType: "CSV",
			PKChunking: &salesforce.PKChunking{ChunkSize: p.PKChunkSize},
		})
		if err != nil {
			return nil, fmt.Errorf("extract: creating Bulk 1.0 query job: %w", err)
		}
		plan.Jobs = append(plan.Jobs, job.ID)
		batches, err := e.pkBatches(ctx, job.ID, query)
		if cerr := e.closeBulk1(ctx, job.ID); cerr != nil && err == nil {
			e.s.log.Warn("extract: could not close the Bulk 1.0 job", "job", job.ID, "err", cerr)
		}
		if err != nil {
			return nil, err
		}
		for _, id := range batches {
			pt := part(PartPKBatch)
			pt.Job, pt.Batch = job.ID, id
			plan.Partitions = append(plan.Partitions, pt)
		}
	default:
		return nil, bad("Partitioning", "%q is not %s, %s or %s", p.Partitioning, ByPage, ByIDRange, ByPKChunk)
	}
	return plan, nil
}

// pkBatches adds the query batch and waits until every chunk batch has finished; it returns
// the completed chunk batches in the order Salesforce lists them.
func (e *engine) pkBatches(ctx context.Context, jobID, query string) ([]string, error) {
	if _, err := e.c.bulk1.AddQueryBatch(ctx, jobID, "CSV", query); err != nil {
		return nil, fmt.Errorf("extract: adding the query batch to Bulk 1.0 job %s: %w", jobID, err)
	}
	listed, err := salesforce.NewBatchListWaiter(e.c.bulk1, jobID, e.waiterOptions).WaitFor(ctx, func(bs []*salesforce.Batch) bool {
		sc := e.scanBatches(bs, nil)
		return sc.failed != nil || (!sc.unfinished && sc.listed > 0)
	})
	if err != nil {
		return nil, fmt.Errorf("extract: Bulk 1.0 job %s: %w", jobID, err)
	}
	sc := e.scanBatches(listed, nil)
	if b := sc.failed; b != nil {
		return nil, &JobError{API: APIBulk1, JobID: jobID, BatchID: b.ID, State: b.State, Message: b.StateMessage}
	}
	ids := make([]string, len(sc.completed))
	for i, b := range sc.completed {
		ids[i] = b.ID
	}
	return ids, nil
}

// sampleBounds reads the ids matching query (one Id-only Bulk 2.0 job, deleted afterwards)
// into a uniform sample of bounded size and returns the n-1 ids that cut the sample into n
// parts of equal count, and the sample's size. Memory holds the sample, not every id.
func sampleBounds(ctx context.Context, c *salesforce.Client, query string, all bool, n int) ([]string, int, error) {
	q, err := soql.Parse(query)
	if err != nil {
		return nil, 0, err
	}
	idq := *q
	idq.Fields = []soql.SelectItem{&soql.FieldRef{Path: []string{"Id"}}}
	idq.OrderBy = nil
	size := min(MaxIDSample, n*IDSamplesPerPartition)
	sample := make([]string, 0, size)
	rng := rand.New(rand.NewPCG(uint64(n), uint64(size))) // the same ids give the same bounds
	var seen int
	for row, err := range Rows(ctx, c, Options{Query: idq.String(), All: all, API: APIBulk2}) {
		if err != nil {
			return nil, 0, fmt.Errorf("extract: idRange: sampling ids: %w", err)
		}
		id := row.Values[0]
		seen++
		if len(sample) < size {
			sample = append(sample, id)
		} else if j := rng.IntN(seen); j < size {
			sample[j] = id
		}
	}
	slices.SortFunc(sample, func(a, b string) int { return strings.Compare(a[:min(15, len(a))], b[:min(15, len(b))]) })
	var bounds []string
	for k := 1; k < n && len(sample) > 0; k++ {
		b := sample[len(sample)*k/n]
		if len(bounds) > 0 && bounds[len(bounds)-1][:15] >= b[:15] {
			continue
		}
		if b[:15] <= sample[0][:15] {
			continue
		}
		bounds = append(bounds, b)
	}
	return bounds, len(sample), nil
}

// ReadPartition writes the rows of one planned partition to w as an Arrow IPC stream with
// the partition's columns (its schema is written even when it has no rows). opts carries
// the engine's settings (concurrency, retries, logger, waits); its query fields are ignored.
// A PartIDRange partition creates its own query job and deletes it when read. It returns
// the number of rows written.
func ReadPartition(ctx context.Context, c *salesforce.Client, p Partition, w io.Writer, opts Options) (int64, error) {
	opts.Query, opts.Object, opts.Fields, opts.Where, opts.All = p.Query, "", nil, "", p.All
	opts.API, opts.PKChunking, opts.IDChunks, opts.Resume = APIBulk2, nil, 0, nil
	opts.Output, opts.Unordered = w, false
	if p.Kind == PartPKBatch {
		opts.API = APIBulk1
	}
	s, err := opts.resolve(true)
	if err != nil {
		return 0, err
	}
	aw := newArrowWriter(w, p.Columns)
	e := &engine{s: s, c: newClient(c), sum: &Summary{Query: p.Query}}
	e.begin = func(cols []string) error { return aw.header(cols, nil) }
	e.row = func(vals []string) error { return aw.row(vals, e.sum.Rows+1) }
	switch p.Kind {
	case PartPage:
		if p.Job == "" || p.Page == "" {
			return 0, errors.New("extract: a page partition needs its job and page")
		}
		err = e.downloadPages(ctx, p.Job, []salesforce.ResultPage{{ResultURL: p.Page}})
	case PartJob:
		err = e.downloadSequential(ctx, p.Job, "", 0)
	case PartIDRange:
		e.sum.API = APIBulk2
		err = e.runBulk2(ctx)
	case PartPKBatch:
		err = e.readPKBatch(ctx, p.Job, p.Batch)
	default:
		return 0, fmt.Errorf("extract: unknown partition kind %q", p.Kind)
	}
	if cerr := aw.close(); err == nil && cerr != nil {
		err = fmt.Errorf("extract: writing output: %w", cerr)
	}
	return e.sum.Rows, err
}

// readPKBatch reads every result file of one completed Bulk 1.0 batch, in order.
func (e *engine) readPKBatch(ctx context.Context, jobID, batchID string) error {
	ids, err := e.c.bulk1.QueryResultList(ctx, jobID, batchID)
	if err != nil {
		return fmt.Errorf("extract: Bulk 1.0 job %s batch %s: %w", jobID, batchID, err)
	}
	tasks := make([]task, len(ids))
	for i, rid := range ids {
		tasks[i] = e.bulk1Task(jobID, batchID, rid)
	}
	return unwrapSink(e.pipeline(ctx, sliceSource(tasks), true))
}

// DeleteQueryJob deletes a Bulk API 2.0 query job a plan created (the last reader of a
// ByPage plan calls it).
func DeleteQueryJob(ctx context.Context, c *salesforce.Client, jobID string) error {
	if err := c.Bulk2.DeleteQueryJob(ctx, jobID); err != nil && !salesforce.IsErrorCode(err, "NOT_FOUND") {
		return fmt.Errorf("extract: deleting query job %s: %w", jobID, err)
	}
	return nil
}
