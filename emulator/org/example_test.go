package org_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sfbatch/sfbatch/emulator/clock"
	"github.com/sfbatch/sfbatch/emulator/org"
)

func Example() {
	ctx := context.Background()
	o, err := org.New(org.Options{Clock: clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))})
	if err != nil {
		panic(err)
	}
	defer o.Close()

	res := o.Write(ctx, "", []org.WriteRequest{
		{Op: org.OpInsert, Object: "Account", Fields: map[string]any{"Name": "Acme", "External_Id__c": "A-1"}},
		{Op: org.OpUpsert, Object: "Contact", ExternalIDField: "External_Id__c",
			Fields: map[string]any{"External_Id__c": "C-1", "LastName": "Smith", "Account.External_Id__c": "A-1"}},
		{Op: org.OpInsert, Object: "Contact", Fields: map[string]any{"FirstName": "Nobody"}},
	}, false)
	for _, r := range res {
		if r.Success {
			fmt.Println(r.ID, "created:", r.Created)
		} else {
			fmt.Println(r.Errors[0].StatusCode, r.Errors[0].Message)
		}
	}

	q, err := o.Query(ctx, "SELECT LastName, Account.Name, CreatedDate FROM Contact WHERE Account.External_Id__c = 'A-1'", false)
	if err != nil {
		panic(err)
	}
	for i := range q.Len() {
		for c, v := range q.Values(i) {
			fmt.Printf("%s=%s ", q.Columns[c], q.FormatCSV(v))
		}
		fmt.Println()
	}
	// Output:
	// 0015g0000000003AAA created: true
	// 0035g0000000004AAA created: true
	// REQUIRED_FIELD_MISSING Required fields are missing: [LastName]
	// LastName=Smith Account.Name=Acme CreatedDate=2026-01-02T03:04:05.000Z
}
