package load

import (
	"bytes"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/parquet-go/parquet-go"
)

type parquetContact struct {
	LastName  string    `parquet:"LastName"`
	Email     *string   `parquet:"Email,optional"`
	DoNotCall bool      `parquet:"DoNotCall"`
	Employees int64     `parquet:"NumberOfEmployees"`
	Score     float64   `parquet:"Score__c"`
	Birthdate int32     `parquet:"Birthdate,date"` // days since 1970-01-01
	Seen      time.Time `parquet:"Last_Seen__c,timestamp(millisecond)"`
	AccountID string    `parquet:"Account.External_Id__c"`
}

// days is t as a Parquet DATE value. (parquet-go v0.32 mis-encodes time.Time
// fields tagged "date", so the test writes the day count itself.)
func days(t time.Time) int32 { return int32(t.Unix() / 86400) }

func TestParquetSource(t *testing.T) {
	t.Parallel()
	email := "ada@example.com"
	in := []parquetContact{
		{LastName: "Lovelace", Email: &email, DoNotCall: true, Employees: 12, Score: 2.5,
			Birthdate: days(time.Date(1815, 12, 10, 0, 0, 0, 0, time.UTC)), Seen: time.Date(2024, 1, 3, 23, 52, 1, 250e6, time.UTC), AccountID: "A-1"},
		{LastName: "Turing", Score: -0.125, Birthdate: days(time.Date(1912, 6, 23, 0, 0, 0, 0, time.UTC)), Seen: time.Unix(0, 0).UTC(), AccountID: "A-2"},
	}
	var buf bytes.Buffer
	if err := parquet.Write(&buf, in); err != nil {
		t.Fatal(err)
	}
	src, err := ParquetSource(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "contacts.parquet")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := readAll(t, src)
	if err != nil {
		t.Fatal(err)
	}
	header := src.Header()
	got := make([]map[string]string, len(rows))
	for i, r := range rows {
		if r.Number != int64(i+1) {
			t.Errorf("row %d has Number %d", i+1, r.Number)
		}
		got[i] = map[string]string{}
		for j, c := range header {
			got[i][c] = r.Values[j]
		}
	}
	want := []map[string]string{
		{"LastName": "Lovelace", "Email": "ada@example.com", "DoNotCall": "true", "NumberOfEmployees": "12", "Score__c": "2.5",
			"Birthdate": "1815-12-10", "Last_Seen__c": "2024-01-03T23:52:01.250Z", "Account.External_Id__c": "A-1"},
		{"LastName": "Turing", "Email": "#N/A", "DoNotCall": "false", "NumberOfEmployees": "0", "Score__c": "-0.125",
			"Birthdate": "1912-06-23", "Last_Seen__c": "1970-01-01T00:00:00.000Z", "Account.External_Id__c": "A-2"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestParquetSourceRejectsGarbage(t *testing.T) {
	t.Parallel()
	b := []byte("this is not parquet")
	_, err := ParquetSource(bytes.NewReader(b), int64(len(b)), "x.parquet")
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "x.parquet") {
		t.Fatalf("error = %v, want an *InputError naming the file", err)
	}
}

func TestDecimalText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		unscaled int64
		scale    int
		want     string
	}{{12345, 2, "123.45"}, {-5, 3, "-0.005"}, {7, 0, "7"}} {
		u := big.NewInt(tc.unscaled)
		if got := decimalText(u, tc.scale); got != tc.want {
			t.Errorf("decimalText(%d, %d) = %q, want %q", tc.unscaled, tc.scale, got, tc.want)
		}
	}
}
