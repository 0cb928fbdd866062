package rest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/emulator/wire"
)

// benchHandler returns a Handler over a fresh in-memory org and a function
// that serves one request in-process (no network), as the default user.
func benchHandler(b *testing.B) (*org.Org, func(method, target, body string, hdr ...string) *httptest.ResponseRecorder) {
	b.Helper()
	o, err := org.New(org.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = o.Close() })
	h := New(o, Options{})
	sess := &wire.Session{UserID: o.DefaultUserID(), OrgID: o.ID()}
	return o, func(method, target, body string, hdr ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequestWithContext(wire.WithSession(b.Context(), sess), method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
}

// BenchmarkCollectionsCreate measures sObject Collections inserts of 200
// Contacts per call.
func BenchmarkCollectionsCreate(b *testing.B) {
	_, serve := benchHandler(b)
	var recs []string
	for i := range MaxCollectionRecords {
		recs = append(recs, fmt.Sprintf(`{"attributes":{"type":"Contact"},"FirstName":"F%d","LastName":"Bench","Email":"b%d@example.com"}`, i, i))
	}
	body := `{"allOrNone":false,"records":[` + strings.Join(recs, ",") + `]}`
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if w := serve("POST", "/services/data/v62.0/composite/sobjects", body); w.Code != http.StatusOK {
			b.Fatalf("%d %s", w.Code, w.Body.String()[:200])
		}
	}
	b.ReportMetric(float64(b.N*MaxCollectionRecords)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkQuery100k measures a REST query over 100,000 Contacts, paged to
// the end in 2,000-record pages.
func BenchmarkQuery100k(b *testing.B) {
	o, serve := benchHandler(b)
	const n = 100_000
	reqs := make([]org.WriteRequest, 0, 1000)
	for i := range n {
		reqs = append(reqs, org.WriteRequest{Op: org.OpInsert, Object: "Contact", Fields: map[string]any{
			"FirstName": fmt.Sprintf("F%d", i), "LastName": "Bench", "Email": fmt.Sprintf("b%d@example.com", i)}})
		if len(reqs) == cap(reqs) {
			for _, r := range o.Write(b.Context(), "", reqs, false) {
				if !r.Success {
					b.Fatal(r.Errors)
				}
			}
			reqs = reqs[:0]
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := serve("GET", "/services/data/v62.0/query?q=SELECT+Id,FirstName,LastName,Email+FROM+Contact+WHERE+LastName='Bench'", "")
		rows := 0
		for {
			body := w.Body.String()
			rows += strings.Count(body, `"attributes"`)
			i := strings.Index(body, `"nextRecordsUrl":"`)
			if i < 0 {
				break
			}
			next := body[i+len(`"nextRecordsUrl":"`):]
			next = next[:strings.IndexByte(next, '"')]
			w = serve("GET", next, "")
		}
		if rows != n {
			b.Fatalf("%d rows, want %d", rows, n)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkCreateOne measures single-record REST creates.
func BenchmarkCreateOne(b *testing.B) {
	_, serve := benchHandler(b)
	b.ReportAllocs()
	for b.Loop() {
		if w := serve("POST", "/services/data/v62.0/sobjects/Contact", `{"FirstName":"Ada","LastName":"Bench","Email":"ada@example.com"}`); w.Code != http.StatusCreated {
			b.Fatalf("%d %s", w.Code, w.Body.String())
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkCompositeCollections measures /composite with 5 nested
// collections creates of 200 records each (1,000 records per call).
func BenchmarkCompositeCollections(b *testing.B) {
	_, serve := benchHandler(b)
	var recs []string
	for i := range MaxCollectionRecords {
		recs = append(recs, fmt.Sprintf(`{"attributes":{"type":"Contact"},"FirstName":"F%d","LastName":"Bench"}`, i))
	}
	var subs []string
	for i := range 5 {
		subs = append(subs, fmt.Sprintf(`{"method":"POST","url":"/services/data/v62.0/composite/sobjects","referenceId":"r%d","body":{"allOrNone":true,"records":[%s]}}`, i, strings.Join(recs, ",")))
	}
	body := `{"allOrNone":true,"compositeRequest":[` + strings.Join(subs, ",") + `]}`
	b.ReportAllocs()
	for b.Loop() {
		if w := serve("POST", "/services/data/v62.0/composite", body); w.Code != http.StatusOK || strings.Contains(w.Body.String(), `"success":false`) {
			b.Fatalf("%d %s", w.Code, w.Body.String()[:300])
		}
	}
	b.ReportMetric(float64(b.N*5*MaxCollectionRecords)/b.Elapsed().Seconds(), "records/s")
}
