// Package report builds the HTML report of a run folder: one self-contained file that
// opens from disk with no network and no server.
//
// A report is made only from what a run folder holds, so it can be made later, on another
// machine, for a run that crashed or was resumed:
//
//   - summary.json: the command's identity (object, operation, API, state, exit code; an
//     export's rows, pages, bytes and files);
//   - events.jsonl: when each job and batch changed state, request retries with their
//     cause and wait (429, 503, REQUEST_LIMIT_EXCEEDED, ...), row retries with their wait
//     and by error code, the org's API usage over time, concurrency changes
//     ({"event":"concurrency","api","from","to","cause"}), Salesforce's processing times
//     of Bulk API 2.0 jobs and Bulk API 1.0 batches, an export's result pages, the org
//     and the version;
//   - run.db: the journal (jobstore), for the rows each job carried;
//   - results.csv: every row's outcome, read once as a stream.
//
// Three kinds of run folder give three pages (Data.Kind): a load's; an export's (rows,
// pages and bytes written, query jobs, throughput, files written); and a plan's (plan.json
// beside the plan's events.jsonl and run.db), with the plan's object graph, every step's
// counts from its NN-Object/results.csv and links to each step's own page, which Build
// makes from the step's folder and the plan's events while the step ran.
//
// Build aggregates these into a Data value whose size depends on the number of jobs and of
// distinct error codes and fields, never on the number of rows: results.csv is streamed
// with one reused record, and every list that could grow with the input is capped by a
// named constant (MaxGroups, MaxJobs, MaxRetryMarks). Cell values are left out unless
// Options.Values asks for a few example rows per error code, and even then the fields
// named in Options.Mask are masked.
//
// Write renders Data as HTML with Apache ECharts (report/assets/echarts.min.js, version
// EChartsVersion, Apache License 2.0, see report/assets/ECHARTS-LICENSE) inlined into the
// page, so the file needs nothing but a browser.
package report
