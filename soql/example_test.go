package soql_test

import (
	"fmt"
	"time"

	"github.com/sfbatch/sfbatch/soql"
)

func ExampleParse() {
	q, err := soql.Parse("select Id, Account.Name from Contact where LastName like 'Sm%' or Email = null order by Id limit 10")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(q.From, len(q.Fields), *q.Limit)
	fmt.Println(q)
	// Output:
	// Contact 2 10
	// SELECT Id, Account.Name FROM Contact WHERE LastName LIKE 'Sm%' OR Email = null ORDER BY Id LIMIT 10
}

func ExampleParse_error() {
	_, err := soql.Parse("SELECT Id FORM Account")
	fmt.Println(err)
	fmt.Print(err.(*soql.Error).Message)
	// Output:
	// MALFORMED_QUERY: unexpected token: FORM (at Row:1:Column:11)
	//
	// SELECT Id FORM Account
	//           ^
	// ERROR at Row:1:Column:11
	// unexpected token: FORM
}

func ExampleWithIDRange() {
	q, err := soql.WithIDRange("SELECT Id FROM Contact WHERE IsDeleted = false OR Email != null",
		"003000000000000AAA", "003000000000ZZZAAA")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(q)
	// Output:
	// SELECT Id FROM Contact WHERE (IsDeleted = false OR Email != null) AND (Id >= '003000000000000AAA' AND Id < '003000000000ZZZAAA')
}

func ExampleDateLiteralRange() {
	now := time.Date(2024, 5, 15, 13, 45, 0, 0, time.UTC)
	start, end := soql.DateLiteralRange(soql.DateLiteral{Name: "LAST_N_DAYS", N: 7}, now)
	fmt.Println(start.Format(time.DateOnly), end.Format(time.DateOnly))
	// Output: 2024-05-08 2024-05-16
}

func ExampleLike() {
	fmt.Println(soql.Like("acme%", "ACME Corp"), soql.Like("a_c", "abbc"), soql.Like(`100\%`, "100%"))
	// Output: true false true
}

func ExampleQuote() {
	fmt.Println("SELECT Id FROM Contact WHERE LastName = " + soql.Quote("O'Neil \\ Jr."))
	// Output: SELECT Id FROM Contact WHERE LastName = 'O\'Neil \\ Jr.'
}
