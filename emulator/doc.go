// Package emulator is a stateful local Salesforce org: SOAP and OAuth login,
// REST, Composite, sObject Collections and (through package bulk) Bulk API
// 1.0 and 2.0, over an in-memory or SQLite-backed org, on HTTP and HTTPS.
// The public face is package salesforcetest; the `sfbatch emulator` command
// serves a Server standalone (Config, StartupInfo).
//
// Routes: /services/Soap/{u,c}/{ver} (login, logout), /services/oauth2/token
// and /revoke, /id/{org}/{user}, /services/data/ (versions, no session),
// /services/data/v{ver}/... (REST and composite, package rest; /jobs to
// package bulk), /services/async/{ver}/... (Bulk 1.0, package bulk), and
// the emulator's own control endpoint under ControlPrefix (see
// Server.serveControl's routes: faults, session expiry, limits, clock,
// bulk faults). Every request is first matched against the active faults.
// REST and Bulk requests are charged to DailyApiRequests and answered with
// Sforce-Limit-Info.
package emulator
