package extract_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/ipc"

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
	for _, p := range plan.Partitions {
		var buf bytes.Buffer
		n, err := extract.ReadPartition(ctx, client, p, &buf, extract.Options{})
		if err != nil {
			fmt.Println(err)
			return
		}
		rd, err := ipc.NewReader(&buf)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(p.Kind, n, rd.Schema().Field(2).Type)
		rd.Release()
	}
	// Output:
	// [{Id string} {LastName string} {Birthdate date}]
	// page 10 date32
	// page 10 date32
	// page 5 date32
}

func ExampleWithWindow() {
	q, err := extract.WithWindow("SELECT Id, Email FROM Contact WHERE Email != null",
		extract.Window{Field: "SystemModstamp", From: "2026-01-01T00:00:00.000Z", To: "2026-01-02T00:00:00Z"}, true)
	fmt.Println(q, err)
	// Output:
	// SELECT Id, Email, IsDeleted FROM Contact WHERE Email != null AND (SystemModstamp > 2026-01-01T00:00:00.000Z AND SystemModstamp <= 2026-01-02T00:00:00.000Z) <nil>
}
