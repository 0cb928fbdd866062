package cli

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/sfbatch/sfbatch/dirjournal"
	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// Limits of sfbatch pipe.
const (
	// maxHandshakeBytes bounds the --handshake line.
	maxHandshakeBytes = 1 << 20
	// pipeProgressEvery is how often a progress event is written while rows move.
	pipeProgressEvery = 2 * time.Second
	// pipeInputBuffer is the read buffer over standard input.
	pipeInputBuffer = 256 << 10
)

// StatusInvalidValue is the code of a row that pipe failed itself, unsent, because one of its
// cells has no Salesforce form (load.ErrValue): the one input rule's load.StatusInvalidRow.
const StatusInvalidValue = load.StatusInvalidRow

// pipeOptions are the flags of sfbatch pipe.
type pipeOptions struct {
	load loadOptions // the load flags pipe shares (auth: only the non-secret connection flags)

	Format      string
	KeyColumns  []string
	TimeZone    string
	NullValue   string
	RunID       string
	JournalDir  string
	Handshake   bool
	LeasePeriod time.Duration
	Export      bool
	Query       string
	IDRange     string
	Job         string
	Locator     string
	MaxRecords  int
	Batch       string
	AbortRun    bool
	Resumable   bool // with AbortRun: leave the run resumable (a stream's micro-batch runs again)

	export pipeExportOptions // planning and incremental reads of pipe --export (pipe_export.go)

	getenv func(string) string // os.Getenv unless a test replaces it
	fs     dirjournal.FS       // the journal directory's file system; nil: the OS's
	// afterStep, if set, is called after each journal step (tests).
	afterStep func(dirjournal.Step)
}

// pipeOperations maps the OPERATION argument to the engine's operation.
var pipeOperations = map[string]load.Operation{
	"insert": load.Insert, "update": load.Update, "upsert": load.Upsert,
	"delete": load.Delete, "hard-delete": load.HardDelete, "harddelete": load.HardDelete,
}

