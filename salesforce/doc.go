// Package salesforce is a client for the Salesforce APIs a bulk data tool needs: login flows,
// REST (versions, limits, describe, query, sObject CRUD), Composite and sObject Collections,
// Bulk API 1.0 and Bulk API 2.0.
package salesforce
