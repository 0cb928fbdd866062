package extract

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
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

// Partition kinds; each is one form of `sfbatch pipe --export` (see Partition).
const (
	PartPage    PartitionKind = "page"    // one result page of a completed Bulk 2.0 job: --job --locator --max-records
	PartIDRange PartitionKind = "idRange" // its own Bulk 2.0 job over one id range of the query: --id-range
	PartPKBatch PartitionKind = "pkBatch" // the results of one Bulk 1.0 PK-chunk batch: --job --batch
	PartQuery   PartitionKind = "query"   // the whole query (result pages unlisted before API 58.0)
)

// Partition is one independently readable part of a planned read, as JSON the driver hands
// to the process reading it. Its fields are the arguments of `sfbatch pipe --export` that
// read it, with the plan's query: Job with Locator and MaxRecords (a Bulk 2.0 result page,
// Locator "" for the first) or with Batch (a Bulk 1.0 batch), or the id range [IDFrom,
// IDTo) (either may be empty). Every partition of a plan has the plan's columns.
type Partition struct {
	Index      int           `json:"index"`
	Kind       PartitionKind `json:"kind"`
	Job        string        `json:"job,omitempty"`
	Locator    string        `json:"locator,omitempty"`
	MaxRecords int           `json:"maxRecords,omitempty"`
	Batch      string        `json:"batch,omitempty"`
	IDFrom     string        `json:"idFrom,omitempty"`
	IDTo       string        `json:"idTo,omitempty"`
}

// Column is one result column with its kind from describe (ColumnKinds). A read's columns
// are fixed when it is planned, so every partition of the read has the same schema.
type Column struct {
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
}

// MarshalText writes the kind's name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *Kind) UnmarshalText(b []byte) error {
	for _, c := range []Kind{KindString, KindBool, KindInt, KindFloat, KindDate, KindDateTime} {
		if string(b) == c.String() {
			*k = c
			return nil
		}
	}
	return fmt.Errorf("extract: unknown column kind %q", b)
}

// ReadPlan is a planned read: its query, columns and partitions.
type ReadPlan struct {
	Query        string       `json:"query"`
	All          bool         `json:"all,omitempty"` // queryAll: the partitions read deleted and archived rows too
	Partitioning Partitioning `json:"partitioning"`
	Columns      []Column     `json:"columns"`
	Partitions   []Partition  `json:"partitions"`
	// Jobs are the query jobs the plan created (Bulk 1.0 jobs are closed by PlanRead).
	// Bulk 2.0 jobs of ByPage stay for their pages to be read, and expire in Salesforce.
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

// ReadColumns resolves the query of opts (Query, or Object, Fields and Where; AllFields and
// compound fields expanded as Run does) and its columns as `sfbatch pipe --export` writes
// them (QueryColumns, with kinds from describe by ColumnKinds), without running it.
func ReadColumns(ctx context.Context, c *salesforce.Client, opts Options) (string, []Column, error) {
	s, err := opts.resolveWith(ctx, c, false)
	if err != nil {
		return "", nil, err
	}
	object, names, err := QueryColumns(s.query)
	if err != nil {
		return "", nil, fmt.Errorf("extract: a partitioned read needs a field-list query: %w", err)
	}
	kinds, err := ColumnKinds(ctx, c, object, names)
	if err != nil {
		return "", nil, fmt.Errorf("extract: describing %s for column types: %w", object, err)
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
		return Partition{Index: len(plan.Partitions), Kind: k}
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
			// Pages cannot be listed: one partition runs the whole query itself.
			e.deleteBulk2(context.WithoutCancel(ctx), jobID)
			plan.Jobs = nil
			plan.Partitions = append(plan.Partitions, part(PartQuery))
			return plan, nil
		}
		for _, pg := range pages {
			loc, n, err := pageLocator(pg.ResultURL)
			if err != nil {
				e.deleteBulk2(context.WithoutCancel(ctx), jobID)
				return nil, fmt.Errorf("extract: job %s: %w", jobID, err)
			}
			if n == 0 {
				n = s.PageSize
			}
			pt := part(PartPage)
			pt.Job, pt.Locator, pt.MaxRecords = jobID, loc, n
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
			pt := part(PartIDRange)
			pt.IDFrom, pt.IDTo = lo, hi
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

// pageLocator returns the locator ("" for the first page) and maxRecords (0 when absent) of
// a result page's URL from the resultPages resource.
func pageLocator(resultURL string) (string, int, error) {
	u, err := url.Parse(resultURL)
	if err != nil {
		return "", 0, fmt.Errorf("result page %q: %w", resultURL, err)
	}
	q := u.Query()
	n := 0
	if v := q.Get("maxRecords"); v != "" {
		if n, err = strconv.Atoi(v); err != nil || n < 0 {
			return "", 0, fmt.Errorf("result page %q: maxRecords %q", resultURL, v)
		}
	}
	return q.Get("locator"), n, nil
}
