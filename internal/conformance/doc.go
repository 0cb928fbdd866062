// Package conformance holds one suite of scenarios that runs against every Salesforce the
// project can reach: always the local emulator (package salesforcetest, over HTTPS trusting
// its self-signed certificate), and a real org when the suite is built with the integration
// tag and credentials are in the environment. A scenario that passes on the emulator and
// fails on a real org (or the reverse) is a bug in one of them.
//
// The package has no API of its own; everything is in its tests.
//
// # Running
//
// Against the emulator only (part of go test ./...):
//
//	go test ./internal/conformance/
//
// Against a real org as well, build with the integration tag and set credentials, in the
// first form that applies:
//
//	# username + password (+ security token), SOAP login, or the OAuth password flow when
//	# SF_CLIENT_ID (and SF_CLIENT_SECRET) are set too:
//	SF_USERNAME=me@example.com SF_PASSWORD=... SF_SECURITY_TOKEN=... \
//	SF_LOGIN_URL=https://test.salesforce.com \
//	    go test -tags integration -timeout 30m ./internal/conformance/
//
//	# an SFDX auth URL (sf org display --verbose --json | jq -r .result.sfdxAuthUrl):
//	SFDX_AUTH_URL=force://... go test -tags integration ./internal/conformance/
//
//	# an existing session (cannot be renewed):
//	SF_INSTANCE_URL=https://acme.my.salesforce.com SF_ACCESS_TOKEN=... \
//	    go test -tags integration ./internal/conformance/
//
// SF_LOGIN_URL defaults to https://login.salesforce.com; SF_API_VERSION overrides the
// client's default API version. Without credentials the integration build runs the
// emulator only. Select one scenario with -run, for example
// -run 'TestConformance/org/bulk2_ingest'.
//
// # What the scenarios do to an org
//
// Use a sandbox or scratch org. The suite does not assume an empty org: every scenario
// works only on records it creates itself, named with a prefix unique to the run and the
// scenario ("sfbc" + random hex + scenario tag), and deletes them again when it ends,
// whether it passed or not. It creates:
//
//   - Contacts whose LastName starts with the prefix: a few through REST, about 100 through
//     composite calls, about 1,350 through sObject Collections, some hundreds through Bulk
//     API 2.0 and 1.0, 5,000 through the load engine on each of Bulk API 2.0 and 1.0, 500
//     upserted by External_Id__c through each of three APIs, and 3,000 that are then extracted four ways (about
//     17,000 in all, loaded in parallel). Deleted Contacts go to the recycle bin.
//   - Accounts whose Name starts with the prefix, in the composite scenarios (rolled back or
//     deleted) and one with a billing address in compound_fields (deleted).
//   - Bulk API 2.0 ingest and query jobs and Bulk API 1.0 jobs (one Bulk 1.0 query job uses
//     PK chunking), which count against the org's daily bulk limits.
//
// The upserts (in rest_crud and load_upsert) need an external id field External_Id__c on
// Contact (the emulator's default org has one); on an org without it they are skipped.
// soap_login_versions logs in with SOAP login() (SF_USERNAME and SF_PASSWORD; skipped on an
// org reached otherwise, or one that refuses SOAP login()) and creates nothing.
// Scenarios that need the emulator's controls (expiring every session in the middle of a
// load or an extraction; 503s, dropped connections and UNABLE_TO_LOCK_ROW failures during a
// load) run on the emulator only, each on an emulated org of its own.
//
// # Adding a scenario
//
// Write a func(t *testing.T, e *Env) in a scenarios_*_test.go file and list it in
// scenarios(). Create records only with names from e.Name / e.Prefix, register their
// deletion with e.CleanupContacts (or e.CleanupAccounts) before creating them, and keep
// assertions that depend on the emulator's exact sizing behind e.Strict().
package conformance
