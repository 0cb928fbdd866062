// Package report builds the HTML report of a run folder: one self-contained file that
// opens from disk with no network and no server.
//
// A report is made only from what a run folder holds, so it can be made later, on another
// machine, for a run that crashed or was resumed:
//
//   - summary.json: the command's identity (object, operation, API, state, exit code);
//   - events.jsonl: when each job and batch changed state, request retries with their
//     cause (429, 503, REQUEST_LIMIT_EXCEEDED, ...), row retries, the org and the version;
//   - run.db: the journal (jobstore), for the rows each job carried;
//   - results.csv: every row's outcome, read once as a stream.
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
