package load_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// cuttingTransport breaks the responses of result downloads part way: response n (0-based)
// of each result URL ends, after cuts[n] bytes of its body, in a connection reset. The
// emulator's faults disturb whole requests; this disturbs a response already streaming.
type cuttingTransport struct {
	http.RoundTripper
	cuts []int

	mu     sync.Mutex
	served map[string]int // URL path -> responses
	broken int            // responses cut
}

// resultPath reports a result download: Bulk API 2.0 successful results, Bulk API 1.0
// batch results.
func resultPath(p string) bool {
	return strings.HasSuffix(p, "/successfulResults") || strings.HasSuffix(p, "/successfulResults/") ||
		strings.Contains(p, "/services/async/") && strings.HasSuffix(p, "/result")
}

func (t *cuttingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.RoundTripper.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || resp.StatusCode != http.StatusOK || !resultPath(req.URL.Path) {
		return resp, err
	}
	t.mu.Lock()
	n := t.served[req.URL.Path]
	t.served[req.URL.Path]++
	t.mu.Unlock()
	if n < len(t.cuts) {
		resp.Body = &cutResponse{body: resp.Body, left: t.cuts[n], t: t}
	}
	return resp, nil
}

// cutResponse is a response body that breaks after left bytes.
type cutResponse struct {
	body io.ReadCloser
	left int
	t    *cuttingTransport
	cut  bool
}

func (c *cutResponse) Read(p []byte) (int, error) {
	if c.left <= 0 {
		if !c.cut {
			c.cut = true
			c.t.mu.Lock()
			c.t.broken++
			c.t.mu.Unlock()
		}
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	n, err := c.body.Read(p[:min(len(p), c.left)])
	c.left -= n
	if err == io.EOF {
		c.left = 0 // shorter than the cut: not broken
		c.cut = true
	}
	return n, err
}

func (c *cutResponse) Close() error { return c.body.Close() }

// TestEmulatorResultsBreakPartWay loads through the emulator while result downloads break
// part way: fewer times than MaxStepAttempts, each file is resumed and every row succeeds
// once; on every try, the rows not yet joined are unknown and nothing is joined twice.
func TestEmulatorResultsBreakPartWay(t *testing.T) {
	t.Parallel()
	for _, api := range []load.API{load.Bulk2, load.Bulk1} {
		for _, tc := range []struct {
			name string
			cuts []int
			lost bool
		}{
			{"resumed", []int{0, 3000, 3001, 9000}, false},
			{"lost", []int{2000, 2000, 2000, 2000, 2000}, true},
		} {
			t.Run(fmt.Sprintf("%s/%s", api, tc.name), func(t *testing.T) {
				t.Parallel()
				const n = 4000
				srv := salesforcetest.New(t)
				hc := srv.Client()
				ct := &cuttingTransport{RoundTripper: hc.Transport, cuts: tc.cuts, served: map[string]int{}}
				c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(&http.Client{Transport: ct}), salesforce.WithAccessToken(srv.AccessToken()))
				if err != nil {
					t.Fatal(err)
				}
				dir := t.TempDir()
				files, err := load.CSVSinks(dir)
				if err != nil {
					t.Fatal(err)
				}
				files.Keep = true
				batch := map[load.API]int{load.Bulk2: n / 2, load.Bulk1: n / 4}[api]
				opts := quick(load.Options{Object: "Contact", API: api, BatchSize: batch, Concurrency: 2, Preflight: load.PreflightOff})
				sum, err := load.New(c).Load(t.Context(), src(emuHeader, emuContacts(n, "R")), files, opts)
				if cerr := files.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					t.Fatal(err)
				}
				checkFaultResults(t, c, filepath.Clean(dir), n, "R", false)
				jobs := len(sum.Jobs)
				if ct.broken != jobs*len(tc.cuts) {
					t.Errorf("%d responses broken, want %d (%d per job)", ct.broken, jobs*len(tc.cuts), len(tc.cuts))
				}
				for _, j := range sum.Jobs {
					if j.Unmatched != 0 {
						t.Errorf("job %s: %d result rows matched no row", j.JobID, j.Unmatched)
					}
				}
				if !tc.lost {
					if sum.Succeeded != n || sum.Unknown != 0 {
						t.Errorf("summary %+v, want every row succeeded", sum)
					}
					return
				}
				if sum.Succeeded == 0 || sum.Unknown == 0 || sum.Succeeded+sum.Unknown != n {
					t.Errorf("summary %+v, want the rows read before the break succeeded, the rest unknown", sum)
				}
			})
		}
	}
}
