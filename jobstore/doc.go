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
//     created, with the input row range it carries, in state JobCreated;
//   - UpdateJobState as the job moves on: JobUploaded, JobClosed,
//     JobResultsFetched, or JobAborted / JobFailed;
//   - MarkRowsDone once the outcomes of a row range are safely written.
//
// A resumer reads Jobs (what exists on the server and how far each got) and
// DoneRanges (which input rows already have an outcome), finishes or aborts
// the open jobs, and sends only rows that are neither done nor in a job that
// was uploaded.
//
// # Storage
//
// The database uses WAL journaling, a busy timeout, foreign keys and one
// connection per Store, so writes are serialised and each method is atomic.
// Several processes may open the same file; they wait for each other up to
// the busy timeout. The schema version is kept in PRAGMA user_version and
// migrated forward on Open; a file from a newer version is refused.
package jobstore
