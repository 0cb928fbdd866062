package bulk

import (
	"fmt"
	"net/http"

	"github.com/sfbatch/sfbatch/emulator/wire"
)

// jobEvent is what happens to a job: a client's request, or a step of the
// background processor.
type jobEvent string

// Job events. The first six are client requests, the rest the
// processor's.
const (
	jobAddBatch       jobEvent = "add batch"       // Bulk 1.0 POST .../job/{id}/batch
	jobClose          jobEvent = "close"           // Bulk 1.0 POST .../job/{id} state Closed
	jobUpload         jobEvent = "upload"          // Bulk 2.0 PUT .../jobs/ingest/{id}/batches
	jobUploadComplete jobEvent = "upload complete" // Bulk 2.0 PATCH state UploadComplete
	jobAbort          jobEvent = "abort"           // state Aborted, both APIs
	jobDelete         jobEvent = "delete"          // Bulk 2.0 DELETE .../jobs/{kind}/{id}
	jobStart          jobEvent = "start"           // the processor takes the job up
	jobFinish         jobEvent = "finish"          // every batch of the job is done
	jobFail           jobEvent = "fail"            // the job cannot go on (errorMessage says why)
	jobResume         jobEvent = "resume"          // a restarted service takes up a job it had begun
)

// jobTransition is one allowed move: a job of api in state from, on event
// ev, goes to state to.
type jobTransition struct {
	api  apiKind
	from string
	ev   jobEvent
	to   string
}

// jobTransitions is the table of every allowed job transition of the three
// job kinds. Everything not listed is refused with jobRefusal's error (a
// client request) or ignored (a processor step that lost a race with an
// abort or a delete). New jobs start Open, except Bulk 2.0 query jobs,
// which start UploadComplete (their query is the upload).
func jobTransitions() []jobTransition {
	return []jobTransition{
		{kindBulk1, stateOpen, jobAddBatch, stateOpen},
		{kindBulk1, stateOpen, jobClose, stateClosed},
		{kindBulk1, stateOpen, jobAbort, stateAborted},
		{kindBulk1, stateClosed, jobAbort, stateAborted},

		{kindV2Ingest, stateOpen, jobUpload, stateOpen},
		{kindV2Ingest, stateOpen, jobUploadComplete, stateUploadComplete},
		{kindV2Ingest, stateOpen, jobAbort, stateAborted},
		{kindV2Ingest, stateUploadComplete, jobAbort, stateAborted},
		{kindV2Ingest, stateInProgress, jobAbort, stateAborted},
		{kindV2Ingest, stateUploadComplete, jobDelete, stateAborted},
		{kindV2Ingest, stateJobComplete, jobDelete, stateJobComplete},
		{kindV2Ingest, stateAborted, jobDelete, stateAborted},
		{kindV2Ingest, stateFailed, jobDelete, stateFailed},
		{kindV2Ingest, stateUploadComplete, jobStart, stateInProgress},
		{kindV2Ingest, stateUploadComplete, jobFail, stateFailed},
		{kindV2Ingest, stateInProgress, jobFail, stateFailed},
		{kindV2Ingest, stateInProgress, jobFinish, stateJobComplete},
		{kindV2Ingest, stateInProgress, jobResume, stateUploadComplete}, // its split had not recorded its batches

		{kindV2Query, stateUploadComplete, jobAbort, stateAborted},
		{kindV2Query, stateInProgress, jobAbort, stateAborted},
		{kindV2Query, stateJobComplete, jobDelete, stateJobComplete},
		{kindV2Query, stateAborted, jobDelete, stateAborted},
		{kindV2Query, stateFailed, jobDelete, stateFailed},
		{kindV2Query, stateUploadComplete, jobStart, stateInProgress},
		{kindV2Query, stateInProgress, jobFail, stateFailed},
		{kindV2Query, stateInProgress, jobFinish, stateJobComplete},
		{kindV2Query, stateInProgress, jobResume, stateUploadComplete}, // the query runs again
	}
}

// jobNext looks ev up in the table for a job of api in state from.
func jobNext(api apiKind, from string, ev jobEvent) (string, bool) {
	for _, t := range jobTransitions() {
		if t.api == api && t.from == from && t.ev == ev {
			return t.to, true
		}
	}
	return "", false
}

// stateError is Salesforce's answer to a request the job's state forbids.
type stateError struct {
	status  int
	code    string
	message string
}