func newPipeCmd(ios *IOStreams) *cobra.Command {
	o := &pipeOptions{}
	cmd := &cobra.Command{
		Use:   "pipe OPERATION -s OBJECT [-i EXTERNAL_ID] [flags]",
		Short: "Load rows from standard input and write one result per row to standard output",
		Long: `Load one stream of rows (one partition of a distributed job) and write one
result row per input row. It is the unit of work that Spark and other
distributed engines run: rows in on standard input, results out on standard
output, JSON Lines events on standard error.

OPERATION is insert, update, upsert, delete or hard-delete, with the load
commands' flags and meaning.

Stream formats (--format, the same on standard input and standard output):
  arrow  an Arrow IPC stream (default). Column types: utf8, large_utf8,
         string_view; int8..int64, uint8..uint64; float16, float32, float64
         (NaN and infinity fail their row, SFBATCH_INVALID_ROW); decimal128,
         decimal256; bool; date32, date64 (YYYY-MM-DD); timestamp of any unit,
         sent as UTC (a timestamp without a zone is read in --time-zone); time32,
         time64; binary, large_binary, fixed_size_binary (sent base64). Nested
         types (list, struct, map, union) and dictionaries are refused, naming
         the column. A stream with a schema and no batches is an empty run.
  csv    Salesforce's CSV dialect with a header row; every value is text.
  jsonl  one flat JSON object per line; the first line's keys are the columns.

Null cells: --null-value skip (default) sends nothing for the field, so it is
left unchanged; clear sends #N/A, which sets it to null. An empty string is
sent as an empty string, never as a null.

Result rows, in completion order, one per input row:
  sf__Row       int64   1-based row number within this stream
  sf__Outcome   string  succeeded | failed | not_processed | unknown
  sf__Id, sf__Created (bool), sf__ErrorCode, sf__Error, sf__Fields,
  sf__Job, sf__Batch    nullable
  then the --key-columns, with their input types.
"not_processed" rows never reached Salesforce and are safe to send again;
"unknown" rows may have reached it (their job was interrupted).

Credentials come only from the environment (SF_ACCESS_TOKEN and
SF_INSTANCE_URL; for refresh SF_REFRESH_TOKEN, SF_CLIENT_ID, SF_CLIENT_SECRET,
SF_JWT_KEY_FILE, SF_USERNAME, SF_LOGIN_URL; SF_CA_CERT_FILE), or with
--handshake from the first line of standard input: one JSON object
{"accessToken", "instanceUrl", and optionally "refreshToken", "clientId",
"clientSecret", "username", "jwtKey" (PEM), "loginUrl", "caCert" (PEM)} ended
by a newline; the stream starts on the next byte. Never from arguments.

Safe to run twice: with --run-id ID --journal-dir DIR (one DIR per partition)
the attempt first copies standard input to a local spool and checks every row
against the hashes an earlier attempt of the run recorded; a row that differs
stops the attempt before anything is sent (exit 2, "the input is not
deterministic"). Rows an earlier attempt finished get their stored result
again, jobs it left in flight are collected, and only the rest is sent. DIR
may be on storage without locks, random writes or rename-over (object
storage behind FUSE, NFS): every irreversible step is a small write-once file
there (step-*, hashes-*, results-*); SQLite is only a local cache rebuilt from
them. One attempt owns DIR at a time: it creates lease-N with O_EXCL and
appends a renewal counter every --lease-period/4; another attempt waits
("waiting" event) and takes over by creating lease-N+1 only when lease-N says
released or has not changed for a whole --lease-period by its own clock.

Reading: pipe --export -q QUERY [--id-range LO,HI] writes one partition of a
field-list query (the records with LO <= Id < HI), or with --job JOBID
[--locator L] [--max-records N] one result page of a finished Bulk API 2.0
query job of that query (the summary event carries the next page's
"nextLocator"), or with --job JOBID --batch BATCHID one completed batch of a
Bulk API 1.0 query job (one PK-chunk batch), to standard output as an Arrow stream whose schema is fixed
before any row arrives, from the query's fields and the objects' describes
(the Salesforce-to-columnar map export --format parquet uses: dates date32,
datetimes timestamp[us, UTC], booleans, int64, float64, strings), so every
partition of one read has the same schema, empty ones included.

Aborting a failed run: pipe --abort-run --run-id ID --journal-dir DIR reads
the journal in DIR, or in every subdirectory of DIR that holds one (one per
partition), taking each one's lease as an attempt would (an attempt that
still owns one for 3 lease periods leaves it untouched, "busy"). Jobs that
Salesforce has not started (a Bulk API 2.0 job still Open, a Bulk API 1.0
job without batches) are aborted: their rows are not loaded. Jobs Salesforce
is processing are left to finish and their rows load; a Bulk API 1.0 job
with batches is closed. The run is recorded aborted, so a later attempt of
it sends nothing (exit 2). Nothing undoes rows already loaded. Credentials
as for a load (--handshake or the environment); no login when no job needs
a call. Standard output: one JSON object {"status": 0, "result": {runId,
journals, completed, aborted, processing, finished, unknown, unclaimed,
busy, errors, rowsNotProcessed, rowsLoading, rowsUnknown, message}}; exit 1
when a journal was busy or a call failed.

Never an orphan: pipe stops when its parent process dies (Linux's parent-death
signal, and a poll of the parent pid everywhere), even while it waits for
input: open jobs that have not started processing are aborted, the rest are
recorded in the journal for the next attempt, and it exits 130. An Arrow
stream that ends without its end-of-stream marker is a broken stream, not a
short partition.

Standard error carries JSON Lines, each with an "event": "progress" (sent,
done, bytesUploaded), "summary" (counts of succeeded, failed, notProcessed,
unknown; runId; retried: row resubmissions, e.g. after UNABLE_TO_LOCK_ROW), "error" (status, name, message), "waiting" (owner) and "log".

Exit status: 0 every row succeeded; 3 every row labelled, some failed, not
processed or unknown; 2 usage or input error, nothing sent; 4 authentication
failed, nothing sent; 5 the org could not be reached, nothing sent; 130
interrupted; 1 anything else.

Test-only: with --run-id, SFBATCH_PIPE_TEST_KILL_AFTER_SENT=N makes pipe
SIGKILL itself right after the N-th request carrying rows (a Bulk API upload
or a collections call) has been sent and journaled.`,
		Example: `  sfbatch pipe upsert -s Contact -i External_Id__c --key-columns External_Id__c < part-0.arrow > results-0.arrow
  sfbatch pipe insert -s Lead --run-id job-42 --journal-dir /mnt/bucket/job-42/part-0 < part-0.arrow > out-0.arrow
  sfbatch pipe --export -q "SELECT Id, Name, CreatedDate FROM Account" --id-range 001000000000000,001000000100000 > part-0.arrow
  sfbatch pipe --abort-run --run-id job-42 --journal-dir /mnt/bucket/job-42
  sfbatch pipe insert -s Account --format csv < accounts.csv > results.csv
  sfbatch pipe update -s Contact --format jsonl --null-value clear < changes.jsonl`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			limitMemory()
			ev := newPipeEvents(ios.ErrOut)
			// Never an orphan: the parent's death cancels the run, and so unblocks a read of
			// standard input that would otherwise wait forever.
			ctx, stop := watchParent(cmd.Context())
			defer stop()
			pios := *ios
			pios.In = newCtxReader(ctx, ios.In)
			code := runPipe(ctx, &pios, ev, o, args)
			if code == ExitOK {
				return nil
			}
			return &exitError{code: code} // the error event is already on standard error
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		newPipeEvents(ios.ErrOut).fail(ExitUsage, "UsageError", err)
		return &exitError{code: ExitUsage}
	})
	f := cmd.Flags()
	lo := &o.load
	f.StringVarP(&lo.Object, "sobject", "s", "", "object API name, e.g. Contact (required)")
	f.StringVarP(&lo.ExternalID, "external-id", "i", "", "external id field to match on (upsert), e.g. External_Id__c")
	f.StringVar(&lo.API, "api", "auto", "API: auto (collections up to 2,000 rows, then bulk2), bulk2, bulk1 or collections")
	f.IntVar(&lo.Concurrency, "concurrency", 0, fmt.Sprintf("jobs, batches or calls in flight (default %d)", load.DefaultConcurrency))
	f.IntVar(&lo.BatchSize, "batch-size", 0, "records per batch (bulk1, max 10000), job (bulk2; default: 10000 for the first job, doubling to 100000) or call (collections, max 200)")
	bindShareFlag(f, &lo.MaxAPIShare)
	f.BoolVar(&lo.Serial, "serial", false, "Bulk API 1.0 serial concurrency mode (implies --api bulk1)")
	f.BoolVar(&lo.WriteNulls, "write-nulls", false, "empty strings also set fields to null (#N/A)")
	f.IntVar(&lo.MaxRetries, "max-retries", 0, fmt.Sprintf("resubmissions of rows that failed with a retryable code (default %d, -1 never)", load.DefaultMaxRetries))
	f.StringSliceVar(&lo.RetryCodes, "retry-codes", nil, "status codes to retry (default "+strings.Join(load.DefaultRetryCodes, ",")+")")
	f.StringVar(&lo.GroupBy, "group-by", "", "column to sort rows by before batching, e.g. AccountId")
	f.StringVar(&lo.AssignmentRule, "assignment-rule-id", "", "lead or case assignment rule id")
	f.StringVar(&lo.auth.APIVersion, "api-version", "", "Salesforce API version, e.g. 62.0 (env "+envAPIVersion+")")
	f.StringVar(&lo.auth.CACertFile, "ca-cert", "", "extra PEM CA certificate to trust (env "+envCACertFile+")")
	f.StringVar(&lo.auth.LoginURL, "login-url", "", "login URL for a token refresh (env "+envLoginURL+")")
	f.StringVar(&lo.auth.InstanceURL, "instance-url", "", "instance URL (env "+envInstanceURL+")")
	f.StringVar(&o.Format, "format", pipeArrow, "stream format of standard input and output: arrow, csv or jsonl")
	f.StringSliceVar(&o.KeyColumns, "key-columns", nil, "input columns echoed in every result row, after the sf__ columns")
	f.StringVar(&o.TimeZone, "time-zone", "UTC", "IANA zone of timestamps without a zone, e.g. Europe/Paris")
	f.StringVar(&o.NullValue, "null-value", "skip", "a null cell: skip (leave the field unchanged) or clear (set it to null)")
	f.StringVar(&o.RunID, "run-id", "", "journal this attempt under this id in --journal-dir; a later attempt with the same id resumes")
	f.StringVar(&o.JournalDir, "journal-dir", "", "journal directory of this partition (with --run-id)")
	f.BoolVar(&o.Handshake, "handshake", false, "read credentials from the first line of standard input (one JSON object)")
	f.DurationVar(&o.LeasePeriod, "lease-period", 30*time.Second, "take over a journal whose owner's lease has not moved for this long")
	f.BoolVar(&o.Export, "export", false, "read instead: write one partition of --query to standard output as Arrow, schema fixed in advance")
	f.StringVarP(&o.Query, "query", "q", "", "SOQL field-list query of --export")
	f.StringVar(&o.IDRange, "id-range", "", "with --export: the partition LO,HI of record ids (LO <= Id < HI; either may be empty)")
	f.StringVar(&o.Job, "job", "", "with --export: read one result page of this finished Bulk API 2.0 query job (of --query)")
	f.StringVar(&o.Locator, "locator", "", "with --job: the page's locator (default: the first page)")
	f.IntVar(&o.MaxRecords, "max-records", 0, "with --job: rows per page (default: Salesforce's choice)")
	f.StringVar(&o.Batch, "batch", "", "with --job (a Bulk API 1.0 query job): read this completed batch, e.g. one PK-chunk batch")
	f.BoolVar(&o.AbortRun, "abort-run", false, "end what a failed run left: abort the jobs of --run-id in --journal-dir (or its subdirectories) that Salesforce has not started")
	f.BoolVar(&o.Resumable, "resumable", false, "with --abort-run: leave the run resumable, so that a later attempt with the same --run-id sends the aborted jobs' rows again (a streaming micro-batch that Spark runs again after a restart)")
	bindPipeExport(f, &o.export)
	return cmd
}

