package org

import (
	"fmt"
	"strings"
)

// Status codes the org produces, as Salesforce spells them.
const (
	CodeRequiredFieldMissing     = "REQUIRED_FIELD_MISSING"
	CodeInvalidField             = "INVALID_FIELD"
	CodeInvalidFieldForInsert    = "INVALID_FIELD_FOR_INSERT_UPDATE"
	CodeStringTooLong            = "STRING_TOO_LONG"
	CodeInvalidType              = "INVALID_TYPE_ON_FIELD_IN_RECORD"
	CodeInvalidEmail             = "INVALID_EMAIL_ADDRESS"
	CodeRestrictedPicklist       = "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
	CodeDuplicateValue           = "DUPLICATE_VALUE"
	CodeDuplicateExternalID      = "DUPLICATE_EXTERNAL_ID"
	CodeInvalidCrossReference    = "INVALID_CROSS_REFERENCE_KEY"
	CodeMalformedID              = "MALFORMED_ID"
	CodeEntityIsDeleted          = "ENTITY_IS_DELETED"
	CodeNotFound                 = "NOT_FOUND"
	CodeMissingArgument          = "MISSING_ARGUMENT"
	CodeInvalidIDField           = "INVALID_ID_FIELD"
	CodeUndeleteFailed           = "UNDELETE_FAILED"
	CodeAllOrNoneRolledBack      = "ALL_OR_NONE_OPERATION_ROLLED_BACK"
	CodeRequestLimitExceeded     = "REQUEST_LIMIT_EXCEEDED"
	CodeInvalidTypeObject        = "INVALID_TYPE"
	CodeMalformedQuery           = "MALFORMED_QUERY"
	CodeInvalidOperation         = "INVALID_OPERATION"
	CodeFieldIntegrity           = "FIELD_INTEGRITY_EXCEPTION"
	CodeNumberOutsideValidRange  = "NUMBER_OUTSIDE_VALID_RANGE"
	MessageNotFound              = "The requested resource does not exist"
	MessageAllOrNoneRolledBack   = "Record rolled back because not all records were valid and the request was using AllOrNone header"
	messageEntityIsDeleted       = "entity is deleted"
	messageInvalidCrossReference = "invalid cross reference id"
)

// Error is one record-level error, as Salesforce reports it in SaveResults
// (statusCode, message, fields). It is also the error type of Get and
// Consume.
type Error struct {
	StatusCode string
	Message    string
	Fields     []string
}

// Error returns "CODE: message".
func (e *Error) Error() string { return e.StatusCode + ": " + e.Message }

func newErr(code, msg string, fields ...string) *Error {
	if fields == nil {
		fields = []string{}
	}
	return &Error{StatusCode: code, Message: msg, Fields: fields}
}

// QueryError is why a query could not run: Code is MALFORMED_QUERY,
// INVALID_FIELD or INVALID_TYPE (HTTP 400 in REST), Message is Salesforce's
// text.
type QueryError struct {
	Code    string
	Message string
}

// Error returns "CODE: message".
func (e *QueryError) Error() string { return e.Code + ": " + e.Message }

func errInvalidField(field, object string) *Error {
	return newErr(CodeInvalidField, fmt.Sprintf("No such column '%s' on sobject of type %s", field, object), field)
}

func errNotCreateable(fields []string) *Error {
	return newErr(CodeInvalidFieldForInsert, fmt.Sprintf("Unable to create/update fields: %s. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", strings.Join(fields, ", ")), fields...)
}

func errRequired(fields []string) *Error {
	return newErr(CodeRequiredFieldMissing, fmt.Sprintf("Required fields are missing: [%s]", strings.Join(fields, ", ")), fields...)
}

func errInvalidType(f *Field, v string) *Error {
	return newErr(CodeInvalidType, fmt.Sprintf("%s: value not of required type: %s", f.Label, v), f.Name)
}

func errMalformedID(label, id string, fields ...string) *Error {
	return newErr(CodeMalformedID, fmt.Sprintf("%s: id value of incorrect type: %s", label, id), fields...)
}
