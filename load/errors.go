package load

import (
	"fmt"
	"strings"
)

// OpenJob is a job that was still open or running when a load stopped.
type OpenJob struct {
	API   API
	ID    string
	State string // state after the abort attempt ("Aborted"), or the last known state
	// AbortErr is why aborting the job failed, or nil (also nil when jobs were left open).
	AbortErr error
	// Left reports that the job was left running on purpose (Options.LeaveJobsOpen, or a
	// journaled load whose job may already be processing rows: resume collects its results).
	Left bool

	resumable bool // left because a journaled load may be resumed
}

// Error is returned when a load stops before every row has a final outcome: the context was
// cancelled, Options.Deadline passed, a sink failed, or Salesforce refused a request the load
// cannot do without (for example creating a job). Rows already known have been delivered;
// the rest were delivered as NotProcessed. Jobs lists every job that was open at that moment,
// so the caller can inspect or abort it.
type Error struct {
	Err  error     // the cause
	Jobs []OpenJob // jobs open when the load stopped, aborted unless Options.LeaveJobsOpen
	Left bool      // true when jobs were left open (Options.LeaveJobsOpen, or a journaled load; see OpenJob.Left)
}

// Error names the cause and every open job id, saying which were aborted and which were left
// running.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("load: ")
	b.WriteString(e.Err.Error())
	var aborted, left, kept []OpenJob
	for _, j := range e.Jobs {
		switch {
		case j.resumable:
			kept = append(kept, j)
		case j.Left || e.Left:
			left = append(left, j)
		default:
			aborted = append(aborted, j)
		}
	}
	list := func(title string, jobs []OpenJob) {
		if len(jobs) == 0 {
			return
		}
		b.WriteString(title)
		for _, j := range jobs {
			fmt.Fprintf(&b, " %s (%s", j.ID, j.API)
			if j.AbortErr != nil {
				fmt.Fprintf(&b, ", abort failed: %v", j.AbortErr)
			} else if j.State != "" {
				fmt.Fprintf(&b, ", %s", j.State)
			}
			b.WriteString(")")
		}
	}
	list("; open jobs aborted:", aborted)
	list("; jobs left open:", left)
	list("; jobs left running, not aborted (their rows may already be processed; resuming the load collects their results):", kept)
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Problem is one preflight finding.
type Problem struct {
	Row     int64  // 1-based input row, or 0 for a problem with the header or the options
	Column  string // column name, if any
	Code    string // Salesforce-like status code, e.g. INVALID_FIELD, REQUIRED_FIELD_MISSING
	Message string
}

// String formats the problem with its row and column.
func (p Problem) String() string {
	where := "header"
	if p.Row > 0 {
		where = fmt.Sprintf("row %d", p.Row)
	}
	if p.Column != "" {
		where += ", column " + p.Column
	}
	return fmt.Sprintf("%s: %s: %s", where, p.Code, p.Message)
}

// PreflightError lists the problems the describe-based check found before any job was created.
type PreflightError struct {
	Object   string
	Problems []Problem
	// Truncated is how many further problems were found but not listed.
	Truncated int
}

// Error lists the problems.
func (e *PreflightError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "load: preflight for %s found %d problem(s)", e.Object, len(e.Problems)+e.Truncated)
	for i, p := range e.Problems {
		if i == 10 {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-10+e.Truncated)
			break
		}
		b.WriteString("; ")
		b.WriteString(p.String())
	}
	return b.String()
}
