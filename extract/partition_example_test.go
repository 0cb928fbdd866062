package extract_test

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/sfbatch/sfbatch/extract"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

func ExamplePlanRead() {
	ctx := context.Background()
	srv := salesforcetest.NewServer()
	defer srv.Close()
	recs := make([]map[string]any, 25)
	for i := range recs {
		recs[i] = map[string]any{"LastName": fmt.Sprintf("Row%02d", i), "Birthdate": "1990-05-17"}
	}
	if _, err := srv.Insert(ctx, "Contact", recs...); err != nil {
		fmt.Println(err)
		return
	}
	client, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := extract.PlanRead(ctx, client, extract.Options{Query: "SELECT Id, LastName, Birthdate FROM Contact", PageSize: 10},
		extract.PlanOptions{Partitioning: extract.ByPage})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(plan.Columns)
	// Each page is read by its own `sfbatch pipe --export --job --locator --max-records`.
	for _, p := range plan.Partitions {
		page, err := client.Bulk2.QueryResults(ctx, p.Job, p.Locator, p.MaxRecords)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(page.Body)
		page.Body.Close()
		fmt.Println(p.Kind, p.MaxRecords, bytes.Count(body, []byte("\n"))-1, "rows")
	}
	// Output:
	// [{Id string} {LastName string} {Birthdate date}]
	// page 10 10 rows
	// page 10 10 rows
	// page 10 5 rows
}

func ExampleWithWindow() {
	q, err := extract.WithWindow("SELECT Id, Email FROM Contact WHERE Email != null",
		extract.Window{Field: "SystemModstamp", From: "2026-01-01T00:00:00.000Z", To: "2026-01-02T00:00:00Z"}, true)
	fmt.Println(q, err)
	// Output:
	// SELECT Id, Email, IsDeleted FROM Contact WHERE Email != null AND (SystemModstamp > 2026-01-01T00:00:00.000Z AND SystemModstamp <= 2026-01-02T00:00:00.000Z) <nil>
}
