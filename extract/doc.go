// Package extract pulls large query results out of Salesforce, fast and in
// memory that does not grow with the number of rows.
//
// # Use
//
// Run writes every row of a query to an io.Writer as CSV, JSON Lines,
// Parquet or an Arrow IPC stream; Rows yields the rows to Go code:
//
//	sum, err := extract.Run(ctx, client, extract.Options{
//		Query:  "SELECT Id, Name, Account.Name FROM Contact",
//		Format: extract.FormatParquet,
//		Output: file,
//	})
//
//	for row, err := range extract.Rows(ctx, client, extract.Options{Query: q}) {
//		if err != nil { ... }
//		name, _ := row.Get("Name")
//	}
//
// # APIs
//
// APIAuto (the default) counts the query's rows with a REST COUNT() query
// and uses REST up to Options.RESTMaxRows rows, Bulk API 2.0 above.
//
// Bulk API 2.0 (APIBulk2) creates a query job, polls it with a growing
// interval (from Options.PollInterval up to MaxPollInterval, with no overall
// timeout: only the context ends it), then downloads the result pages. On
// API 58.0 and later with Concurrency > 1 the pages listed by resultPages
// are downloaded concurrently and written in query order, or as they arrive
// with Unordered; otherwise pages are read one after another following
// Sforce-Locator. A page whose download fails is fetched again (Retries
// times) without restarting the job; rows already written are skipped. When
// the download still fails, the *DownloadError holds a Resume value that a
// later Run can pass as Options.Resume to continue exactly where it stopped.
// IDChunks > 1 splits the query client-side into id ranges (see
// soql.WithIDRange), runs one query job per range concurrently and writes
// the ranges in id order.
//
// Bulk API 1.0 (APIBulk1) runs a query (or queryAll) job with one batch,
// optionally with PK chunking (one batch per id range, optionally on a
// parent object), and streams every result file of every batch, fetching up
// to Concurrency files at once. A batch that fails with QUERY_TIMEOUT is run
// again once with PK chunking.
//
// REST (APIREST) follows nextRecordsUrl page after page.
//
// # Output
//
// CSV is written in the sfcsv dialect of Options.CSV (delimiter, line
// ending, byte order mark). JSON Lines, Parquet and Arrow take column types from
// the objects' describes, following relationship paths such as
// Account.Owner.Name: booleans, integers, floating-point numbers, dates and
// datetimes become JSON booleans and numbers and Parquet BOOLEAN, INT64,
// DOUBLE, DATE and TIMESTAMP(millis) columns (Arrow bool, int64, float64,
// date32 and timestamp[us, UTC]: one map, see Kind); other columns (and every
// column of a query package soql cannot parse) are strings. An empty value
// is null (Salesforce stores no empty strings). A value that does not fit its
// column's type stops the run with a *ValueError naming the row and column.
//
// # Memory
//
// Rows are streamed: memory holds at most Concurrency downloaded pages, and
// each of those keeps only SpoolMemory bytes in memory, the rest in a
// temporary file in TempDir. Parquet output buffers one row group of
// ParquetRowGroupRows rows.
//
// # Errors
//
// A query Salesforce rejects returns its error (a *salesforce.APIError with
// code MALFORMED_QUERY and Salesforce's message showing the position). A
// failed job is a *JobError. Options are checked before anything is sent;
// errors name the field.
package extract
