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
// Sforce-Limit-Info. Config.Limits (LimitModel; RealisticLimits with
// `--profile realistic`) adds the org's pressure signals: 503 over a number
// of requests in flight, and REQUEST_LIMIT_EXCEEDED (ConcurrentPerOrgLongTxn)
// for a synchronous call while too many are long-running (limitmodel.go).
//
// # Files
//
// server.go holds Config, Server, New, Start and Close; routes.go the
// middleware (faults, gzip bodies, request log) and the route table; each
// API its own file: rest_mount.go (REST and composite, package rest),
// bulk1_mount.go and bulk2_mount.go (package bulk), soap.go, oauth.go and
// jwt.go (logins), sessions.go, users.go, tls.go, faults.go, limitmodel.go and
// control.go (the /_emulator/ endpoint and its Go methods).
//
// # What this package owns, and what it must not touch
//
// It owns logins, sessions, TLS, request routing, faults and the control
// endpoint. Records, validation and SOQL belong to package org, the REST
// resources to package rest, the Bulk APIs to package bulk: this package
// mounts them and never reaches into their state. Like every emulator
// package it never imports the client packages (salesforce, load,
// extract), so a misreading of the wire format on one side fails a test on
// the other.
//
// # Data file
//
// With Config.DataFile (`sfbatch emulator --data FILE`) the org outlives a
// restart: package org keeps the records there, package bulk the Bulk jobs
// with their state, uploads and results (and resumes the work that was in
// progress), and this package the TLS certificate, reused while it is valid
// and names the configured hosts, so clients keep trusting the emulator,
// and the sessions and refresh tokens (under the SHA-256 of each token,
// never the token), so their tokens stay valid. The file then holds the
// certificate's private key and is made readable by its owner only.
//
// # Schema files
//
// Config.SchemaFile (`sfbatch emulator --schema FILE`) is a JSON file of
// objects merged over the default org (Account, Contact, Lead, Opportunity,
// Case, User, Profile, RecordType, Attachment, the Files objects, ...). An object of an existing name gains, or replaces,
// the listed fields; a new object is created, as a custom object when its
// name ends in "__c". Unknown keys, and anything after the top-level
// object, are errors.
//
//	{
//	  "objects": [
//	    {
//	      "name": "Invoice__c", "label": "Invoice", "labelPlural": "Invoices", "keyPrefix": "a01",
//	      "fields": [
//	        {"name": "Name", "type": "string", "length": 80, "required": true},
//	        {"name": "Number__c", "type": "string", "length": 40, "externalId": true, "unique": true, "caseSensitive": true},
//	        {"name": "Amount__c", "type": "currency", "precision": 18, "scale": 2},
//	        {"name": "Status__c", "type": "picklist", "values": ["Draft", "Sent"], "restricted": true, "default": "Draft"},
//	        {"name": "Account__c", "type": "reference", "referenceTo": "Account", "relationshipName": "Account__r"}
//	      ]
//	    },
//	    {"name": "Contact", "fields": [{"name": "Score__c", "type": "int"}]}
//	  ]
//	}
//
// Object keys: name (required), label, labelPlural, keyPrefix (three
// characters; without it a custom object gets the next free prefix a00,
// a01, ...), fields, recordTypes.
//
// Field keys: name, label, type (id, string, textarea, email, phone, url,
// boolean, int, double, currency, percent, date, datetime, picklist,
// multipicklist, reference, location), length (text; default 255, textarea 32768),
// precision, scale, required, unique, externalId, caseSensitive,
// createable and updateable (default true), values (picklists), restricted
// (restricted picklist), default, referenceTo, relationshipName (default:
// the field name with __c replaced by __r, or without a trailing "Id").
//
// A location field (a geolocation, such as {"name": "Loc__c", "type":
// "location", "scale": 6}) becomes three fields, as in Salesforce: the
// read-only compound field Loc__c and its components Loc__Latitude__s and
// Loc__Longitude__s (double, the given scale, default 6), whose describe
// names Loc__c in compoundFieldName. The standard objects' addresses
// (Account BillingAddress and ShippingAddress, Contact MailingAddress and
// OtherAddress, Lead Address) are compound fields of the same kind. REST
// queries return a compound field as one nested value; Bulk API queries
// refuse it (FUNCTIONALITY_NOT_ENABLED) and read the components instead.
//
// # Record types and dependent picklists
//
// An object's recordTypes gives it record types, a RecordTypeId lookup and
// RecordType records (queryable, read-only):
//
//	"recordTypes": [
//	  {"id": "0125e00000ENT01AAH", "developerName": "Enterprise", "name": "Enterprise Account", "default": true,
//	   "picklistValues": {"Region__c": ["EMEA", "AMER"]}},
//	  {"developerName": "Legacy", "active": false}
//	]
//
// Record type keys: developerName (required), id (012...; without it one is
// derived from the object and developer names, the same on every start),
// name (default: developerName), description, default (the record type an
// insert without RecordTypeId gets; at most one), active (default true),
// picklistValues (per picklist field, the values available in the record
// type; a field not listed offers all its values). Describe lists them in
// recordTypeInfos, followed by the master record type (MasterRecordTypeID,
// 012000000000000AAA); an object without record types lists the master one
// alone, available and the default mapping, as Salesforce does. The UI API serves the values per record type:
// GET /services/data/vXX.X/ui-api/object-info/{object}/picklist-values/{recordTypeId}[/{field}].
//
// A picklist becomes dependent with controllerName (a picklist or checkbox
// of the same object) and validFor (each value's valid controlling values;
// "false" and "true" for a checkbox):
//
//	{"name": "Country__c", "type": "picklist", "values": ["France", "USA"], "restricted": true,
//	 "controllerName": "Region__c", "validFor": {"France": ["EMEA"], "USA": ["AMER"]}}
//
// Describe reports validFor as Salesforce encodes it: base64 of a bitset in
// which bit i (most significant bit first in each byte) is set when the value
// is valid for controlling value i.
//
// Writes check them as Salesforce does: a RecordTypeId that is not an active
// record type of the object fails with INVALID_CROSS_REFERENCE_KEY ("Record
// Type ID: this ID value isn't valid for the user: ..."); a value of a
// restricted picklist outside the record's record type, or a value of a
// restricted dependent picklist not valid for its controlling value, fails
// with INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST. Unrestricted picklists take
// any value, as the API does. Only the fields a write sets are checked.
//
// The Go form of the format is org.SchemaFile; org.LoadSchemaFile reads it.
package emulator
