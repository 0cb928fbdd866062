package load_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"slices"
	"strings"

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

// CheckStructure reads a file once, sending nothing: a row that fails alone is counted, an
// unterminated quote (after which no row can be delimited) is returned, so the caller can
// refuse the file before the first upload.
func ExampleCheckStructure() {
	in := "LastName,Email\nLovelace,ada@example.com\nTuring\nHopper,\"grace@example.com\n"
	rows, invalid, err := load.CheckStructure(load.CSVSource(strings.NewReader(in), "contacts.csv", load.CSVOptions{}))
	fmt.Println(rows, invalid)
	var ie *load.InputError
	if errors.As(err, &ie) && ie.Structural {
		fmt.Println(ie.Position())
	}
	// Output:
	// 2 1
	// contacts.csv: row 3 (line 4), column Email: extraneous or missing " in quoted field: quoted field not closed before end of input
}
