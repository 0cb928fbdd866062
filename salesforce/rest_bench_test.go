package salesforce

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// coreQueryPageJSON is a REST query page of n Contacts with a parent Account.
func coreQueryPageJSON(n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"totalSize":%d,"done":true,"records":[`, n)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"attributes":{"type":"Contact","url":"/services/data/v62.0/sobjects/Contact/003%015d"},"Id":"003%015d","FirstName":"Ada","LastName":"Lovelace %d","Email":"ada%d@example.com","Amount__c":%d.5,"HasOptedOutOfEmail":false,"Birthdate":"1990-05-17","Account":{"attributes":{"type":"Account","url":"/x/001A"},"Name":"Acme"}}`, i, i, i, i, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func BenchmarkQueryPageDecode(b *testing.B) {
	data := coreQueryPageJSON(2000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var res QueryResult
		if err := json.Unmarshal(data, &res); err != nil {
			b.Fatal(err)
		}
		if len(res.Records) != 2000 {
			b.Fatal(len(res.Records))
		}
	}
	b.ReportMetric(float64(2000*b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkQueryOverHTTP(b *testing.B) {
	page := coreQueryPageJSON(2000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.Write(page)
	}))
	defer srv.Close()
	c, err := New(srv.URL, WithAccessToken("tok-bench"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, err := range c.Query(b.Context(), "SELECT Id FROM Contact") {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 2000 {
			b.Fatal(n)
		}
	}
	b.ReportMetric(float64(2000*b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkRequestOverhead(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Sforce-Limit-Info", "api-usage=25/15000")
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	c, err := New(srv.URL, WithAccessToken("tok-bench"), WithMaxConcurrentRequests(8), WithRequestsPerSecond(1e9))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.doJSON(b.Context(), &request{method: "GET", path: "/x"}, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}
