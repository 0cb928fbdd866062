package salesforce_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"strings"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// A Bulk API 2.0 insert: create the job, upload the CSV, close it, wait, read the results.
func ExampleBulk2Service_CreateIngestJob() {
	org := salesforcetest.NewServer() // a local emulated org; use your own instance URL instead
	defer org.Close()
	ctx := context.Background()
	c, err := salesforce.New(org.URL(), salesforce.WithHTTPClient(org.Client()), salesforce.WithAccessToken(org.AccessToken()))
	if err != nil {
		fmt.Println(err)
		return
	}

	job, err := c.Bulk2.CreateIngestJob(ctx, salesforce.IngestJobRequest{Object: "Contact", Operation: "insert"})
	if err != nil {
		fmt.Println(err)
		return
	}
	data := "FirstName,LastName\nAda,Lovelace\nGrace,Hopper\nNo,\n"
	if err := c.Bulk2.UploadJobData(ctx, job.ID, salesforce.BytesBody([]byte(data))); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := c.Bulk2.CloseIngestJob(ctx, job.ID); err != nil {
		fmt.Println(err)
		return
	}
	job, err = salesforce.NewIngestJobWaiter(c.Bulk2, job.ID).Wait(ctx) // polls until JobComplete, Failed or Aborted
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(job.State, job.NumberRecordsProcessed, "processed,", job.NumberRecordsFailed, "failed")

	failed, err := c.Bulk2.FailedResults(ctx, job.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer failed.Close()
	rows, err := csv.NewReader(failed).ReadAll()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, row := range rows[1:] {
		e := salesforce.ParseResultError(row[1])
		fmt.Println(e.StatusCode, strings.Join(e.Fields, ","))
	}
	// Output:
	// JobComplete 3 processed, 1 failed
	// REQUIRED_FIELD_MISSING LastName
}
