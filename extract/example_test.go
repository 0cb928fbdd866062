package extract_test

import (
	"context"
	"fmt"
	"os"

	"github.com/sfbatch/sfbatch/extract"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

func Example() {
	ctx := context.Background()
	srv := salesforcetest.NewServer()
	defer srv.Close()
	if _, err := srv.Insert(ctx, "Contact",
		map[string]any{"LastName": "Lovelace", "Email": "ada@example.com", "DoNotCall": true},
		map[string]any{"LastName": "Hopper"},
	); err != nil {
		fmt.Println(err)
		return
	}
	client, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		fmt.Println(err)
		return
	}
	sum, err := extract.Run(ctx, client, extract.Options{
		Query:        "SELECT LastName, Email, DoNotCall FROM Contact ORDER BY LastName",
		API:          extract.APIBulk2,
		Format:       extract.FormatJSONL,
		Output:       os.Stdout,
		PollInterval: 10e6,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sum.API, sum.Rows, "rows")
	// Output:
	// {"LastName":"Hopper","Email":null,"DoNotCall":false}
	// {"LastName":"Lovelace","Email":"ada@example.com","DoNotCall":true}
	// bulk2 2 rows
}

func ExampleRows() {
	ctx := context.Background()
	srv := salesforcetest.NewServer()
	defer srv.Close()
	if _, err := srv.Insert(ctx, "Account", map[string]any{"Name": "Acme"}, map[string]any{"Name": "Globex"}); err != nil {
		fmt.Println(err)
		return
	}
	client, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		fmt.Println(err)
		return
	}
	for row, err := range extract.Rows(ctx, client, extract.Options{Object: "Account", Fields: []string{"Name"}, Where: "Name LIKE 'A%'"}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		name, _ := row.Get("Name")
		fmt.Println(name)
	}
	// Output: Acme
}
