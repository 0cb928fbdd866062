package load_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	emu "github.com/sfbatch/sfbatch/emulator"
	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// TestEmulatorResumeBulk1JobCreatedUnrecorded: a Bulk API 1.0 job create is recorded in the
// journal before it is sent, as Bulk API 2.0's is.
//   - "answer lost": the process dies while the create's answer is on its way: the org holds
//     an Open job the journal never named. The resume finds it (Open, same object and
//     operation, created while the run was alive, one create left unanswered) and aborts it;
//     every row succeeds once.
//   - "another client's job": the process dies after its job was recorded; another client
//     of the same user then opens a job of the same object and operation. Every create of
//     the run was answered, so the resume claims no job it did not record and leaves that
//     one alone.
//   - "answer lost, another user's job": as "answer lost", and another user opens a job of
//     the same object and operation meanwhile. The login says who the load runs as, so the
//     resume tells its own job from the other user's: it aborts its own and leaves the
//     other alone.
func TestEmulatorResumeBulk1JobCreatedUnrecorded(t *testing.T) {
	t.Parallel()
	const otherUser = "other@example.com"
	for _, name := range []string{"answer lost", "another client's job", "answer lost, another user's job"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := salesforcetest.New(t, salesforcetest.WithUsers(emu.DefaultUser(), salesforcetest.User{Username: otherUser, Password: "other-password"}))
			const n = 300
			rows := emuContacts(n, "K")
			dir := t.TempDir()
			store := insertRun(t, dir)
			opts := quick(load.Options{Object: "Contact", API: load.Bulk1, BatchSize: 50, Concurrency: 1, Preflight: load.PreflightOff, RunID: "r1"})
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			cj := &crashJournal{Store: store, at: jobstore.JobCreated, nth: 2, cancel: cancel}
			hc := *srv.Client()
			lost := strings.HasPrefix(name, "answer lost")
			held := &heldBulk1Create{base: srv.Client().Transport, kill: func() {
				cj.mu.Lock()
				cj.crashed = true
				cj.mu.Unlock()
				cancel()
			}}
			if lost {
				hc.Transport = held
			}
			c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(&hc), salesforce.WithTokenSource(userTokens{srv}))
			if err != nil {
				t.Fatal(err)
			}
			files, err := load.CSVSinks(dir)
			if err != nil {
				t.Fatal(err)
			}
			first := opts
			first.Journal, first.LeaveJobsOpen = cj, true // a killed process cleans nothing up
			if _, err := load.New(c).Load(ctx, src(emuHeader, rows), &crashSink{files, cj}, first); err == nil || !cj.dead() {
				t.Fatalf("first run: err %v, crashed %v", err, cj.dead())
			}
			// A new process, whose requests all get their answers.
			c, err = salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithTokenSource(userTokens{srv}))
			if err != nil {
				t.Fatal(err)
			}
			if lost && held.n.Load() != 1 {
				t.Fatalf("%d create answers withheld, want 1", held.n.Load())
			}
			var other string
			if name != "answer lost" {
				oc := c
				if lost {
					tok, err := srv.NewAccessToken(otherUser)
					if err != nil {
						t.Fatal(err)
					}
					if oc, err = salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(tok)); err != nil {
						t.Fatal(err)
					}
				}
				j, err := oc.Bulk1.CreateJob(t.Context(), salesforce.JobRequest{Object: "Contact", Operation: "insert", ContentType: "CSV"})
				if err != nil {
					t.Fatal(err)
				}
				other = j.ID
			}
			open := 0
			for j, err := range c.Bulk2.ListIngestJobs(t.Context()) {
				if err != nil {
					t.Fatal(err)
				}
				if j.State == salesforce.JobStateOpen && j.ID != other {
					open++
				}
			}
			if open != 1 {
				t.Fatalf("the crash left %d Open jobs of the run, want 1", open)
			}

			files, err = load.ResumeCSVSinks(dir)
			if err != nil {
				t.Fatal(err)
			}
			again := opts
			again.Journal, again.Resume = store, true
			sum, err := load.New(c).Load(t.Context(), src(emuHeader, rows), files, again)
			if cerr := files.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatalf("resume: %v", err)
			}
			if len(sum.UnclaimedJobs) != 0 {
				t.Errorf("unclaimed jobs: %v", sum.UnclaimedJobs)
			}
			got := readResults(t, dir)
			for i := int64(1); i <= n; i++ {
				if got[i][0] != "succeeded" {
					t.Errorf("row %d: %v", i, got[i])
				}
			}
			checkFaultResults(t, c, dir, n, "K", false)
			if other != "" {
				j, err := c.Bulk1.GetJob(t.Context(), other)
				if err != nil {
					t.Fatal(err)
				}
				if j.State != salesforce.JobStateOpen {
					t.Errorf("another client's job %s is %s after the resume, want Open", other, j.State)
				}
				if _, err := c.Bulk1.AbortJob(t.Context(), other); err != nil {
					t.Fatal(err)
				}
			}
			checkNoOpenJobs(t, c)
			if jobs, _ := store.OpenJobs(t.Context(), "r1"); len(jobs) != 0 {
				t.Errorf("jobs still open in the journal: %+v", jobs)
			}
			all, err := store.Jobs(t.Context(), "r1")
			if err != nil {
				t.Fatal(err)
			}
			placeholders := 0
			for _, j := range all {
				if strings.HasPrefix(j.JobID, "creating-") && j.API == jobstore.APIBulk1 {
					placeholders++
				}
			}
			if placeholders == 0 {
				t.Errorf("no Bulk API 1.0 job create was recorded before it was sent: %+v", all)
			}
		})
	}
}

// userTokens hands out the emulator's session of its default user, naming the user as a
// login response does.
type userTokens struct{ srv *salesforcetest.Server }

func (s userTokens) Token(context.Context) (*salesforce.Token, error) {
	return &salesforce.Token{AccessToken: s.srv.AccessToken(), InstanceURL: s.srv.URL(), UserID: s.srv.UserID()}, nil
}

// heldBulk1Create lets a Bulk API 1.0 job create reach the server but withholds its answer
// and kills the process, as kill -9 does to a request on its way.
type heldBulk1Create struct {
	base http.RoundTripper
	kill func()
	n    atomic.Int64
}

func (h *heldBulk1Create) RoundTrip(req *http.Request) (*http.Response, error) {
	create := req.Method == http.MethodPost && strings.HasSuffix(strings.TrimSuffix(req.URL.Path, "/"), "/job") &&
		strings.Contains(req.URL.Path, "/services/async/")
	if !create {
		return h.base.RoundTrip(req)
	}
	resp, err := h.base.RoundTrip(req.WithContext(context.WithoutCancel(req.Context())))
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	h.n.Add(1)
	h.kill()
	<-req.Context().Done()
	return nil, req.Context().Err()
}
