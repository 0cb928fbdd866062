package load_test

import (
	"context"
	"fmt"
	"log"
	"slices"

	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// Parent then child: upsert Accounts on their external id, then insert Contacts that point
// at them through the relationship column Account.External_Id__c.
func Example_parentThenChild() {
	srv := salesforcetest.NewServer()
	defer srv.Close()
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	l := load.New(c)

	accounts := load.RowsSource([]string{"External_Id__c", "Name"}, slices.Values([][]string{
		{"ACME", "Acme Corp"},
		{"TECH", "Tech Inc"},
	}))
	sum, err := l.Load(ctx, accounts, nil, load.Options{Object: "Account", Operation: load.Upsert, ExternalIDField: "External_Id__c"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("accounts: %d succeeded, %d created\n", sum.Succeeded, sum.Created)

	contacts := load.RowsSource([]string{"FirstName", "LastName", "Account.External_Id__c"}, slices.Values([][]string{
		{"John", "Doe", "ACME"},
		{"Jane", "Smith", "TECH"},
		{"Nobody", "Nowhere", "NOPE"},
	}))
	var batches load.Batches
	sum, err = l.Load(ctx, contacts, &batches, load.Options{Object: "Contact"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("contacts: %d succeeded, %d failed\n", sum.Succeeded, sum.Failed)
	for _, batch := range batches.Lists() {
		for _, r := range batch {
			fmt.Println(r.Row, r.Outcome, r.ID != "")
		}
	}
	// Output:
	// accounts: 2 succeeded, 2 created
	// contacts: 2 succeeded, 1 failed
	// 1 succeeded true
	// 2 succeeded true
	// 3 failed false
}
