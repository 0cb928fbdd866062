package conformance

import "testing"

// scenario is one behaviour every target must show.
type scenario struct {
	name string
	// tag is the scenario's part of the record prefix (short: LastName holds 80 characters).
	tag string
	// emulatorOnly scenarios need the emulator's controls (faults, session expiry).
	emulatorOnly bool
	run          func(t *testing.T, e *Env)
}

func scenarios() []scenario {
	return []scenario{
		{name: "login_limits", tag: "li", run: testLoginLimits},
		{name: "describe_contact", tag: "de", run: testDescribeContact},
		{name: "describe_opportunity_contact_role", tag: "dr", run: testDescribeOpportunityContactRole},
		{name: "record_types_picklists", tag: "rt", run: testRecordTypesPicklists},
		{name: "picklist_value_case", tag: "pk", run: testPicklistValueCase},
		{name: "content_version_multipart", tag: "cv", run: testContentVersionMultipart},
		{name: "attachment_multipart", tag: "at", run: testAttachmentMultipart},
		{name: "rest_crud", tag: "rc", run: testRESTCRUD},
		{name: "query_paging", tag: "qp", run: testQueryPaging},
		{name: "composite_batch", tag: "cb", run: testCompositeBatch},
		{name: "composite_batch_strings", tag: "cs", run: testCompositeBatchStrings},
		{name: "composite_all_or_none", tag: "ca", run: testCompositeAllOrNone},
		{name: "collections_create", tag: "co", run: testCollectionsCreate},
		{name: "bulk2_ingest", tag: "bi", run: testBulk2Ingest},
		{name: "bulk2_upload_framing", tag: "bu", run: testBulk2UploadFraming},
		{name: "bulk2_job_progress", tag: "bp", run: testBulk2JobProgress},
		{name: "bulk2_query", tag: "bq", run: testBulk2Query},
		{name: "bulk1_insert_query", tag: "b1", run: testBulk1InsertQuery},
		{name: "bulk1_response_format", tag: "bf", run: testBulk1ResponseFormat},
		{name: "lost_answer_lookups", tag: "lo", run: testLostAnswerLookups},
		{name: "match_by_query", tag: "mb", run: testMatchByQuery},
		{name: "load_bulk2", tag: "l2", run: testLoadBulk2},
		{name: "load_bulk1", tag: "l1", run: testLoadBulk1},
		{name: "load_auto", tag: "la", run: testLoadAuto},
		{name: "load_upsert", tag: "lu", run: testLoadUpsert},
		{name: "load_invalid_rows", tag: "lr", run: testLoadInvalidRows},
		{name: "load_session_refused", tag: "lx", run: testLoadSessionRefused},
		{name: "extract", tag: "ex", run: testExtract},
		{name: "compound_fields", tag: "cf", run: testCompoundFields},
		{name: "session_expiry", tag: "se", emulatorOnly: true, run: testSessionExpiry},
		{name: "faults", tag: "fa", emulatorOnly: true, run: testFaults},
		{name: "soap_login_versions", tag: "sv", run: testSOAPLoginVersions},
		{name: "soap_login_disabled", tag: "sd", emulatorOnly: true, run: testSOAPLoginDisabled},
		{name: "sf_cli_resources", tag: "sc", run: testSFCLIResources},
		{name: "oauth_authorization_code", tag: "ac", emulatorOnly: true, run: testAuthorizationCode},
		{name: "limit_info", tag: "lf", run: testLimitInfo},
		{name: "limit_model", tag: "lm", emulatorOnly: true, run: testLimitModel},
	}
}

// TestConformance runs every scenario against every target, as subtests named
// target/scenario, in parallel: scenarios share an org but never each other's records.
func TestConformance(t *testing.T) {
	t.Parallel()
	for _, target := range Targets(t) {
		for _, sc := range scenarios() {
			t.Run(target.Name+"/"+sc.name, func(t *testing.T) {
				if sc.emulatorOnly && target.Emulator == nil {
					t.Skip("needs the emulator's controls")
				}
				t.Parallel()
				sc.run(t, &Env{Target: target, Prefix: target.RunPrefix + sc.tag})
			})
		}
	}
}