// jobRefusal is the error for event ev on job j in its current state;
// requested is the state the client asked for (Bulk 1.0 close and abort,
// Bulk 2.0 PATCH), "" for other events. Caller holds s.mu.
func jobRefusal(j *job, ev jobEvent, requested string) *stateError {
	switch {
	case j.kind == kindBulk1 && ev == jobAddBatch:
		return &stateError{http.StatusBadRequest, "InvalidJobState", "Job " + j.id + " is " + j.state + ": batches can only be added to an Open job"}
	case j.kind == kindBulk1:
		return &stateError{http.StatusBadRequest, "InvalidJobState", fmt.Sprintf("Invalid state change from %s to %s", j.state, requested)}
	case ev == jobUpload:
		return &stateError{http.StatusConflict, "INVALIDJOBSTATE", "Job " + j.id + " is " + j.state + ": data can only be uploaded to an Open job"}
	case ev == jobDelete:
		return &stateError{http.StatusBadRequest, "INVALIDJOBSTATE", "Job " + j.id + " cannot be deleted in state " + j.state}
	default:
		return &stateError{http.StatusBadRequest, "INVALIDJOBSTATE", fmt.Sprintf("Invalid state transition from %s to %s", j.state, requested)}
	}
}

// write sends the error in the shape of j's API.
func (e *stateError) write(w http.ResponseWriter, j *job) {
	if j.kind == kindBulk1 {
		writeBulk1Error(w, formatOf(j.contentType), e.status, e.code, e.message)
		return
	}
	wire.WriteError(w, e.status, e.code, e.message)
}

// jobAllowsLocked reports whether the table allows ev from j's state.
// Caller holds s.mu.
func jobAllowsLocked(j *job, ev jobEvent) bool {
	_, ok := jobNext(j.kind, j.state, ev)
	return ok
}

// jobStepLocked moves j on ev as the table says and stamps it; a forbidden
// event changes nothing and returns the refusal (requested as for
// jobRefusal). Every change of a job's state goes through here. Caller
// holds s.mu.
func (s *Service) jobStepLocked(j *job, ev jobEvent, requested string) *stateError {
	to, ok := jobNext(j.kind, j.state, ev)
	if !ok {
		return jobRefusal(j, ev, requested)
	}
	j.state = to
	j.modstamp = s.clk.Now()
	s.saveJobLocked(j)
	return nil
}

// batchEvent is what happens to a batch (a Bulk 1.0 batch or an internal
// batch of a Bulk 2.0 ingest job). Batches are moved by the processor and
// by their job's abort, never directly by a client.
type batchEvent string

// Batch events.
const (
	batchStart    batchEvent = "start"    // a worker takes the batch up
	batchReject   batchEvent = "reject"   // invalid when submitted (size limits)
	batchSkip     batchEvent = "skip"     // its job was aborted, failed or out of quota before it ran
	batchComplete batchEvent = "complete" // every row has an outcome
	batchFail     batchEvent = "fail"     // the batch as a whole failed (stateMessage says why)
	batchStop     batchEvent = "stop"     // ended with rows left: its job was aborted, or PK chunking handed its work to chunks
	batchResume   batchEvent = "resume"   // a restarted service queues it again, to go on from its first row without an outcome
)

// batchTransition is one allowed move of a batch.
type batchTransition struct {
	from string
	ev   batchEvent
	to   string
}

// batchTransitions is the table of every allowed batch transition. Batches
// start Queued. A step the table does not list is ignored: batch events
// come from the processor, which may lose a race with an abort.
func batchTransitions() []batchTransition {
	return []batchTransition{
		{batchQueued, batchStart, batchInProgress},
		{batchQueued, batchReject, batchFailed},
		{batchQueued, batchSkip, batchNotProcessed},
		{batchInProgress, batchComplete, batchCompleted},
		{batchInProgress, batchFail, batchFailed},
		{batchInProgress, batchStop, batchNotProcessed},
		{batchInProgress, batchResume, batchQueued},
	}
}

// batchStepLocked moves b on ev as the table says, stamps it and reports
// whether the table allowed it. Every change of a batch's state goes
// through here. Caller holds s.mu.
func (s *Service) batchStepLocked(b *batch, ev batchEvent) bool {
	for _, t := range batchTransitions() {
		if t.from == b.state && t.ev == ev {
			b.state = t.to
			b.modstamp = s.clk.Now()
			s.saveBatchLocked(b)
			return true
		}
	}
	return false
}

// initialJobState is the state a new job of api starts in: Open, except
// Bulk 2.0 query jobs, which start UploadComplete (their query is the
// upload).
func initialJobState(api apiKind) string {
	if api == kindV2Query {
		return stateUploadComplete
	}
	return stateOpen
}

// abortWorkLocked is what an abort does to a job's work: its queued work
// is dropped and its queued batches are not processed. Batches already
// running finish (Bulk 1.0) or stop at their next chunk (Bulk 2.0). Caller
// holds s.mu.
func (s *Service) abortWorkLocked(j *job) {
	for _, b := range j.batches {
		s.batchStepLocked(b, batchSkip) // only Queued batches move
	}
	s.dropPendingLocked(j)
}
