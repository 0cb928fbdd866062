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

// exampleOrg stands in for Salesforce: the OAuth token endpoint and a two-page query.
func exampleOrg() *httptest.Server {
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("POST /services/oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("client_secret") != "s3cret" {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"invalid_client","error_description":"invalid client credentials"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		fmt.Fprintf(w, `{"access_token":"00D000000000001!AQ4AQ","instance_url":%q,"id":"%s/id/00D000000000001AAA/005000000000001AAA","token_type":"Bearer","issued_at":"1712345678901"}`, srv.URL, srv.URL)
	})
	mux.HandleFunc("GET /services/data/v62.0/query", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("q") != "SELECT Id, Name FROM Account" {
			w.WriteHeader(400)
			io.WriteString(w, `[{"message":"unexpected token: 'FORM'","errorCode":"MALFORMED_QUERY"}]`)
			return
		}
		io.WriteString(w, `{"totalSize":3,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gA-2","records":[
			{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/001A"},"Id":"001A","Name":"Acme"},
			{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/001B"},"Id":"001B","Name":"Globex"}]}`)
	})
	mux.HandleFunc("GET /services/data/v62.0/query/01gA-2", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"totalSize":3,"done":true,"records":[
			{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/001C"},"Id":"001C","Name":"Initech"}]}`)
	})
	srv = httptest.NewServer(mux)
	return srv
}

func ExampleLogin() {
	org := exampleOrg()
	defer org.Close()
	ctx := context.Background()

	c, err := salesforce.Login(ctx, salesforce.LoginConfig{
		LoginURL:     org.URL, // usually a My Domain URL; ProductionLoginURL when empty
		ClientID:     "3MVG9",
		ClientSecret: "s3cret",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.InstanceURL() == org.URL, c.APIVersion())

	_, err = salesforce.Login(ctx, salesforce.LoginConfig{LoginURL: org.URL, ClientID: "3MVG9", ClientSecret: "wrong"})
	var apiErr *salesforce.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.ErrorCode, apiErr.Message)
	}
	// Output:
	// true 62.0
	// 400 invalid_client invalid client credentials
}

func ExampleClient_Query() {
	org := exampleOrg()
	defer org.Close()
	ctx := context.Background()

	c, err := salesforce.New(org.URL, salesforce.WithAccessToken("00D000000000001!AQ4AQ"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for rec, err := range c.Query(ctx, "SELECT Id, Name FROM Account", salesforce.QueryBatchSize(200)) {
		if err != nil {
			fmt.Println(err)
			return
		}
		name, _ := rec.String("Name")
		fmt.Println(rec.Type(), rec.ID(), name)
	}

	for _, err := range c.Query(ctx, "SELECT Id FORM Account") {
		var apiErr *salesforce.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == "MALFORMED_QUERY" {
			fmt.Println("bad query:", apiErr.Message)
		}
	}
	// Output:
	// Account 001A Acme
	// Account 001B Globex
	// Account 001C Initech
	// bad query: unexpected token: 'FORM'
}

func ExampleSObject_Upsert() {
	// A stand-in for the sObject upsert resource: the first upsert of a key creates, the next updates.
	seen := map[string]bool{}
	org := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Path // PATCH /services/data/v62.0/sobjects/Account/External_Id__c/{value}
		if seen[key] {
			io.WriteString(w, `{"id":"001000000000001AAA","errors":[],"success":true,"created":false}`)
			return
		}
		seen[key] = true
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":"001000000000001AAA","errors":[],"success":true,"created":true}`)
	}))
	defer org.Close()

	c, err := salesforce.New(org.URL, salesforce.WithAccessToken("00D000000000001!AQ4AQ"))
	if err != nil {
		fmt.Println(err)
		return
	}
	accounts := c.SObject("Account")
	for range 2 {
		res, err := accounts.Upsert(context.Background(), "External_Id__c", "ACME-1", map[string]any{"Name": "Acme"})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(res.ID, "created:", res.Created)
	}
	// Output:
	// 001000000000001AAA created: true
	// 001000000000001AAA created: false
}
