// Package load sends any number of rows to Salesforce and gives every input row exactly one
// outcome: Succeeded (with the record id and whether it was created), Failed (with the status
// code, message and fields), NotProcessed (no request carrying it can have been applied; the
// reason says why) or Unknown (a request carrying it may have been applied but its result
// could not be read; its job and batch ids say where to look, and a resumed load settles it).
//
// # Use
//
//	c, _ := salesforce.New(instanceURL, salesforce.WithAccessToken(token))
//	files, _ := load.CSVSinks("results")
//	sum, err := load.Load(ctx, c, load.CSVSource(f, "contacts.csv", load.CSVOptions{}), files,
//		load.Options{Object: "Contact", Operation: load.Upsert, ExternalIDField: "External_Id__c"})
//	files.Close() // writes success.csv, failure.csv, unprocessed.csv, unknown.csv and results.csv
//
// Rows come from a Source: CSVSource (Salesforce's CSV dialect), MapSource (maps of Go
// values), StructSource (structs with `sf:"Field"` tags), RowsSource (string rows),
// NewArrowSource (an Arrow IPC stream, every scalar Arrow type mapped to Salesforce's text
// forms), or any type with Header and Next. Every row carries a stable 1-based number; results name it.
//
// # Bad input
//
// One rule holds for every source. A row the reader can delimit but not accept (too many or
// too few cells, invalid UTF-8, a NUL byte, a value that cannot be converted) is a row's
// *InputError: the row fails alone, unsent, with StatusInvalidRow and its position (file,
// row, line, column) in the message, and the load goes on. A structural *InputError (an
// unterminated quote, a record over the size limit) ends the input: the rows before it are
// loaded, the broken row fails, nothing after it is sent, and Load returns the error.
// CheckStructure reads a file once, sending nothing, so that a caller can refuse such a file
// before the first upload.
//
// # An org that cannot be used
//
// An org that cannot be reached, or that refuses the session when it cannot be renewed, stops
// the load at the preflight describe or its first request, before any job exists: every row
// ends NotProcessed and the *Error's cause satisfies OrgUnusable (Unreachable tells the two
// apart). Lost mid-run, it leaves the rows never sent NotProcessed, never Failed. Unsent
// gives every row its NotProcessed outcome when the login itself failed.
//
// # How a load runs
//
//  1. Options are validated and defaulted in one place (errors name the field).
//  2. API Auto peeks at up to CollectionsThreshold+1 rows: fewer go through sObject
//     Collections (synchronous, no polling), more through Bulk API 2.0. Bulk API 1.0 is used
//     when asked for (serial mode, per-batch results).
//  3. Preflight (when describe is reachable) checks the header: unknown columns, fields that
//     cannot be created or updated, required fields missing on insert, an external id field
//     that is not one. Problems abort with a *PreflightError before any job exists. Rows with
//     a missing required value or an obvious type or length error fail on their own, unsent
//     (or abort the load with Options.PreflightRows = AbortOnRowProblems). Options.DryRun
//     checks everything and sends nothing.
//  4. Rows are encoded once, in the upload's delimiter and line ending, and split by exact
//     bytes, characters and records: Bulk API 1.0 batches stay under 10,000 records, 10 MB
//     and 10,000,000 characters; Bulk API 2.0 jobs under ~100 MB raw (150 MB base64) and
//     BatchSize records; collection calls under 200 records. A row that alone exceeds a limit
//     fails with StatusRowTooLarge. Chunks are spooled to temporary files, so memory is
//     bounded by the chunks in flight, not by the input.
//  5. Up to Concurrency chunks run at once (and the client's pacer bounds requests further).
//     Status polls back off from MinPollInterval to MaxPollInterval; no client-side timer
//     abandons a running job (only ctx or Options.Deadline stop a load).
//  6. Results are joined to input rows: Bulk API 1.0 by position, Bulk API 2.0 by row
//     content within the job (the result files echo the uploaded columns; identical rows are
//     matched in input order; results are streamed, never held whole), collections by
//     position. Rows missing from every result file become Unknown. A step of a job that
//     fails transiently (create, batch add, upload, close, poll, result download) is tried
//     again; a request that is not safe to repeat is looked for first (ambiguous.go): a lost
//     Bulk API 1.0 batch add by the job's batches' content, a lost job create among the org's
//     Open jobs, a lost Collections insert by external id (lookup.go).
//  7. Rows that failed with a retryable code (DefaultRetryCodes: UNABLE_TO_LOCK_ROW and
//     friends) are spooled and resubmitted in later passes, up to MaxRetries, after a
//     doubling backoff, sorted by GroupBy when set. A job that fails as a whole is
//     resubmitted when that is safe (update, upsert, delete), its rows' answers read through
//     the settlement table (settle); otherwise its rows without a result are Unknown.
//  8. On cancellation, deadline or a fatal error, no job is left Open (unless
//     LeaveJobsOpen): Open Bulk API 2.0 jobs are aborted; with a journal, closed jobs keep
//     processing for a resumed load to collect and Bulk API 1.0 jobs are closed; without
//     one, jobs are aborted. Rows of chunks that were sent get Unknown (NotProcessed when
//     their job was aborted before processing anything), rows never sent NotProcessed, and
//     the returned *Error names every job that was open.
//
// # Resuming a killed load
//
// With Options.Journal (a *jobstore.Store) and Options.RunID, every irreversible step is
// recorded before the next one: a job create request before it is sent (a placeholder,
// final once the job is recorded); a Bulk API 2.0 job once created, uploaded and closed; a Bulk
// API 1.0 batch under a placeholder id before it is added, then under its real id; a
// collections call before it is sent. Each record carries the exact input rows of the job, in
// upload order (compact ranges, so GroupBy and retry passes, whose rows are not contiguous,
// are covered). When a job's results have been joined, the sink is made durable (Syncer;
// CSVFiles fsyncs results.csv and spills the rows waiting for earlier ones) and then the job is recorded finished together with the rows
// that got their final outcome, in one transaction.
//
// Options.Resume continues such a run, reading the same input again from its first row:
//
//   - rows recorded done are skipped: their outcomes are in the sink already (ResumeCSVSinks
//     picks up the durable part of results.csv and the part files; the latest outcome of a
//     row wins, so the merged files list every row once);
//   - a Bulk API 2.0 job that was created but never received data is aborted (it has no
//     effect) and its rows are sent again; one that was uploaded but not closed is closed;
//     every uploaded job is waited for and its results are joined to its rows, re-read from
//     the input by row number: its rows are never sent twice;
//   - a Bulk API 1.0 batch is waited for and its results joined; a batch that was being
//     added is looked up among the job's batches: none unknown means it was never added (its
//     rows go again), exactly one unknown batch is it; with several, update, upsert and delete
//     send the rows again and an insert finds its batch by uploaded content (found: its
//     results are joined; not found: never added, the rows go again);
//   - an sObject Collections call interrupted in flight has no server-side record: an
//     insert looks its rows up by external id (found: succeeded; not found: sent again;
//     without an external id column: Unknown), other operations send them again;
//   - a job the interrupted run created but never recorded is found among the org's Open
//     jobs and aborted when it is the only candidate;
//   - rows sent to a retry pass, and rows never sent, are sent normally.
//
// The caller checks that the input is the same (jobstore.Store.CheckInput compares size and
// SHA-256); the engine checks the object and operation and that the input has the rows of
// every job in flight. When a journaled load is cancelled, jobs whose rows may already be
// processing (closed Bulk API 2.0 jobs, Bulk API 1.0 jobs) are left running rather than
// aborted, so that the resumed load collects their results; the *Error lists them. A
// resumed load's Summary counts the rows of that call only (rows skipped as done are not
// read into it).
//
// # Results
//
// A Sink receives each RowResult as it becomes known. CSVFiles writes success, failure,
// unprocessed and merged results files ordered by input row; Batches collects one list per
// batch, the way salesforce_batch returns them; Summary counts outcomes by kind and status
// code. Progress events (rows read, bytes uploaded, job states, rows done, retries) go to
// Options.Progress; the package prints nothing and logs only to Options.Logger.
package load
