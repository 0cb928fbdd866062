// Package salesforcetest runs a local, stateful Salesforce org for tests,
// shaped like net/http/httptest:
//
//	srv := salesforcetest.New(t) // or NewServer(opts...) + defer srv.Close()
//	client := srv.Client()        // trusts the server's self-signed certificate
//	req.Header.Set("Authorization", "Bearer "+srv.AccessToken())
//
// The org serves SOAP login (/services/Soap/u and /c), the OAuth token
// endpoint (password, refresh_token, client_credentials and JWT bearer
// grants), REST (versions, limits, describe, sObject CRUD and upsert, query
// and queryAll with cursors), Composite batch, Composite, Composite tree and graph,
// sObject Collections, and Bulk API 1.0 and 2.0, over real HTTP and HTTPS on
// 127.0.0.1. Records are validated like Salesforce validates them and fail
// with its error codes. Tests control the clock (WithClock), inject faults
// (FailNext, DropNext, AddFault with latency or After (a request served, then its answer lost), ExpireSessions,
// SetLimitRemaining, Bulk().FailNextJob ...) and read or write records
// directly (Insert, Get, Count, Org). The same controls are reachable over
// HTTP under /_emulator/ (see package emulator), for clients in
// other languages.
//
// # Where the emulator differs from Salesforce
//
//   - One host is both the login server and the instance; the instance URL
//     in login responses is the scheme and host the request arrived on.
//   - Sessions time out after the configured lifetime of inactivity (default
//     two hours); there are no IP restrictions, profiles or field-level
//     security: every user can do everything.
//   - SOAP implements login and logout only. login() is refused at API 65.0
//     and later, as Salesforce does, and at every version while the org's
//     "Enable SOAP API login()" setting is off (Config.SOAPLoginDisabled).
//   - The OAuth client-credentials grant is accepted on the login URL too
//     (Salesforce accepts it only on My Domain hosts). Refresh tokens come
//     from Server.RefreshToken: the web-server and user-agent flows are not
//     served.
//   - Composite runs subrequests serially even when collateSubrequests is
//     true. allOrNone rollback is compensating: created records are hard
//     deleted, updated fields restored and deleted records undeleted, so
//     LastModifiedDate moves forward on restored records.
//   - Composite batch subrequests are not charged to DailyApiRequests
//     separately; a composite call counts once.
//   - Query cursors close after their last page is served, and after 15
//     minutes idle; a user holds at most 10 (the least recently used closes).
//   - Describe returns the metadata a data tool needs (field names, types,
//     lengths, nillable, createable, updateable, unique, external id,
//     picklist values, references); layouts, record types and search
//     metadata are empty.
//   - Not served: SOSL search, Apex REST, the Metadata and
//     Tooling APIs, streaming, and the OAuth authorization-code and
//     device flows.
//   - Faults, the fake clock and direct record access are emulator-only.
package salesforcetest
