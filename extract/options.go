package extract

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// API selects how rows are pulled out of Salesforce.
type API string

// APIs.
const (
	// APIAuto uses REST when a COUNT() estimate is at most Options.RESTMaxRows
	// and Bulk API 2.0 otherwise.
	APIAuto API = "auto"
	// APIBulk2 uses Bulk API 2.0 query jobs.
	APIBulk2 API = "bulk2"
	// APIBulk1 uses Bulk API 1.0 query jobs, with optional PK chunking.
	APIBulk1 API = "bulk1"
	// APIREST uses the REST query resource, page by page.
	APIREST API = "rest"
)

// Format is the output format of Run.
type Format string

// Formats.
const (
	FormatCSV     Format = "csv"
	FormatJSONL   Format = "jsonl"
	FormatParquet Format = "parquet"
	// FormatArrow is an Arrow IPC stream with the same column types as Parquet.
	FormatArrow Format = "arrow"
)

// Defaults for zero Options fields.
const (
	// DefaultConcurrency is the number of concurrent downloads or jobs.
	DefaultConcurrency = 4
	// DefaultRESTMaxRows is the largest estimated result for which APIAuto
	// uses REST.
	DefaultRESTMaxRows = 10_000
	// DefaultPollInterval is the first wait between job status checks; it
	// grows by half each time up to DefaultMaxPollInterval.
	DefaultPollInterval = 500 * time.Millisecond
	// DefaultMaxPollInterval caps the wait between job status checks.
	DefaultMaxPollInterval = 15 * time.Second
	// DefaultRetries is how many times a failed page or result download is
	// tried again (without restarting the job).
	DefaultRetries = 3
	// DefaultSpoolMemory is how many bytes of one downloaded page are held in
	// memory before the rest spills to a temporary file, when pages are
	// downloaded concurrently.
	DefaultSpoolMemory = 4 << 20
	// MaxIDChunks is the largest number of client-side id ranges.
	MaxIDChunks = 1000
)

// Options configures an extraction. The zero value of every field except
// the query (Query, or Object and Fields) means the documented default.
// Options are validated in one place; errors name the field.
type Options struct {
	// Query is the SOQL query. Either Query or Object and Fields is required.
	Query string
	// Object, Fields and Where build "SELECT Fields FROM Object WHERE Where"
	// when Query is empty.
	Object string
	Fields []string
	Where  string
	// All includes deleted and archived records (queryAll).
	All bool

	// API selects the API; "" means APIAuto.
	API API
	// Concurrency is the number of concurrent page downloads (Bulk 2.0
	// resultPages, API 58.0+), result downloads (Bulk 1.0) or id-range jobs.
	// 0 means DefaultConcurrency; 1 downloads sequentially.
	Concurrency int
	// PageSize is the number of rows per Bulk 2.0 result page (maxRecords)
	// or the REST batch size. 0 lets Salesforce choose.
	PageSize int
	// Unordered writes concurrently downloaded pages as soon as each is
	// ready instead of in query order.
	Unordered bool

	// PKChunking enables Bulk 1.0 primary-key chunking (one batch per id
	// range). nil means off, except that a Bulk 1.0 QUERY_TIMEOUT is retried
	// once with PK chunking unless NoPKChunkingFallback is set.
	PKChunking           *salesforce.PKChunking
	NoPKChunkingFallback bool

	// IDChunks splits a Bulk 2.0 query client-side into this many id ranges
	// run as concurrent query jobs (the query must allow it: see
	// soql.WithIDRange). 0 or 1 means one job.
	IDChunks int

	// RESTMaxRows is the APIAuto threshold; 0 means DefaultRESTMaxRows.
	RESTMaxRows int

	// Resume continues a Bulk 2.0 download: the job is not created again and
	// pages are fetched from Resume.Locator on, skipping the first
	// Resume.Skip rows from there. CSV output then has no header row when Locator or Skip
	// is set (it is appended to a partial file).
	Resume *Resume
	// KeepJobs keeps Bulk 2.0 query jobs after a successful download; by
	// default they are deleted.
	KeepJobs bool

	// Format of Run's output; "" means FormatCSV.
	Format Format
	// CSV is the dialect of CSV output (delimiter, line ending, BOM).
	CSV sfcsv.WriterOptions
	// Output receives Run's output. Required by Run, unused by Rows.
	Output io.Writer

	// TempDir holds spooled pages ("" = os.TempDir()); SpoolMemory is the
	// in-memory part of each spooled page (0 = DefaultSpoolMemory).
	TempDir     string
	SpoolMemory int

	// PollInterval and MaxPollInterval bound the waits between job status
	// checks (0 = DefaultPollInterval, DefaultMaxPollInterval). There is no
	// overall timeout: a job is polled until it finishes or ctx is done.
	PollInterval    time.Duration
	MaxPollInterval time.Duration
	// Retries is the number of extra attempts for a failed download; 0 means
	// DefaultRetries, a negative value none.
	Retries int

	// Logger receives progress at debug level and warnings; nil discards.
	Logger *slog.Logger
	// Progress, if set, is called after each page or result file is written,
	// from the goroutine that called Run or ranges over Rows.
	Progress func(Progress)
	// OnJob, if set, is called when a query job is created and when a job (or a Bulk API
	// 1.0 batch) is seen in a new state while polling. It may be called from several
	// goroutines at once (id-range jobs run concurrently): it must be safe for concurrent
	// use and return quickly.
	OnJob func(JobEvent)
}

