// Package jobstore is the durable record of load runs, kept in an embedded
// SQLite database (modernc.org/sqlite, no cgo), so that a run killed at any
// point can be resumed without sending a row twice.
//
// # Model
//
// A Run is one load of one input file into one object with one operation.
// Before each irreversible step the engine records it here:
//
//   - RecordJob when a Bulk API job (or batch, or collections call) has been
//     created, with the input row range it carries (and JobRecord.Rows, the
//     exact rows in upload order, when they are not contiguous), in state
//     JobCreated; a Bulk API 1.0 batch is recorded under a placeholder id
//     before it is added and renamed with SetBatchID once Salesforce answers;
//   - UpdateJobState as the job moves on: JobUploaded, JobClosed,
//     JobResultsFetched, or JobAborted / JobFailed;
//   - FinishJob once a job's results are joined and the outcomes safely
//     written: the job moves to JobResultsFetched and its done rows are
//     recorded in the same transaction (MarkRowsDone for rows finished
//     outside any job).
//
// A resumer reads Jobs (what exists on the server and how far each got) and
// DoneRanges (which input rows already have an outcome), finishes or aborts
// the open jobs, and sends only rows that are neither done nor in a job that
// was uploaded.
//
// Row numbers are the caller's; the load engine records load.Row.Number, the
// 1-based data row of the input (the header is not counted: the first data
// row is 1).
//
// # Resuming, job by job
//
//   - JobCreated: the job exists but holds no data. Abort it and send its
//     rows again. A Bulk API 1.0 batch still under its placeholder id may or
//     may not have been added: list the job's batches to find out.
//   - JobUploaded: Bulk API 2.0 processes nothing before the job is closed,
//     so close it (or abort it and resend). Bulk API 1.0 processes a batch as
//     soon as it is added: wait for it and fetch its results.
//   - JobClosed: wait for the job to finish and fetch its results.
//   - JobResultsFetched: its rows' outcomes are saved and marked done;
//     rows of it that are not done were sent to a retry pass: send them again.
//   - JobAborted, JobFailed: rows that were not processed go again.
//
// # Storage
//
// The database uses WAL journaling, a busy timeout, foreign keys and one
// connection per Store, so writes are serialised and each method is atomic.
// Several processes may open the same file; they wait for each other up to
// the busy timeout. The schema version is kept in PRAGMA user_version and
// migrated forward on Open; a file from a newer version is refused.
package jobstore
