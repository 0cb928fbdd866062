package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/sfbatch/sfbatch/salesforce"
)

// OrgUnusable reports whether err means the org cannot be used at all: it could not be
// reached (a *salesforce.TransportError: network, DNS, TLS; or a 5xx after the client's
// retries), or it refused the login or the session and the session could not be renewed.
// A load that meets such an error before sending anything stops with every row
// NotProcessed.
func OrgUnusable(err error) bool {
	return Unreachable(err) || authRefused(err)
}

// authRefused reports whether Salesforce refused the login or the session.
func authRefused(err error) bool {
	var ae *salesforce.APIError
	if errors.As(err, &ae) {
		return ae.StatusCode == http.StatusUnauthorized || ae.ErrorCode == "INVALID_SESSION_ID" ||
			ae.ErrorCode == "InvalidSessionId" || ae.ErrorCode == "INVALID_LOGIN" || ae.ErrorCode == "invalid_grant"
	}
	return false
}

// Unreachable reports whether err means the org could not be reached: no response at all (a
// *salesforce.TransportError) or a server error that outlasted the client's retries (a
// refused login, which SOAP reports as a 500 fault, is not one).
func Unreachable(err error) bool {
	var te *salesforce.TransportError
	if errors.As(err, &te) {
		return true
	}
	var ae *salesforce.APIError
	return errors.As(err, &ae) && ae.StatusCode >= http.StatusInternalServerError && !authRefused(err)
}

// Unsent gives every row of src the outcome NotProcessed (StatusAborted, the message naming
// cause) without contacting Salesforce: for a load that cannot start because the org cannot
// be used (the login failed, the org is unreachable), so that every row is still accounted
// for and listed as safe to send again. Rows the reader rejects fail with StatusInvalidRow as
// they would in Load. It returns the Summary and an *Error wrapping cause (a header or
// structural *InputError instead, if the input stops first).
func Unsent(ctx context.Context, src Source, sink Sink, opts Options, cause error) (*Summary, error) {
	cfg, err := opts.resolve()
	if err != nil {
		return &Summary{}, err
	}
	if c, ok := src.(io.Closer); ok {
		defer c.Close()
	}
	r := &run{cfg: cfg, sink: sink, open: make(map[string]*OpenJob), live: make(map[*chunk]struct{}),
		sum: Summary{ErrorCodes: make(map[string]int64), API: cfg.API}}
	header := src.Header()
	if err := r.checkHeader(src, header); err != nil {
		return &r.sum, err
	}
	r.header = header
	if sink != nil {
		if err := sink.Start(header); err != nil {
			return &r.sum, fmt.Errorf("load: sink: %w", err)
		}
	}
	in := &inputSource{src: src, r: r}
	msg := "not sent: the load could not start: " + cause.Error()
	for {
		if err := ctx.Err(); err != nil {
			return &r.sum, err
		}
		p, err := in.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return &r.sum, err
		}
		r.emit(&RowResult{Row: p.num, Outcome: NotProcessed, Values: p.vals, Batch: -1,
			Error: &RowError{StatusCode: StatusAborted, Message: msg}})
	}
	r.reportDone(cfg.API, "", "")
	if r.sinkErr != nil {
		return &r.sum, &Error{Err: fmt.Errorf("sink: %w", r.sinkErr)}
	}
	return &r.sum, &Error{Err: cause}
}
