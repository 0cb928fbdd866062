package salesforce_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/sfbatch/sfbatch/salesforce"
)

// exampleBatchOrg answers /composite/batch like Salesforce would for the example below.
func exampleBatchOrg() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		_, _ = io.WriteString(w, `{"hasErrors":true,"results":[
 {"statusCode":200,"result":{"totalSize":2,"done":true,"records":[
   {"attributes":{"type":"Account"},"Id":"001000000000001AAA","Name":"Acme"},
   {"attributes":{"type":"Account"},"Id":"001000000000002AAA","Name":"Globex"}]}},
 {"statusCode":201,"result":{"id":"003000000000001AAA","success":true,"errors":[]}},
 {"statusCode":201,"result":{"id":"006000000000001AAA","success":true,"errors":[],"created":true}},
 {"statusCode":400,"result":[{"errorCode":"REQUIRED_FIELD_MISSING","message":"Required fields are missing: [LastName]","fields":["LastName"]}]}]}`)
	}))
}

func ExampleCompositeService_NewBatch() {
	srv := exampleBatchOrg()
	defer srv.Close()
	c, err := salesforce.New(srv.URL, salesforce.WithAccessToken("00Dxx0000000000!AQ0AQ"))
	if err != nil {
		fmt.Println(err)
		return
	}

	b := c.Composite.NewBatch(salesforce.BatchOptions{})
	accounts := b.Query("SELECT Id, Name FROM Account LIMIT 10")
	contact := b.SObjects.Create("Contact", map[string]any{"FirstName": "Jon", "LastName": "Doe"})
	opp := b.SObjects.Upsert("Opportunity", "ExternalId__c", map[string]any{"ExternalId__c": "123", "Name": "New Opportunity"})
	bad := b.SObjects.Create("Contact", map[string]any{"FirstName": "No last name"})
	if err := b.Execute(context.Background()); err != nil {
		fmt.Println(err)
		return
	}

	for _, rec := range accounts.Records() {
		fmt.Println("account:", rec["Name"])
	}
	fmt.Println("contact:", contact.ID())
	fmt.Println("opportunity:", opp.ID(), "created:", opp.Created())
	var apiErr *salesforce.APIError
	if errors.As(bad.Err(), &apiErr) {
		fmt.Println("failed:", apiErr.StatusCode, apiErr.ErrorCode, apiErr.Fields)
	}
	// Output:
	// account: Acme
	// account: Globex
	// contact: 003000000000001AAA
	// opportunity: 006000000000001AAA created: true
	// failed: 400 REQUIRED_FIELD_MISSING [LastName]
}

func ExampleCompositeBatch_Execute_autoRaise() {
	srv := exampleBatchOrg()
	defer srv.Close()
	c, err := salesforce.New(srv.URL, salesforce.WithAccessToken("00Dxx0000000000!AQ0AQ"))
	if err != nil {
		fmt.Println(err)
		return
	}

	b := c.Composite.NewBatch(salesforce.BatchOptions{AutoRaise: true})
	b.Query("SELECT Id, Name FROM Account LIMIT 10")
	b.SObjects.Create("Contact", map[string]any{"FirstName": "Jon", "LastName": "Doe"})
	b.SObjects.Upsert("Opportunity", "ExternalId__c", map[string]any{"ExternalId__c": "123", "Name": "New Opportunity"})
	b.SObjects.Create("Contact", map[string]any{"FirstName": "No last name"})
	err = b.Execute(context.Background())
	fmt.Println(salesforce.IsErrorCode(err, "REQUIRED_FIELD_MISSING"))
	// Output:
	// true
}
