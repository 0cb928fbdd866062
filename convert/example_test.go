package convert_test

import (
	"fmt"
	"time"

	"github.com/sfbatch/sfbatch/convert"
)

func ExampleRule_Convert() {
	paris, _ := time.LoadLocation("Europe/Paris")
	date := &convert.Rule{Kind: convert.Date, Format: "DD/MM/YYYY"}
	when := &convert.Rule{Kind: convert.DateTime, Format: "DD/MM/YYYY HH:mm", Zone: paris}
	amount := &convert.Rule{Kind: convert.Number, Decimal: ','}
	for _, c := range []struct {
		r *convert.Rule
		v string
	}{{date, "03/04/2024"}, {when, "31/03/2024 02:30"}, {amount, "1.234,56"}, {date, "31/02/2024"}} {
		out, err := c.r.Convert(c.v)
		fmt.Println(out, err)
	}
	// Output:
	// 2024-04-03 <nil>
	// 2024-03-31T01:30:00.000Z <nil>
	// 1234.56 <nil>
	//  "31/02/2024" is not a date in format DD/MM/YYYY
}
