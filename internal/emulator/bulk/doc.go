// Package bulk emulates Salesforce's Bulk API 1.0 (/services/async/{ver})
// and Bulk API 2.0 (/services/data/v{ver}/jobs/ingest and /jobs/query) over
// an emulated org, byte-compatible with the protocol reference so that
// unmodified public clients (jsforce bulk and bulk2, simple-salesforce,
// go-salesforce, heroku salesforce-bulk) and sfbatch's own engines can run
// against it.
//
// # Serving
//
// A Service is an http.Handler. The emulator's server authenticates each
// request, stores a wire.Session in its context and hands Bulk paths to
// ServeHTTP. Errors use each API's own shape: Bulk 1.0 answers
// <error><exceptionCode>… in XML or JSON (by the job's content type) with
// bare media types; Bulk 2.0 answers REST's JSON error array.
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
// # Limits and faults
//
// Every Bulk 1.0 batch submitted and every Bulk 2.0 internal batch consumes
// the org's DailyBulkApiBatches allowance; Bulk 2.0 query jobs consume
// DailyBulkV2QueryJobs. Batch limits (MaxBatchRecords, MaxBatchBytes,
// MaxBatchChars) fail the batch with an InvalidBatch stateMessage; Bulk 2.0
// uploads are capped at MaxUploadBytes (base64-encoded size). Faults for
// tests and the server's control endpoint: FailNextJob, FailRows,
// FailQueriesWithTimeout, DropNextUploads, SetLockContentionRate.
//
// # Differences from Salesforce
//
//   - Uploads and results are held in memory (Salesforce keeps them for 7
//     days); jobs are never purged and the 24-hour job age limit is only
//     enforced for adding Bulk 1.0 batches.
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
//   - Exact error codes and messages that the protocol reference marks as
//     unverified (illegal Bulk 2.0 state transitions, size limits) follow
//     the reference's best guess.
package bulk
