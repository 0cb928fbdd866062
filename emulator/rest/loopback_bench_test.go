package rest_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// Emulator REST benchmarks over real loopback HTTP (plain HTTP, keep-alive):
// writes through sObject Collections, /composite and single sObject
// creates, and SOQL queries over an org of 100,000 Contacts. They show the
// emulator's own cost per record, so that a client benchmark can tell
// whether the emulator limits it. allocs/op covers the whole process (the
// emulator and the benchmark's HTTP client).
//
//	go test ./emulator/rest -run '^$' -bench Loopback -benchmem

// loopOrg starts an org over plain HTTP with the daily API request limit
// lifted, so long benchmarks do not exhaust it.
func loopOrg(b *testing.B) *loopClient {
	b.Helper()
	srv := salesforcetest.New(b, salesforcetest.WithoutTLS())
	srv.Org().SetLimit(org.LimitDailyAPIRequests, 1<<40, 1<<40)
	return &loopClient{srv: srv, hc: srv.Client(), base: srv.URL() + "/services/data/v62.0", token: "Bearer " + srv.AccessToken()}
}

type loopClient struct {
	srv   *salesforcetest.Server
	hc    *http.Client
	base  string
	token string
}

// must is do for the benchmark's own goroutine: it fails b on error.
func (c *loopClient) must(b *testing.B, method, path string, body []byte, want int, hdr ...string) []byte {
	b.Helper()
	out, err := c.do(b, method, path, body, want, hdr...)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// do sends one request and returns the body, or an error unless the status
// is want. It may run on any goroutine.
func (c *loopClient) do(b *testing.B, method, path string, body []byte, want int, hdr ...string) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	target := path
	if !strings.HasPrefix(path, "http") {
		if strings.HasPrefix(path, "/services/") {
			target = c.srv.URL() + path
		} else {
			target = c.base + path
		}
	}
	req, err := http.NewRequestWithContext(b.Context(), method, target, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", c.token)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	if res.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %d %.300s", method, path, res.StatusCode, out)
	}
	return out, nil
}

// loopContact is the JSON of Contact i: ten fields like the load and
// extract benchmarks' rows.
func loopContact(dst []byte, i int64, withType bool) []byte {
	dst = append(dst, '{')
	if withType {
		dst = append(dst, `"attributes":{"type":"Contact"},`...)
	}
	dst = fmt.Appendf(dst, `"External_Id__c":"L%010d","FirstName":"First%d","LastName":"Last%d","Salutation":"Mr.","Email":"c%d@example.com",`+
		`"Phone":"(555) 010-%04d","DoNotCall":%t,"Birthdate":"1980-%02d-%02d","MailingCity":"City %d","Description":"Imported, batch %d"}`,
		i, i, i, i, i%10000, i%2 == 0, 1+i%12, 1+i%28, i%1000, i%100)
	return dst
}