// JobEvent is one query job's (or Bulk API 1.0 batch's) state as the extraction saw it.
type JobEvent struct {
	API     API
	JobID   string
	BatchID string // Bulk API 1.0 batches only
	State   string
}

// Resume identifies where an interrupted Bulk 2.0 download stopped. A
// *DownloadError carries the value to pass back.
type Resume struct {
	JobID   string
	Locator string // "" = first page
	// Skip is the number of rows from Locator on that were already written.
	Skip int64
}

// Progress reports an extraction's progress.
type Progress struct {
	API   API
	JobID string
	// Rows written so far and pages (or result files) completed.
	Rows  int64
	Pages int
	// Locator is the next Bulk 2.0 page to fetch when pages are read in
	// order ("" when done or not applicable).
	Locator string
}

// settings are resolved Options.
type settings struct {
	Options
	query       string
	operation   string // query | queryAll
	concurrency int
	restMax     int
	poll        time.Duration
	maxPoll     time.Duration
	retries     int
	spool       int
	log         *slog.Logger
}

func (o Options) resolve(needOutput bool) (*settings, error) {
	s := &settings{Options: o}
	for _, step := range []func() error{s.resolveQuery, s.resolveAPI, func() error { return s.resolveOutput(needOutput) }, s.resolveWaits} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	s.log = o.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// bad reports an invalid Options field.
func bad(field, format string, args ...any) error {
	return fmt.Errorf("extract: Options.%s: %s", field, fmt.Sprintf(format, args...))
}

// resolveQuery builds the query from Query or Object, Fields and Where.
func (s *settings) resolveQuery() error {
	o := &s.Options
	switch {
	case strings.TrimSpace(o.Query) != "":
		if o.Object != "" || len(o.Fields) > 0 || o.Where != "" {
			return bad("Query", "set either Query or Object/Fields/Where, not both")
		}
		s.query = o.Query
	case o.Object == "":
		return bad("Query", "a query (or Object and Fields) is required")
	case len(o.Fields) == 0:
		return bad("Fields", "at least one field is required with Object")
	default:
		for _, f := range o.Fields {
			if strings.TrimSpace(f) == "" || strings.ContainsAny(f, ", ") {
				return bad("Fields", "invalid field name %q", f)
			}
		}
		if strings.ContainsAny(o.Object, " ,()'") {
			return bad("Object", "invalid object name %q", o.Object)
		}
		s.query = "SELECT " + strings.Join(o.Fields, ", ") + " FROM " + o.Object
		if strings.TrimSpace(o.Where) != "" {
			s.query += " WHERE " + o.Where
		}
	}
	s.operation = "query"
	if o.All {
		s.operation = "queryAll"
	}
	return nil
}

// resolveAPI checks the API and what depends on it: concurrency, page size, chunking, resume.
func (s *settings) resolveAPI() error {
	o := &s.Options
	switch o.API {
	case "":
		s.API = APIAuto
	case APIAuto, APIBulk2, APIBulk1, APIREST:
	default:
		return bad("API", "%q is not auto, bulk2, bulk1 or rest", o.API)
	}
	switch {
	case o.Concurrency < 0:
		return bad("Concurrency", "%d is negative", o.Concurrency)
	case o.Concurrency == 0:
		s.concurrency = DefaultConcurrency
	default:
		s.concurrency = o.Concurrency
	}
	if o.PageSize < 0 {
		return bad("PageSize", "%d is negative", o.PageSize)
	}
	if o.PKChunking != nil {
		if s.API != APIBulk1 {
			return bad("PKChunking", "needs API bulk1 (it is %s)", s.API)
		}
		if o.PKChunking.ChunkSize < 0 || o.PKChunking.ChunkSize > salesforce.MaxPKChunkSize {
			return bad("PKChunking", "chunk size %d is outside 0..%d", o.PKChunking.ChunkSize, salesforce.MaxPKChunkSize)
		}
	}
	switch {
	case o.IDChunks < 0 || o.IDChunks > MaxIDChunks:
		return bad("IDChunks", "%d is outside 0..%d", o.IDChunks, MaxIDChunks)
	case o.IDChunks > 1 && s.API != APIBulk2 && s.API != APIAuto:
		return bad("IDChunks", "needs API bulk2 (it is %s)", s.API)
	}
	if o.RESTMaxRows < 0 {
		return bad("RESTMaxRows", "%d is negative", o.RESTMaxRows)
	}
	s.restMax = o.RESTMaxRows
	if s.restMax == 0 {
		s.restMax = DefaultRESTMaxRows
	}
	if o.Resume != nil {
		if o.Resume.JobID == "" {
			return bad("Resume", "JobID is required")
		}
		if s.API != APIBulk2 && s.API != APIAuto {
			return bad("Resume", "needs API bulk2 (it is %s)", s.API)
		}
		if o.IDChunks > 1 {
			return bad("Resume", "cannot be combined with IDChunks")
		}
		if o.Resume.Skip < 0 {
			return bad("Resume", "Skip %d is negative", o.Resume.Skip)
		}
		s.API = APIBulk2
	}
	return nil
}

// resolveOutput checks the output format and spooling.
func (s *settings) resolveOutput(needOutput bool) error {
	o := &s.Options
	switch o.Format {
	case "":
		s.Format = FormatCSV
	case FormatCSV, FormatJSONL, FormatParquet, FormatArrow:
	default:
		return bad("Format", "%q is not csv, jsonl, parquet or arrow", o.Format)
	}
	if o.CSV.Delimiter != 0 && !o.CSV.Delimiter.Valid() {
		return bad("CSV.Delimiter", "%q is not a Salesforce delimiter", rune(o.CSV.Delimiter))
	}
	if o.CSV.LineEnding != 0 && !o.CSV.LineEnding.Valid() {
		return bad("CSV.LineEnding", "%d is not LF or CRLF", o.CSV.LineEnding)
	}
	if needOutput && o.Output == nil {
		return bad("Output", "an io.Writer is required")
	}
	if o.SpoolMemory < 0 {
		return bad("SpoolMemory", "%d is negative", o.SpoolMemory)
	}
	s.spool = o.SpoolMemory
	if s.spool == 0 {
		s.spool = DefaultSpoolMemory
	}
	return nil
}

// resolveWaits checks the poll intervals and download retries, and fills their defaults.
func (s *settings) resolveWaits() error {
	o := &s.Options
	if o.PollInterval < 0 || o.MaxPollInterval < 0 {
		return bad("PollInterval", "intervals must not be negative")
	}
	s.poll, s.maxPoll = o.PollInterval, o.MaxPollInterval
	if s.poll == 0 {
		s.poll = DefaultPollInterval
	}
	if s.maxPoll == 0 {
		s.maxPoll = max(DefaultMaxPollInterval, s.poll)
	}
	if s.maxPoll < s.poll {
		return bad("MaxPollInterval", "%s is less than PollInterval %s", s.maxPoll, s.poll)
	}
	switch {
	case o.Retries < 0:
		s.retries = 0
	case o.Retries == 0:
		s.retries = DefaultRetries
	default:
		s.retries = o.Retries
	}
	return nil
}

// errStop ends a run early when the Rows consumer stops iterating.
var errStop = errors.New("extract: iteration stopped")
