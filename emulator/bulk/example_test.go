package bulk_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/sfbatch/sfbatch/emulator/bulk"
	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/emulator/wire"
)

// Example loads two Contacts through Bulk API 2.0 and reads the failed
// results. The emulator's server normally authenticates requests; here a
// two-line handler stores the session itself.
func Example() {
	o, _ := org.New(org.Options{Seed: 7})
	defer o.Close()
	svc := bulk.New(o, bulk.Options{})
	defer svc.Close()
	sess := &wire.Session{UserID: o.DefaultUserID()}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		svc.ServeHTTP(w, r.WithContext(wire.WithSession(r.Context(), sess)))
	}))
	defer srv.Close()

	call := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+"/services/data/v62.0/jobs/ingest"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	_, created := call("POST", "", `{"object":"Contact","operation":"insert"}`)
	id := created[strings.Index(created, `"id":"`)+6:][:18]
	status, _ := call("PUT", "/"+id+"/batches", "FirstName,LastName\nAda,Lovelace\nNo,\n")
	fmt.Println(status)
	status, _ = call("PATCH", "/"+id, `{"state":"UploadComplete"}`)
	fmt.Println(status)
	_ = svc.WaitIdle(context.Background())
	fmt.Println(call("GET", "/"+id+"/failedResults", ""))
	// Output:
	// 201
	// 200
	// 200 "sf__Id","sf__Error","FirstName","LastName"
	// "","REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --","No",""
}