// BenchmarkLoopbackWrites measures record creation: sObject Collections
// (200 records per call), /composite (25 sObject creates per call) and one
// record per POST, each with 1 and 4 concurrent clients.
func BenchmarkLoopbackWrites(b *testing.B) {
	var next atomic.Int64
	bodies := map[string]struct {
		path    string
		records int
		want    int
		build   func() []byte
	}{
		"collections-200": {"/composite/sobjects", 200, 200, func() []byte {
			buf := []byte(`{"allOrNone":false,"records":[`)
			for k := range 200 {
				if k > 0 {
					buf = append(buf, ',')
				}
				buf = loopContact(buf, next.Add(1), true)
			}
			return append(buf, "]}"...)
		}},
		"composite-25": {"/composite", 25, 200, func() []byte {
			buf := []byte(`{"allOrNone":false,"compositeRequest":[`)
			for k := range 25 {
				if k > 0 {
					buf = append(buf, ',')
				}
				buf = fmt.Appendf(buf, `{"method":"POST","url":"/services/data/v62.0/sobjects/Contact","referenceId":"r%d","body":`, k)
				buf = loopContact(buf, next.Add(1), false)
				buf = append(buf, '}')
			}
			return append(buf, "]}"...)
		}},
		"sobject-1": {"/sobjects/Contact", 1, 201, func() []byte { return loopContact(nil, next.Add(1), false) }},
	}
	for _, name := range []string{"collections-200", "composite-25", "sobject-1"} {
		bc := bodies[name]
		for _, clients := range []int{1, 4} {
			b.Run(fmt.Sprintf("%s/clients-%d", name, clients), func(b *testing.B) {
				c := loopOrg(b)
				heap0 := loopHeap()
				// Bodies are built before the timer starts: unique external ids each.
				work := make(chan []byte, 64)
				var wg sync.WaitGroup
				b.ReportAllocs()
				b.ResetTimer()
				go func() {
					for range b.N {
						work <- bc.build()
					}
					close(work)
				}()
				for range clients {
					wg.Go(func() {
						for body := range work {
							out, err := c.do(b, "POST", bc.path, body, bc.want)
							if err != nil {
								b.Error(err)
								return
							}
							if bytes.Contains(out, []byte(`"success":false`)) || bytes.Contains(out, []byte(`"errorCode"`)) {
								b.Errorf("a record failed: %.300s", out)
								return
							}
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				if got := c.srv.Count("Contact"); got != b.N*bc.records {
					b.Fatalf("org holds %d Contacts, want %d", got, b.N*bc.records)
				}
				b.ReportMetric(float64(b.N*bc.records)/b.Elapsed().Seconds(), "records/s")
				b.ReportMetric(float64(loopHeap()-heap0)/float64(b.N*bc.records), "retained-B/record")
			})
		}
	}
}

// loopHeap returns the live heap after a full collection.
func loopHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// loopSeed fills the org with n Contacts straight through org.Write.
func loopSeed(b *testing.B, c *loopClient, n int) {
	b.Helper()
	o, user := c.srv.Org(), c.srv.UserID()
	reqs := make([]org.WriteRequest, 0, 10_000)
	flush := func() {
		for _, r := range o.Write(b.Context(), user, reqs, false) {
			if !r.Success {
				b.Fatal(r.Errors)
			}
		}
		reqs = reqs[:0]
	}
	for i := 1; i <= n; i++ {
		reqs = append(reqs, org.WriteRequest{Op: org.OpInsert, Object: "Contact", Fields: map[string]any{
			"External_Id__c": fmt.Sprintf("E%09d", i), "FirstName": "First" + strconv.Itoa(i), "LastName": "Last" + strconv.Itoa(i),
			"Email": "c" + strconv.Itoa(i) + "@example.com", "MailingCity": "City " + strconv.Itoa(i%1000), "DoNotCall": i%2 == 0,
		}})
		if len(reqs) == cap(reqs) {
			flush()
		}
	}
	if len(reqs) > 0 {
		flush()
	}
}

// BenchmarkLoopbackQuery100k runs SOQL over 100,000 Contacts: a full
// result paged to the end with nextRecordsUrl (2,000 per page), a
// selective filter, LIKE, ORDER BY with LIMIT, and COUNT(). records/s counts
// the records returned; the filters scan all 100,000.
func BenchmarkLoopbackQuery100k(b *testing.B) {
	const n = 100_000
	c := loopOrg(b)
	loopSeed(b, c, n)
	for _, bc := range []struct {
		name, soql string
		rows       int
	}{
		{"all-paged", "SELECT Id, External_Id__c, FirstName, LastName, Email, MailingCity, DoNotCall FROM Contact", n},
		{"where-eq", "SELECT Id, LastName FROM Contact WHERE External_Id__c = 'E000050000'", 1},
		{"where-like", "SELECT Id, LastName FROM Contact WHERE LastName LIKE 'Last9999%'", 11},
		{"where-and-in", "SELECT Id FROM Contact WHERE DoNotCall = true AND MailingCity IN ('City 1', 'City 2')", 100},
		{"order-limit", "SELECT Id, LastName FROM Contact ORDER BY LastName DESC LIMIT 100", 100},
		{"count", "SELECT COUNT() FROM Contact", 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			first := "/query?q=" + url.QueryEscape(bc.soql)
			b.ReportAllocs()
			for b.Loop() {
				rows := 0
				path := first
				for {
					out := c.must(b, "GET", path, nil, 200, "Sforce-Query-Options", "batchSize=2000")
					rows += bytes.Count(out, []byte(`"attributes"`))
					i := bytes.Index(out, []byte(`"nextRecordsUrl":"`))
					if i < 0 {
						if bc.rows == 0 && !bytes.Contains(out, []byte(fmt.Sprintf(`"totalSize":%d`, n))) {
							b.Fatalf("COUNT() answer %.200s", out)
						}
						break
					}
					rest := out[i+len(`"nextRecordsUrl":"`):]
					path = string(rest[:bytes.IndexByte(rest, '"')])
				}
				if rows != bc.rows {
					b.Fatalf("%d records, want %d", rows, bc.rows)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
			if bc.rows > 1 {
				b.ReportMetric(float64(b.N*bc.rows)/b.Elapsed().Seconds(), "records/s")
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "scanned/s")
		})
	}
}