func (o *pipeOptions) env(name string) string {
	if o.getenv != nil {
		return o.getenv(name)
	}
	return os.Getenv(name)
}

// handshake is the credentials object of --handshake.
type handshake struct {
	AccessToken  string `json:"accessToken"`
	InstanceURL  string `json:"instanceUrl"`
	RefreshToken string `json:"refreshToken"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	Username     string `json:"username"`
	JWTKey       string `json:"jwtKey"`
	LoginURL     string `json:"loginUrl"`
	CACert       string `json:"caCert"`
}

// readHandshake reads the first line of standard input: one JSON object with credentials.
func readHandshake(in *bufio.Reader) (*handshake, error) {
	var line []byte
	for {
		chunk, err := in.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxHandshakeBytes {
			return nil, fmt.Errorf("--handshake: the first line is longer than %d bytes", maxHandshakeBytes)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return nil, errors.New("--handshake: standard input ended before the credentials line")
		}
		break
	}
	var h handshake
	dec := json.NewDecoder(strings.NewReader(string(line)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		// The decoder's message may quote the input; never echo credentials.
		return nil, errors.New("--handshake: the first line is not a JSON object of known credential fields")
	}
	return &h, nil
}

// pipeLogin builds the login settings from the environment or the handshake (never from
// arguments) and logs in. A network or TLS failure is ExitUnreachable, a refused login
// ExitAuth.
func (o *pipeOptions) pipeLogin(ctx context.Context, h *handshake) (*salesforce.Client, int, error) {
	a := &o.load.auth
	lc := salesforce.LoginConfig{APIVersion: first(a.APIVersion, o.env(envAPIVersion))}
	var caPEM []byte
	if h != nil {
		lc.AccessToken, lc.InstanceURL, lc.RefreshToken = h.AccessToken, first(a.InstanceURL, h.InstanceURL), h.RefreshToken
		lc.ClientID, lc.ClientSecret, lc.Username, lc.LoginURL = h.ClientID, h.ClientSecret, h.Username, first(a.LoginURL, h.LoginURL)
		if h.JWTKey != "" {
			lc.PrivateKeyPEM = []byte(h.JWTKey)
		}
		if h.CACert != "" {
			caPEM = []byte(h.CACert)
		}
	} else {
		lc.AccessToken, lc.InstanceURL, lc.RefreshToken = o.env(envAccessToken), first(a.InstanceURL, o.env(envInstanceURL)), o.env(envRefreshToken)
		lc.ClientID, lc.ClientSecret, lc.Username = o.env(envClientID), o.env(envClientSecret), o.env(envUsername)
		lc.PrivateKeyFile, lc.LoginURL = o.env(envJWTKeyFile), first(a.LoginURL, o.env(envLoginURL))
	}
	// A session that can be renewed is preferred to a bare access token, which cannot.
	switch {
	case lc.RefreshToken != "":
		lc.Flow = salesforce.FlowRefreshToken
	case (lc.PrivateKeyFile != "" || lc.PrivateKeyPEM != nil) && lc.Username != "" && lc.ClientID != "":
		lc.Flow = salesforce.FlowJWT
	case lc.ClientID != "" && lc.ClientSecret != "" && lc.Username == "":
		lc.Flow = salesforce.FlowClientCredentials
	}
	caFile := first(a.CACertFile, o.env(envCACertFile))
	if caPEM == nil && caFile != "" {
		b, err := os.ReadFile(caFile)
		if err != nil {
			return nil, ExitUsage, fmt.Errorf("--ca-cert: %w", err)
		}
		caPEM = b
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	if caPEM != nil {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, ExitUsage, errors.New("CA certificate: no PEM certificate found")
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	lc.HTTPClient = &http.Client{Transport: tr}
	if _, err := lc.TokenSource(); err != nil {
		return nil, ExitAuth, errors.New("no Salesforce credentials: set SF_ACCESS_TOKEN and SF_INSTANCE_URL (or the refresh variables), or pass them with --handshake")
	}
	lctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c, err := salesforce.Login(lctx, lc, salesforce.WithMaxConcurrentRequests(maxConcurrentRequests))
	if err != nil {
		var te *salesforce.TransportError
		switch {
		case errors.Is(err, context.Canceled):
			return nil, ExitCancelled, err
		case errors.As(err, &te):
			return nil, ExitUnreachable, fmt.Errorf("login: %w", err)
		}
		return nil, ExitAuth, fmt.Errorf("login: %w", err)
	}
	return c, ExitOK, nil
}

// newPipeLogger logs to standard error as JSON Lines events ("event": "log").
func newPipeLogger(ev *pipeEvents) *slog.Logger {
	return slog.New(slog.NewJSONHandler(ev, &slog.HandlerOptions{Level: slog.LevelInfo})).With("event", "log")
}

// pipeEvents writes JSON Lines events to standard error, one whole line per write.
// Safe for concurrent use.
type pipeEvents struct {
	mu sync.Mutex
	w  io.Writer
}

func newPipeEvents(w io.Writer) *pipeEvents { return &pipeEvents{w: w} }

// Write writes p whole under the lock (slog's handler writes through it).
func (e *pipeEvents) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.w.Write(p)
}

func (e *pipeEvents) emit(v map[string]any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	e.Write(append(b, '\n'))
}

// fail writes an error event.
func (e *pipeEvents) fail(code int, name string, err error) {
	e.emit(map[string]any{"event": "error", "status": code, "name": name, "message": err.Error()})
}

// pipeCounts counts result rows by outcome.
type pipeCounts struct {
	Succeeded    int64 `json:"succeeded"`
	Failed       int64 `json:"failed"`
	NotProcessed int64 `json:"notProcessed"`
	Unknown      int64 `json:"unknown"`
}

func (c pipeCounts) total() int64 { return c.Succeeded + c.Failed + c.NotProcessed + c.Unknown }

// pipeSink turns the engine's results (and rows pipe fails itself) into output rows. It is
// a load.Sink and a load.Syncer: Sync writes every buffered row to standard output before
// the engine records rows as done. Safe for concurrent use.
type pipeSink struct {
	mu     sync.Mutex
	out    pipeOutput
	keys   map[int64][]keyCell // key cells of rows read and not yet written
	counts pipeCounts
	err    error
	// durable, with --run-id, keeps every result written in the journal directory.
	durable *resultLog
	// jobs tells rows of jobs that never ran (see pipeOutcome).
	jobs *jobWatch
}

func (s *pipeSink) Start([]string) error { return nil }

func (s *pipeSink) Write(r *load.RowResult) error {
	res := &pipeResult{row: r.Row, outcome: pipeOutcome(r, s.jobs), id: r.ID, job: r.JobID, batch: r.BatchID}
	if r.Outcome == load.Succeeded {
		created := r.Created
		res.created = &created
	}
	if r.Error != nil {
		res.code, res.message, res.fields = r.Error.StatusCode, r.Error.Message, strings.Join(r.Error.Fields, ",")
	}
	return s.put(res)
}

// put writes one result row with its key cells.
func (s *pipeSink) put(res *pipeResult) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if k, ok := s.keys[res.row]; ok {
		if res.keys == nil {
			res.keys = k
		}
		delete(s.keys, res.row)
	}
	switch res.outcome {
	case outcomeSucceeded:
		s.counts.Succeeded++
	case outcomeFailed:
		s.counts.Failed++
	case outcomeUnknown:
		s.counts.Unknown++
	default:
		s.counts.NotProcessed++
	}
	if s.durable != nil && !res.stored {
		s.durable.add(res)
	}
	if err := s.out.write(res); err != nil {
		s.err = fmt.Errorf("writing results: %w", err)
	}
	return s.err
}

// remember records the key cells of a row read.
func (s *pipeSink) remember(row int64, k []keyCell) {
	s.mu.Lock()
	s.keys[row] = k
	s.mu.Unlock()
}

// Sync makes the rows written so far durable where the run keeps them (the journal
// directory, with --run-id) and writes them to standard output.
func (s *pipeSink) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil && s.durable != nil {
		if err := s.durable.sync(); err != nil {
			s.err = fmt.Errorf("journal: results: %w", err)
		}
	}
	if s.err == nil {
		if err := s.out.flush(); err != nil {
			s.err = fmt.Errorf("writing results: %w", err)
		}
	}
	return s.err
}

// close syncs and ends the result stream.
func (s *pipeSink) close() error {
	err := s.Sync()
	s.mu.Lock()
	defer s.mu.Unlock()
	if cerr := s.out.close(); err == nil && cerr != nil {
		err = fmt.Errorf("writing results: %w", cerr)
	}
	return err
}

func (s *pipeSink) snapshot() pipeCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// Outcome labels of the result rows.
const (
	outcomeSucceeded    = "succeeded"
	outcomeFailed       = "failed"
	outcomeNotProcessed = "not_processed"
	outcomeUnknown      = "unknown"
)

// jobWatch remembers, from the engine's progress events, which Bulk API 2.0 jobs were never
// closed: Salesforce processes none of their rows, so an abort leaves them "not_processed".
// Safe for concurrent use.
type jobWatch struct {
	mu   sync.Mutex
	open map[string]bool // job id -> created and never closed
}

func (w *jobWatch) event(e load.Event) {
	if e.Kind != load.JobState || e.API != load.Bulk2 || e.JobID == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.open == nil {
		w.open = map[string]bool{}
	}
	switch e.State {
	case salesforce.JobStateOpen:
		if _, seen := w.open[e.JobID]; !seen {
			w.open[e.JobID] = true
		}
	case salesforce.JobStateAborted:
	default:
		w.open[e.JobID] = false
	}
}

// neverClosed reports whether job is a Bulk API 2.0 job that was never closed.
func (w *jobWatch) neverClosed(job string) bool {
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.open[job]
}

// pipeOutcome labels a result. A row the engine did not process is "unknown" when a request
// carrying it may have been applied: it was sent, and its job is not a Bulk API 2.0 job that
// was never closed, or the engine says its outcome is unknown. Otherwise it is "not
// processed": safe to send again.
func pipeOutcome(r *load.RowResult, jobs *jobWatch) string {
	switch r.Outcome {
	case load.Succeeded:
		return outcomeSucceeded
	case load.Failed:
		return outcomeFailed
	}
	// An engine with its own unknown outcome (the one after NotProcessed) labels rows
	// precisely: take its word. The heuristics below are for an engine without one.
	if r.Outcome.String() == outcomeUnknown {
		return outcomeUnknown
	}
	if load.Outcome(load.NotProcessed+1).String() == outcomeUnknown {
		return outcomeNotProcessed
	}
	if r.Error != nil {
		if strings.Contains(r.Error.Message, "unknown") {
			return outcomeUnknown
		}
		if r.Error.StatusCode == load.StatusAborted && r.Attempts > 0 && !jobs.neverClosed(r.JobID) {
			return outcomeUnknown
		}
	}
	return outcomeNotProcessed
}

// pipeSource is the engine's view of standard input: the rows with a Salesforce form. A row
// with a cell that has none is failed on the spot (StatusInvalidValue) and never sent. It
// remembers each row's key cells for its result row.
type pipeSource struct {
	in      pipeInput
	sink    *pipeSink
	keyIdx  []int
	peeked  *load.Row
	peekErr error
	read    int64
	// With --run-id: rows done by earlier attempts, whose stored results are written as
	// they are read (the engine skips them).
	done   jobstore.Ranges
	stored *resultIndex
}

// isDone reports whether an earlier attempt gave row n its outcome.
func (p *pipeSource) isDone(n int64) bool { return p.stored != nil && p.done.Contains(n) }

func (p *pipeSource) Header() []string { return p.in.Header() }

func (p *pipeSource) Next() (load.Row, error) {
	if p.peeked != nil || p.peekErr != nil {
		r, err := *p.peeked, p.peekErr
		p.peeked, p.peekErr = nil, nil
		return r, err
	}
	for {
		row, err := p.in.Next()
		var ie *load.InputError
		if err != nil && errors.As(err, &ie) && errors.Is(err, load.ErrValue) && ie.Row > 0 {
			p.read++
			k := p.in.keys(p.keyIdx)
			if werr := p.sink.put(&pipeResult{row: ie.Row, outcome: outcomeFailed, code: StatusInvalidValue,
				message: ie.Err.Error(), fields: ie.Column, keys: k}); werr != nil {
				return load.Row{}, werr
			}
			continue
		}
		if err != nil {
			return row, err
		}
		p.read++
		if p.isDone(row.Number) {
			res, ok, err := p.stored.lookup(row.Number)
			if err != nil {
				return load.Row{}, fmt.Errorf("journal: stored result of row %d: %w", row.Number, err)
			}
			if !ok {
				res = &pipeResult{row: row.Number, outcome: outcomeUnknown, code: load.StatusNoResult,
					message: "an earlier attempt recorded this row done but its result was not stored"}
			}
			res.keys = p.in.keys(p.keyIdx)
			if err := p.sink.put(res); err != nil {
				return load.Row{}, err
			}
			return row, nil
		}
		p.sink.remember(row.Number, p.in.keys(p.keyIdx))
		return row, nil
	}
}

// peek reads the first row ahead, to tell an empty stream before logging in. It reports
// whether there is one.
func (p *pipeSource) peek() (bool, error) {
	r, err := p.Next()
	if err == io.EOF {
		return false, nil
	}
	p.peeked, p.peekErr = &r, err
	if err != nil {
		var ie *load.InputError
		if errors.As(err, &ie) {
			return false, err
		}
	}
	return true, nil
}

// pipeProgress writes progress events at most every pipeProgressEvery.
type pipeProgress struct {
	ev   *pipeEvents
	jobs *jobWatch
	mu   sync.Mutex
	read int64
	done int64
	sent int64 // bytes uploaded
	last time.Time
}

func (p *pipeProgress) Event(e load.Event) {
	p.jobs.event(e)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Kind {
	case load.RowsRead:
		p.read = e.Total
	case load.RowsDone:
		p.done = e.Total
	case load.BytesUploaded:
		p.sent += e.Bytes
	default:
		return
	}
	if now := time.Now(); now.Sub(p.last) >= pipeProgressEvery {
		p.last = now
		p.ev.emit(map[string]any{"event": "progress", "sent": p.read, "done": p.done, "bytesUploaded": p.sent})
	}
}

// pipeFail returns the function that reports a failure as an error event and returns its exit
// code; once ctx is cancelled (a signal, the parent's death) every failure is an interruption.
func pipeFail(ctx context.Context, ev *pipeEvents) func(code int, name string, err error) int {
	return func(code int, name string, err error) int {
		if ctx.Err() != nil {
			code, name = ExitCancelled, exitName(ExitCancelled)
			if cause := context.Cause(ctx); !errors.Is(err, cause) {
				err = fmt.Errorf("%w (%w)", err, cause)
			}
		}
		ev.fail(code, name, err)
		return code
	}
}

// bufioReader is standard input, buffered.
func bufioReader(ios *IOStreams) *bufio.Reader { return bufio.NewReaderSize(ios.In, pipeInputBuffer) }

// pipeConfig is what runPipe resolved from the flags.
type pipeConfig struct {
	opts     load.Options
	format   string
	zone     *time.Location
	nullText string
	hs       *handshake
}

// newOutput opens the result stream on standard output.
func (cfg *pipeConfig) newOutput(w io.Writer, keys []string, in pipeInput, keyIdx []int) pipeOutput {
	switch cfg.format {
	case pipeArrow:
		return newArrowOutput(w, pipeResultSchema(keys, in.keyTypes(keyIdx)))
	case pipeCSV:
		return newCSVOutput(w, keys)
	}
	return newJSONLOutput(w, keys)
}

// pipeFailure is an exit code with the error event that explains it.
type pipeFailure struct {
	code int
	name string
	err  error
}

// connect logs in and checks with one describe (which the engine's preflight then reuses
// from the client's cache) that the org can be reached and the session is accepted, before
// any row is sent.
func (o *pipeOptions) connect(ctx context.Context, cfg *pipeConfig) (*salesforce.Client, *pipeFailure) {
	c, code, err := o.pipeLogin(ctx, cfg.hs)
	if err != nil {
		name := exitName(code)
		return nil, &pipeFailure{code, name, err}
	}
	if _, err := c.Describe(ctx, cfg.opts.Object); err != nil {
		var te *salesforce.TransportError
		switch {
		case errors.Is(err, context.Canceled):
			return nil, &pipeFailure{ExitCancelled, exitName(ExitCancelled), err}
		case errors.As(err, &te):
			return nil, &pipeFailure{ExitUnreachable, exitName(ExitUnreachable), err}
		case isAuthError(err):
			return nil, &pipeFailure{ExitAuth, "AuthError", err}
		}
		// Anything else (an unknown object, say) the engine's preflight reports.
	}
	return c, nil
}

// runPipe runs one pipe invocation and returns its exit code; every failure is reported as
// an error event first.
func runPipe(ctx context.Context, ios *IOStreams, ev *pipeEvents, o *pipeOptions, args []string) int {
	fail := pipeFail(ctx, ev)
	usage := func(err error) int { return fail(ExitUsage, "UsageError", err) }
	if o.Export {
		return runPipeExport(ctx, ios, ev, o, args)
	}
	if o.AbortRun {
		return runPipeAbort(ctx, ios, ev, o, args)
	}
	if o.Resumable {
		return usage(errors.New("--resumable goes with --abort-run"))
	}
	if len(args) != 1 {
		return usage(errors.New("want exactly one OPERATION: insert, update, upsert, delete or hard-delete"))
	}
	op, ok := pipeOperations[strings.ToLower(args[0])]
	if !ok {
		return usage(fmt.Errorf("unknown OPERATION %q: want insert, update, upsert, delete or hard-delete", args[0]))
	}
	o.load.Operation = op
	cfg := &pipeConfig{}
	var err error
	if cfg.opts, err = o.load.engineOptions(); err != nil {
		return usage(err)
	}
	if o.load.ExternalID != "" && op != load.Upsert {
		return usage(errors.New("--external-id is only for upsert"))
	}
	cfg.format = strings.ToLower(o.Format)
	if cfg.format != pipeArrow && cfg.format != pipeCSV && cfg.format != pipeJSONL {
		return usage(fmt.Errorf("--format: %q is not arrow, csv or jsonl", o.Format))
	}
	if cfg.zone, err = time.LoadLocation(o.TimeZone); err != nil {
		return usage(fmt.Errorf("--time-zone: %w", err))
	}
	switch strings.ToLower(o.NullValue) {
	case "skip":
	case "clear":
		cfg.nullText = sfcsv.NullValue
	default:
		return usage(fmt.Errorf("--null-value: %q is not skip or clear", o.NullValue))
	}
	if (o.RunID == "") != (o.JournalDir == "") {
		return usage(errors.New("--run-id and --journal-dir go together"))
	}
	if o.LeasePeriod <= 0 {
		return usage(errors.New("--lease-period must be positive"))
	}

	stdin := bufioReader(ios)
	if o.Handshake {
		if cfg.hs, err = readHandshake(stdin); err != nil {
			return usage(err)
		}
	}
	if o.RunID != "" {
		return runJournaledPipe(ctx, ios, ev, o, cfg, stdin)
	}
	in, err := openPipeInput(stdin, cfg.format, cfg.zone, cfg.nullText, cfg.opts.ColumnDelimiter)
	if err != nil {
		return fail(ExitUsage, "InputError", err)
	}
	defer in.release()
	keyIdx, err := keyColumns(in.Header(), o.KeyColumns, cfg.format == pipeJSONL)
	if err != nil {
		return usage(err)
	}
	out := cfg.newOutput(ios.Out, o.KeyColumns, in, keyIdx)
	sink := &pipeSink{out: out, keys: map[int64][]keyCell{}}
	src := &pipeSource{in: in, sink: sink, keyIdx: keyIdx}

	// Nothing to send: an empty run, without logging in.
	more, err := src.peek()
	if err != nil || !more {
		if cerr := out.close(); cerr != nil && err == nil {
			err = fmt.Errorf("writing results: %w", cerr)
		}
		if err != nil {
			var ie *load.InputError
			if errors.As(err, &ie) {
				return fail(ExitUsage, "InputError", err)
			}
			return fail(ExitError, "Error", err)
		}
		return pipeSummary(ev, o, sink, nil)
	}
	c, f := o.connect(ctx, cfg)
	if f != nil {
		out.close()
		return fail(f.code, f.name, f.err)
	}
	return runPipeEngine(ctx, ev, o, c, src, sink, cfg.opts, nil)
}

// runPipeEngine runs the load engine over src into sink and returns the exit code. ended, if
// set, is told how the load ended before the summary.
func runPipeEngine(ctx context.Context, ev *pipeEvents, o *pipeOptions, c *salesforce.Client, src load.Source, sink *pipeSink, opts load.Options, ended func(error) error) int {
	sink.jobs = &jobWatch{}
	opts.Progress = &pipeProgress{ev: ev, jobs: sink.jobs, last: time.Now()}
	opts.Logger = newPipeLogger(ev)
	sum, loadErr := load.New(c).Load(ctx, src, sink, opts)
	if ended != nil {
		if err := ended(loadErr); err != nil && loadErr == nil {
			loadErr = err
		}
	}
	closeErr := sink.close()
	if loadErr == nil && closeErr != nil {
		loadErr = closeErr
	}
	if loadErr != nil {
		code, name := pipeErrorCode(loadErr, sum, sink)
		if cause := context.Cause(ctx); code == ExitCancelled && cause != nil && !errors.Is(loadErr, cause) {
			loadErr = fmt.Errorf("%w (%w)", loadErr, cause)
		}
		ev.fail(code, name, loadErr)
		pipeSummary(ev, o, sink, sum)
		return code
	}
	return pipeSummary(ev, o, sink, sum)
}

// pipeErrorCode maps an error from the engine to the contracts' exit code.
func pipeErrorCode(err error, sum *load.Summary, sink *pipeSink) (int, string) {
	sentNothing := sum == nil || len(sum.Jobs) == 0
	var ie *load.InputError
	var pe *load.PreflightError
	var te *salesforce.TransportError
	switch {
	case errors.Is(err, context.Canceled):
		return ExitCancelled, exitName(ExitCancelled)
	case sentNothing && (errors.As(err, &ie) || errors.As(err, &pe)):
		return ExitUsage, "InputError"
	case sentNothing && isAuthError(err):
		return ExitAuth, "AuthError"
	case sentNothing && errors.As(err, &te):
		return ExitUnreachable, exitName(ExitUnreachable)
	case sink.err != nil:
		return ExitError, "OutputError"
	}
	// The engine gave every row it read an outcome.
	return ExitRowsFailed, "LoadError"
}

// pipeSummary writes the summary event and returns the exit code of a run that ended.
func pipeSummary(ev *pipeEvents, o *pipeOptions, sink *pipeSink, sum *load.Summary) int {
	c := sink.snapshot()
	m := map[string]any{"event": "summary", "counts": c, "rows": c.total(), "runId": nullable(o.RunID)}
	if sum != nil {
		m["api"] = sum.API.String()
		m["jobs"] = jobIDs(sum)
		m["retried"] = sum.Retried
		m["seconds"] = sum.Duration.Seconds()
	}
	ev.emit(m)
	if c.Failed+c.NotProcessed+c.Unknown > 0 {
		return ExitRowsFailed
	}
	return ExitOK
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// openPipeInput opens standard input in the stream format.
func openPipeInput(r *bufio.Reader, format string, zone *time.Location, nullText string, delim sfcsv.Delimiter) (pipeInput, error) {
	const name = "stdin"
	switch format {
	case pipeArrow:
		s, err := load.NewArrowSource(r, name, load.ArrowOptions{TimeZone: zone, NullText: nullText})
		if err != nil {
			return nil, err
		}
		return arrowInput{s}, nil
	case pipeCSV:
		src := load.CSVSource(r, name, load.CSVOptions{Delimiter: delim})
		if src.Header() == nil {
			_, err := src.Next()
			return nil, err
		}
		return &csvInput{Source: src}, nil
	}
	return newJSONLInput(r, name, nullText)
}

// keyColumns returns the positions of the --key-columns in header. An empty JSON Lines stream
// has no header and no rows: nothing to check.
func keyColumns(header, keys []string, jsonl bool) ([]int, error) {
	if jsonl && len(header) == 0 {
		return make([]int, len(keys)), nil
	}
	idx := make([]int, len(keys))
	seen := map[string]bool{}
	for i, k := range keys {
		if seen[k] {
			return nil, fmt.Errorf("--key-columns: %s is named twice", k)
		}
		seen[k] = true
		found := -1
		for j, h := range header {
			if h == k {
				found = j
				break
			}
		}
		if found < 0 {
			return nil, fmt.Errorf("--key-columns: %s is not an input column", k)
		}
		if strings.HasPrefix(k, "sf__") {
			return nil, fmt.Errorf("--key-columns: %s clashes with the result columns", k)
		}
		idx[i] = found
	}
	return idx, nil
}
