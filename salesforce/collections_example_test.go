package salesforce_test

import (
	"context"
	"fmt"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// sObject Collections: any number of records, sent 200 per call, with one result per record
// in input order.
func ExampleCompositeService_CreateRecords() {
	org := salesforcetest.NewServer() // a local emulated org; use your own instance URL instead
	defer org.Close()
	c, err := salesforce.New(org.URL(), salesforce.WithHTTPClient(org.Client()), salesforce.WithAccessToken(org.AccessToken()))
	if err != nil {
		fmt.Println(err)
		return
	}
	records := make([]map[string]any, 450)
	for i := range records {
		records[i] = map[string]any{"LastName": fmt.Sprintf("Contact %d", i)}
	}
	records[321] = map[string]any{"FirstName": "No last name"}

	results, err := c.Composite.CreateRecords(context.Background(), "Contact", records, salesforce.CollectionOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	created := 0
	for i, r := range results {
		if r.Success {
			created++
			continue
		}
		fmt.Println("record", i, "failed:", r.Errors[0].StatusCode)
	}
	fmt.Println(len(results), "results,", created, "created")
	// Output:
	// record 321 failed: REQUIRED_FIELD_MISSING
	// 450 results, 449 created
}
