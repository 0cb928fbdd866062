// Package bulk emulates Salesforce's Bulk API 1.0 (/services/async/{ver})
// and Bulk API 2.0 (/services/data/v{ver}/jobs/ingest and /jobs/query) over
// an emulated org, byte-compatible with the protocol reference so that
// unmodified public clients (jsforce bulk and bulk2, simple-salesforce,
// go-salesforce, heroku salesforce-bulk) and sfbatch's own engines can run
// against it.
//
// # What this package owns, and what it must not touch
//
// It owns the Bulk APIs' wire formats, their jobs and batches, the worker
// pool that processes them and the processing profiles. What a row does
// to a record is decided by org.Org.Write, never here, so Bulk rows fail
// exactly as REST writes do. It does not authenticate or count API
// requests (package emulator does before a request arrives), and it never
// imports the client packages (salesforce, load, extract).
//
// # Serving
//
// A Service is an http.Handler. The emulator's server authenticates each
// request, stores a wire.Session in its context and hands Bulk paths to
// ServeHTTP. Errors use each API's own shape: Bulk 1.0 answers
// <error><exceptionCode>… in XML or JSON with bare media types; Bulk 2.0
// answers REST's JSON error array. Bulk 1.0 picks the format of every
// response, errors included, as Salesforce's "Content Type Header" page
// says: by the job's contentType once a request names an existing job (JSON
// for JSON jobs, XML for CSV and XML jobs), else (job creation, an unknown
// job) by the request's Content-Type, XML without one.
//
// # Processing model
//
// Work runs on a pool of background workers (Options.MaxConcurrentBatches,
// an org-wide cap). A Bulk 1.0 batch is one unit of work; a Bulk 2.0 ingest
// upload is validated, then split into internal batches of MaxBatchRecords
// rows that run in parallel; a query is one unit. Serial Bulk 1.0 jobs run
// one batch at a time, in order. Rows are written through org.Write in
// chunks of ChunkRecords, so they are validated exactly as REST writes are
// and per-row failures land in the result files while the rest succeeds.
//
// Timing is a Profile: Instant (default) processes as fast as possible;
// Realistic adds a start latency per batch, a cost per record (paid per
// 200-record chunk, so counters grow while a batch runs) and a query
// latency, all on the injectable clock, so tests step a clock.Fake instead
// of sleeping. Service.WaitIdle waits until no work is queued or running.
//
// With Options.LockContentionRate set, rows of a Parallel job whose parent
// record (a reference field such as AccountId, or a relationship column
// such as Account.External_Id__c) is also referenced by an earlier batch of
// the same job fail with UNABLE_TO_LOCK_ROW at that rate, decided by a hash
// of Options.Seed, the job, the batch and the row: the same data and seed
// give the same failures whatever the scheduling. Serial jobs never contend.
//
// # Job and batch states
//
// Every change of a job's or a batch's state goes through one transition
// table (states.go: jobTransitions, batchTransitions), state x event ->
// state. Client requests (close, abort, upload, UploadComplete, delete,
// add batch) that the table does not allow from the job's current state
// are refused with Salesforce's error for that request (jobRefusal);
// processor steps (start, finish, fail) that it does not allow, because
// an abort or a delete came first, change nothing. The tests walk every
// pair of the tables through the HTTP API (TestTransitionTables).
//
// # Limits and faults
//
// Every Bulk 1.0 batch submitted and every Bulk 2.0 internal batch consumes
// the org's DailyBulkApiBatches allowance; Bulk 2.0 query jobs consume
// DailyBulkV2QueryJobs. Records of Bulk 2.0 ingest jobs consume
// DailyBulkV2IngestRecords (DailyIngestRecords, 150,000,000) as they are
// processed, one 200-record chunk at a time: the chunk that no longer fits
// fails the job (Failed, errorMessage "ExceededQuota : …"), and it and every
// later row are left in unprocessedrecords. Jobs processed while the
// allowance is used up fail the same way at their first chunk, until the
// org's daily reset. All these counters appear in /limits and can be set
// with org.SetLimit.
//
// Options.MaxOpenJobs (DefaultMaxOpenJobs, 1,000) caps the Bulk 2.0 ingest
// jobs that are Open, UploadComplete or InProgress plus the Bulk 1.0 jobs
// that are Open; creating one more is refused with Bulk 2.0's 403
// REQUEST_LIMIT_EXCEEDED or Bulk 1.0's 400 ExceededQuota. Bulk 2.0 query
// jobs are not counted.
//
// Batch limits (MaxBatchRecords, MaxBatchBytes, MaxBatchChars) fail the
// batch with an InvalidBatch stateMessage; Bulk 2.0
// uploads are capped at MaxUploadBytes (base64-encoded size). Faults for
// tests and the server's control endpoint: FailNextJob, FailRows,
// FailQueriesWithTimeout, DropNextUploads, SetLockContentionRate.
//
// # Differences from Salesforce
//
//   - Jobs are never purged (Salesforce keeps results for 7 days) and the
//     24-hour job age limit is only enforced for adding Bulk 1.0 batches.
//     Without Options.DataFile they live in memory only.
//   - With Options.DataFile, jobs, batches, uploads and results are written
//     through to the file and a service opened over it resumes their work,
//     each batch from its first row without a recorded outcome. The org
//     stores each chunk's results with its records (org.Org.WriteTagged)
//     until the chunk's outcomes are in the file too, so a chunk applied
//     just before a crash is taken from there, not applied again: nothing
//     is lost or repeated, after a shutdown or a crash. Query results are
//     not stored: they are selected again when the service opens, from the
//     org as it is then. Lock contention is not modelled for batches that
//     resume.
//   - A Bulk 2.0 query runs when the job is created (so malformed queries
//     are rejected with 400, as Salesforce does) and its rows are a snapshot
//     of that moment; the job then moves through InProgress to JobComplete
//     under the profile's timing.
//   - Batches are never retried: numberRetries and retries stay 0.
//   - Lock contention is modelled within a job only, and the message names
//     the parent as written in the row (an id or an external id value).
//   - A UTF-8 byte order mark before the CSV header is skipped (Salesforce
//     reports the first column as not found).
//   - Bulk 1.0 ZIP content types, the /spec resource and binary attachments
//     are not supported; PK chunking with parent= chunks on the parent's ids
//     and filters on {parent}Id.
//   - Salesforce documents the 150,000,000-record Bulk 2.0 ingest allowance
//     but no /limits key for it: DailyBulkV2IngestRecords is the emulator's
//     own name. It is counted per 200-record chunk (Salesforce counts per
//     record), and like every daily counter it resets at midnight UTC on the
//     org clock rather than over a rolling 24 hours.
//   - Salesforce documents no cap on open or concurrent Bulk jobs;
//     MaxOpenJobs, its default and its error messages are the emulator's
//     choice (REQUEST_LIMIT_EXCEEDED, which Salesforce uses for its
//     concurrency limits, and Bulk 1.0's ExceededQuota). Bulk 1.0 jobs
//     count while Open, not while their batches of a Closed job still run.
//   - Exact error codes and messages that the protocol reference marks as
//     unverified (illegal Bulk 2.0 state transitions, size limits) follow
//     the reference's best guess.
package bulk
