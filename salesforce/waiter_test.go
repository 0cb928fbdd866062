package salesforce

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func fastWaiter(o *WaiterOptions) { o.MinDelay, o.MaxDelay = time.Millisecond, 10*time.Millisecond }

// TestWaitersEmulator waits for every kind of job through the emulator: a Bulk API 2.0
// ingest and query job, a Bulk API 1.0 batch and a Bulk API 1.0 job's batch list.
func TestWaitersEmulator(t *testing.T) {
	t.Parallel()
	c, _ := newEmulatorClient(t)
	ctx := t.Context()

	ingest, err := c.Bulk2.CreateIngestJob(ctx, IngestJobRequest{Object: "Contact", Operation: "insert"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Bulk2.UploadJobData(ctx, ingest.ID, BytesBody([]byte("LastName\nWaiterA\nWaiterB\n"))); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Bulk2.CloseIngestJob(ctx, ingest.ID); err != nil {
		t.Fatal(err)
	}
	var polls []JobProgress
	job, err := NewIngestJobWaiter(c.Bulk2, ingest.ID, fastWaiter, func(o *WaiterOptions) {
		o.OnPoll = func(p JobProgress) { polls = append(polls, p) }
	}).Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if job.State != JobStateJobComplete || job.NumberRecordsProcessed != 2 {
		t.Fatalf("ingest job = %s, %d processed; want JobComplete, 2", job.State, job.NumberRecordsProcessed)
	}
	if len(polls) == 0 || polls[len(polls)-1].State != JobStateJobComplete || !polls[0].Changed || polls[0].Polls != 1 {
		t.Fatalf("OnPoll saw %+v", polls)
	}

	query, err := c.Bulk2.CreateQueryJob(ctx, QueryJobRequest{Query: "SELECT Id FROM Contact WHERE LastName LIKE 'Waiter%'", Operation: "query"})
	if err != nil {
		t.Fatal(err)
	}
	qj, err := NewQueryJobWaiter(c.Bulk2, query.ID, fastWaiter).Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if qj.State != JobStateJobComplete || qj.NumberRecordsProcessed != 2 {
		t.Fatalf("query job = %s, %d processed; want JobComplete, 2", qj.State, qj.NumberRecordsProcessed)
	}

	b1, err := c.Bulk1.CreateJob(ctx, JobRequest{Object: "Contact", Operation: "insert", ContentType: "CSV"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, data := range []string{"LastName\nWaiterC\n", "LastName\nWaiterD\nWaiterE\n"} {
		b, err := c.Bulk1.AddBatch(ctx, b1.ID, "CSV", BytesBody([]byte(data)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, b.ID)
	}
	batch, err := NewBatchWaiter(c.Bulk1, b1.ID, ids[1], fastWaiter).Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if batch.State != BatchStateCompleted || batch.NumberRecordsProcessed != 2 {
		t.Fatalf("batch = %s, %d processed; want Completed, 2", batch.State, batch.NumberRecordsProcessed)
	}
	list, err := NewBatchListWaiter(c.Bulk1, b1.ID, fastWaiter).Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range list {
		got = append(got, b.ID+" "+b.State)
	}
	want := []string{ids[0] + " Completed", ids[1] + " Completed"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("batch list (-want +got):\n%s", diff)
	}
	if _, err := c.Bulk1.CloseJob(ctx, b1.ID); err != nil {
		t.Fatal(err)
	}
}

// scriptedJobs serves job states from a script, one per poll (the last repeats).
type scriptedJobs struct {
	states    []string
	processed []int64
	n         int
}

func (s *scriptedJobs) GetIngestJob(_ context.Context, id string) (*IngestJob, error) {
	i := min(s.n, len(s.states)-1)
	s.n++
	return &IngestJob{ID: id, State: s.states[i], NumberRecordsProcessed: s.processed[i]}, nil
}

// TestWaiterDelays checks the poll schedule on a fake clock: the wait grows by half when a
// poll shows no progress, stays when it does, is capped by MaxDelay and by a quarter of the
// job's age.
func TestWaiterDelays(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	tests := []struct {
		name      string
		states    []string
		processed []int64
		min, max  time.Duration
		first     time.Duration // zero: MinDelay (no ramp)
		records   int64
		age       time.Duration // the job's age when waiting starts
		want      []time.Duration
	}{
		{
			name:      "no progress grows to the cap",
			states:    []string{"InProgress", "InProgress", "InProgress", "InProgress", "InProgress", "InProgress", "JobComplete"},
			processed: []int64{0, 0, 0, 0, 0, 0, 0},
			min:       100 * ms, max: 300 * ms, age: time.Hour,
			// the first poll is progress (a state seen for the first time): the wait grows from the second on
			want: []time.Duration{100 * ms, 100 * ms, 151 * ms, 227500 * time.Microsecond, 300 * ms, 300 * ms},
		},
		{
			name:      "progress keeps the wait",
			states:    []string{"InProgress", "InProgress", "InProgress", "JobComplete"},
			processed: []int64{10, 20, 30, 40},
			min:       100 * ms, max: 300 * ms, age: time.Hour,
			want: []time.Duration{100 * ms, 100 * ms, 100 * ms},
		},
		{
			name:      "a quarter of a young job's age",
			states:    []string{"InProgress", "InProgress", "InProgress", "InProgress", "JobComplete"},
			processed: []int64{0, 0, 0, 0, 0},
			min:       100 * ms, max: time.Minute, age: 0,
			// elapsed after each wait: 100, 200, 300 ms: a quarter is under MinDelay
			want: []time.Duration{100 * ms, 100 * ms, 100 * ms, 100 * ms},
		},
		{
			name:      "the first waits ramp up to MinDelay, progress or not",
			states:    []string{"InProgress", "InProgress", "InProgress", "InProgress", "InProgress", "InProgress", "InProgress", "JobComplete"},
			processed: []int64{0, 10, 20, 20, 20, 20, 20, 20},
			min:       100 * ms, max: 300 * ms, first: 20 * ms, age: time.Hour,
			// 20, 30, 45, 67.5, 100 (capped), then growth on no progress
			want: []time.Duration{20 * ms, 30 * ms, 45 * ms, 67500 * time.Microsecond, 100 * ms, 151 * ms, 227500 * time.Microsecond},
		},
		{
			name:      "records: the pace shortens the wait to the job's estimated finish",
			states:    []string{"InProgress", "InProgress", "InProgress", "InProgress", "InProgress", "JobComplete"},
			processed: []int64{0, 0, 0, 600, 900, 1000},
			min:       100 * ms, max: time.Second, age: time.Hour, records: 1000,
			// 600 records in 151 ms, 400 left: 100.67 ms, plus an eighth and 10 ms; then 300 in
			// that time, 100 left: under FirstDelay (MinDelay here), which is the floor
			want: []time.Duration{100 * ms, 100 * ms, 151 * ms, 123249999, 100 * ms},
		},
		{
			name:      "a new state brings the wait back to MinDelay",
			states:    []string{"UploadComplete", "UploadComplete", "UploadComplete", "UploadComplete", "InProgress", "InProgress", "JobComplete"},
			processed: []int64{0, 0, 0, 0, 0, 10, 20},
			min:       100 * ms, max: time.Second, age: time.Hour,
			want: []time.Duration{100 * ms, 100 * ms, 151 * ms, 227500 * time.Microsecond, 100 * ms, 100 * ms},
		},
		{
			name:      "records: never longer than the usual wait",
			states:    []string{"InProgress", "InProgress", "InProgress", "JobComplete"},
			processed: []int64{0, 10, 20, 30},
			min:       100 * ms, max: time.Second, age: time.Hour, records: 1_000_000,
			want: []time.Duration{100 * ms, 100 * ms, 100 * ms},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			var got []time.Duration
			w := NewIngestJobWaiter(&scriptedJobs{states: tt.states, processed: tt.processed}, "750x", func(o *WaiterOptions) {
				o.MinDelay, o.MaxDelay, o.Since = tt.min, tt.max, now.Add(-tt.age)
				o.FirstDelay, o.Records = tt.first, tt.records
				if o.FirstDelay == 0 {
					o.FirstDelay = tt.min // the ramp has its own cases
				}
			})
			w.now = func() time.Time { return now }
			w.sleep = func(_ context.Context, d time.Duration) error {
				got = append(got, d)
				now = now.Add(d)
				return nil
			}
			job, err := w.Wait(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if job.State != JobStateJobComplete {
				t.Fatalf("state = %s", job.State)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWaiterStopsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(t.Context())
	stop := errors.New("stop waiting")
	w := NewIngestJobWaiter(&scriptedJobs{states: []string{"InProgress"}, processed: []int64{0}}, "750x", func(o *WaiterOptions) {
		o.MinDelay = time.Hour
		o.OnPoll = func(JobProgress) { cancel(stop) }
	})
	start := time.Now()
	if _, err := w.Wait(ctx); !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the context's cause", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("Wait took %s after its context ended", time.Since(start))
	}
}

func TestCheckResponse(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`[{"message":"No such column 'Foo' on entity 'Contact'","errorCode":"INVALID_FIELD","fields":["Foo"]}]`))
	}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/ok")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckResponse(resp); err != nil {
		t.Fatalf("CheckResponse(204) = %v", err)
	}
	resp.Body.Close()
	resp, err = srv.Client().Get(srv.URL + "/bad?access_token=SECRET123")
	if err != nil {
		t.Fatal(err)
	}
	err = CheckResponse(resp)
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("CheckResponse(400) = %v, want *APIError", err)
	}
	if ae.StatusCode != 400 || ae.ErrorCode != "INVALID_FIELD" || ae.Method != http.MethodGet || !cmp.Equal(ae.Fields, []string{"Foo"}) {
		t.Fatalf("APIError = %+v", ae)
	}
	if strings.Contains(err.Error(), "SECRET123") {
		t.Fatalf("error leaks a credential: %v", err)
	}
}

// TestRetryHooks replaces the policy's "should retry?" and "how long to wait?" decisions.
func TestRetryHooks(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`[{"message":"try later","errorCode":"MY_TRANSIENT_CODE"}]`))
	})
	var attempts []int
	policy := RetryPolicy{
		MaxAttempts: 4,
		CheckRetry: func(ctx context.Context, method string, resp *http.Response, err error) bool {
			return IsErrorCode(err, "MY_TRANSIENT_CODE") || DefaultCheckRetry(ctx, method, resp, err)
		},
		Backoff: func(attempt int, _ time.Duration) time.Duration {
			attempts = append(attempts, attempt)
			return 0
		},
	}
	c, _ := newFakeOrgClient(t, h, WithRetry(policy))
	err := c.Call(t.Context(), http.MethodGet, "/services/data/v62.0/limits", nil, nil)
	if !IsErrorCode(err, "MY_TRANSIENT_CODE") {
		t.Fatalf("err = %v", err)
	}
	if hits.Load() != 4 || !cmp.Equal(attempts, []int{1, 2, 3}) {
		t.Fatalf("hits = %d, backoff attempts = %v; want 4 and [1 2 3]", hits.Load(), attempts)
	}
	if DefaultCheckRetry(t.Context(), http.MethodGet, nil, &APIError{StatusCode: 400, ErrorCode: "MY_TRANSIENT_CODE"}) {
		t.Fatal("DefaultCheckRetry retries a 400")
	}
}
