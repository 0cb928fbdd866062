package sfcsv_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sfbatch/sfbatch/sfcsv"
)

func ExampleWriter() {
	w := sfcsv.NewWriter(os.Stdout, sfcsv.WriterOptions{Delimiter: sfcsv.Comma, LineEnding: sfcsv.LF})
	rows := [][]any{
		{"LastName", "Account.External_Id__c", "Description", "DoNotCall", "Birthdate"},
		{"Smith", "ACME-1", "say \"hi\", twice", true, sfcsv.Date{Year: 1990, Month: time.January, Day: 31}},
		{"Jones", "ACME-2", nil, false, nil},
	}
	var sizes []sfcsv.RowSize
	rec := make([]string, 5)
	for _, row := range rows {
		for i, v := range row {
			s, err := sfcsv.FormatValue(v, sfcsv.NullsAsNA)
			if err != nil {
				panic(err)
			}
			rec[i] = s
		}
		size, err := w.Write(rec)
		if err != nil {
			panic(err)
		}
		sizes = append(sizes, size)
	}
	if err := w.Flush(); err != nil {
		panic(err)
	}
	fmt.Println(sizes)
	// Output:
	// LastName,Account.External_Id__c,Description,DoNotCall,Birthdate
	// Smith,ACME-1,"say ""hi"", twice",true,1990-01-31
	// Jones,ACME-2,#N/A,false,#N/A
	// [{64 64} {49 49} {29 29}]
}

func ExampleReader() {
	in := "\ufeffId,Name\r\n001,\"Acme, Inc.\"\r\n002,\xff\r\n003,Globex\r\n"
	r := sfcsv.NewReader(strings.NewReader(in), sfcsv.ReaderOptions{Name: "accounts.csv"})
	header, err := r.Header()
	if err != nil {
		panic(err)
	}
	fmt.Printf("header %q\n", header)
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		var pe *sfcsv.ParseError
		if errors.As(err, &pe) {
			fmt.Println("skipped:", err)
			continue
		}
		if err != nil {
			panic(err)
		}
		fmt.Printf("row %d: %q\n", r.Row(), rec)
	}
	// Output:
	// header ["Id" "Name"]
	// row 2: ["001" "Acme, Inc."]
	// skipped: accounts.csv: row 3, column 2: invalid UTF-8
	// row 4: ["003" "Globex"]
}

func ExampleFormatValue() {
	for _, v := range []any{
		nil,
		"text",
		true,
		1e21,
		time.Date(2024, 1, 3, 18, 52, 1, 0, time.FixedZone("EST", -5*3600)),
		sfcsv.Date{Year: 2024, Month: time.February, Day: 29},
	} {
		s, _ := sfcsv.FormatValue(v, sfcsv.NullsAsNA)
		fmt.Println(s)
	}
	empty, _ := sfcsv.FormatValue(nil, sfcsv.NullsAsEmpty)
	fmt.Printf("%q\n", empty)
	// Output:
	// #N/A
	// text
	// true
	// 1000000000000000000000
	// 2024-01-03T23:52:01.000Z
	// 2024-02-29
	// ""
}

func ExampleEncodedSize() {
	rec := []string{"001", "Zoë", "two\nlines"}
	fmt.Printf("%+v\n", sfcsv.EncodedSize(rec, sfcsv.Comma, sfcsv.CRLF))
	// Output:
	// {Bytes:22 Chars:21}
}

func ExampleParseDelimiter() {
	d, err := sfcsv.ParseDelimiter("backquote")
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s %q\n", d.Name(), rune(d))
	// Output:
	// BACKQUOTE '`'
}
