// Package salesforce is a client for the Salesforce APIs a bulk data tool needs: every login
// flow, REST (versions, limits, describe, query, sObject CRUD and upsert), Composite and sObject
// Collections, Bulk API 1.0 and Bulk API 2.0.
//
// A Client talks to one org. It is safe for concurrent use: all goroutines share its session,
// its retry policy and its pacer (a cap on requests in flight and on request rate). Every
// method takes a context.Context first and returns (T, error). The package prints nothing;
// pass WithLogger to see requests, retries and session refreshes.
//
// # Logging in
//
// Login picks the flow from the fields of a LoginConfig, obtains a first session and returns a
// Client that renews the session through the same flow when Salesforce reports it expired:
//
//	// SOAP login: username, password and security token (LoginURL defaults to
//	// https://login.salesforce.com; use SandboxLoginURL or a My Domain URL as needed).
//	c, err := salesforce.Login(ctx, salesforce.LoginConfig{
//		Username: "ada@example.com", Password: pw, SecurityToken: tok,
//	})
//
//	// OAuth username-password flow (a connected app's client id and secret as well).
//	salesforce.LoginConfig{ClientID: id, ClientSecret: secret, Username: u, Password: pw}
//
//	// OAuth refresh token flow.
//	salesforce.LoginConfig{ClientID: id, RefreshToken: rt, LoginURL: "https://acme.my.salesforce.com"}
//
//	// OAuth JWT bearer flow: RS256 assertion signed with the connected app's key.
//	salesforce.LoginConfig{ClientID: id, Username: u, PrivateKeyFile: "server.key"}
//
//	// OAuth client credentials flow (My Domain only).
//	salesforce.LoginConfig{ClientID: id, ClientSecret: secret, LoginURL: "https://acme.my.salesforce.com"}
//
//	// An SFDX auth URL, as printed by `sf org display --verbose`.
//	salesforce.LoginConfig{SFDXAuthURL: "force://PlatformCLI::5Aep861...@acme.my.salesforce.com"}
//
//	// A session obtained elsewhere. It cannot be renewed: when it expires, calls fail with
//	// an error that matches errors.Is(err, salesforce.ErrSessionExpired).
//	salesforce.LoginConfig{AccessToken: sid, InstanceURL: "https://acme.my.salesforce.com"}
//
// Each flow is also a TokenSource type (SOAPLogin, OAuthPassword, OAuthRefreshToken,
// JWTBearer, ClientCredentials, StaticToken, and ParseSFDXAuthURL's result) that can be passed
// to NewWithTokenSource or to New with WithTokenSource. A custom TokenSource works too.
//
// SOAP login() is being retired: Salesforce offers it only up to API 64.0, turns it off by
// default in orgs created from Winter '26 on, and removes it in Summer '27. SOAPLogin always
// logs in at MaxSOAPLoginAPIVersion (the session works with the client's API version, whatever
// LoginConfig.APIVersion says), and when the org refuses the call it returns a
// *SOAPLoginRefusedError (errors.Is(err, ErrSOAPLoginRefused)) that names the OAuth flows to
// use instead.
//
// When a request fails with REST's 401 INVALID_SESSION_ID or Bulk API 1.0's InvalidSessionId,
// the client obtains a new session once and repeats the request. Concurrent requests that see
// the same expired session share one refresh.
//
// Tokens, passwords, client secrets and keys never appear in errors or log lines; the
// credential types print redacted.
//
// # Querying
//
// Query and QueryAll return an iterator over records that follows nextRecordsUrl page by page,
// holding one page at a time:
//
//	for rec, err := range c.Query(ctx, "SELECT Id, Name, Account.Name FROM Contact",
//		salesforce.QueryBatchSize(500)) {
//		if err != nil {
//			return err
//		}
//		name, _ := rec.String("Name")
//		account, _ := rec.String("Account.Name")
//	}
//
// A Record keeps the fields in the order the server sent them, with typed accessors (String,
// Bool, Int64, Float64, Time, Parent, Subquery) and exact numbers (json.Number). QueryPage and
// QueryMore give page-level control.
//
// Single records go through c.SObject("Contact"): Get, GetByExternalID, Create, Update,
// Delete and Upsert, which reports whether it created or updated. Describe and DescribeGlobal
// are cached per client. Call reaches any other REST resource with the same authentication,
// retries and errors.
//
// # Bulk and composite
//
// Bulk API 2.0 is c.Bulk2. Ingest: CreateIngestJob, UploadJobData (one upload per job, up to
// 150 MB base64), CloseIngestJob, poll GetIngestJob until JobComplete or Failed, then stream
// SuccessfulResults, FailedResults and UnprocessedRecords (CSV). Query: CreateQueryJob, poll
// GetQueryJob, then IterQueryResults (or QueryResultPages for parallel downloads).
//
// Bulk API 1.0 is c.Bulk1: CreateJob, AddBatch (up to 10,000 records / 10 MB per batch),
// CloseJob, GetBatch or ListBatches to poll, BatchResults read with ReadBatchResults (one
// SaveResult per input row, in order); query jobs use AddQueryBatch, QueryResultList and
// QueryResult.
//
// # Waiting for jobs
//
// A Waiter polls one job until it is final, shaped like the AWS SDK's waiters:
// NewIngestJobWaiter and NewQueryJobWaiter (Bulk API 2.0), NewBatchWaiter and
// NewBatchListWaiter (Bulk API 1.0) take the narrow interface of the one call they poll, and
// Wait (or WaitFor with a condition) polls with a growing wait, from WaiterOptions.MinDelay up
// to MaxDelay and at most a quarter of the job's age, held while the job makes progress.
// OnPoll reports each status read. Only the context ends a wait:
//
//	job, err := salesforce.NewIngestJobWaiter(c.Bulk2, id).Wait(ctx)
//
// Composite resources are c.Composite: NewBatch builds a composite batch of Query and sObject
// subrequests (split into calls of 25, halt-on-error across them; see
// ExampleCompositeService_NewBatch), NewComposite and Execute run /composite with allOrNone and
// @{ref.field} references, and CreateRecords, UpdateRecords, UpsertRecords, DeleteRecords and
// RetrieveRecords use sObject Collections, split at 200 records (2,000 ids for retrieve), with
// one SaveResult per input record in input order.
//
// # Errors
//
// Every error response becomes an *APIError with the HTTP status, Salesforce's error code,
// message and fields, whatever the API's error shape (REST JSON arrays, Bulk API 1.0 XML or
// JSON, OAuth errors, SOAP faults). Branch with errors.As or IsErrorCode:
//
//	var apiErr *salesforce.APIError
//	if errors.As(err, &apiErr) && apiErr.ErrorCode == "MALFORMED_QUERY" { … }
//	if salesforce.IsErrorCode(err, "NOT_FOUND") { … }
//
// Error bodies are read up to MaxErrorBodyBytes; an unreadable body gives an *APIError whose
// Message says so and quotes its start. A request that got no response is a *TransportError;
// a success response that cannot be decoded is a *DecodeError. URLs in errors are sanitized.
// CheckResponse applies the same decoding to a response of a request sent without the Client.
//
// # Retries
//
// One RetryPolicy decides whether to try again and how long to wait. 429, 503 and
// REQUEST_LIMIT_EXCEEDED are retried for every request; transport errors, 500, 502 and 504 only
// for requests that are safe to repeat (GET, HEAD, OPTIONS, PUT, PATCH, DELETE) or that never reached the
// server. The wait is exponential backoff with full jitter, capped by MaxBackoff, and never
// shorter than the server's Retry-After (itself capped by MaxRetryAfter). Waits end early when
// the context is cancelled, and a cancelled context is never retried. Request bodies are Body
// functions (BytesBody, FileBody) so each attempt sends the whole body again; a ReaderBody
// streams data that cannot be reopened, and its request is not repeated. Both decisions are
// hooks, as in go-retryablehttp: RetryPolicy.CheckRetry (default DefaultCheckRetry) and
// RetryPolicy.Backoff (default ExponentialBackoff).
//
// Pacing: WithMaxConcurrentRequests caps requests in flight and WithRequestsPerSecond caps the
// rate at which they start, across every goroutine using the client. The API usage the server
// reports in Sforce-Limit-Info is available from LimitInfo after every response, and Limits
// fetches the org's full limits.
//
// Large request bodies can be gzip-compressed (WithGzipRequests); gzip responses are always
// accepted and decoded transparently.
package salesforce
