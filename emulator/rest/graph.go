package rest

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/sfbatch/sfbatch/emulator/wire"
)

// Composite graph limits (protocol reference §6.4).
const (
	MaxGraphs          = 75
	MaxGraphNodes      = 500
	maxGraphFailures   = 14
	graphMinAPIVersion = 50
)

type graphResult struct {
	GraphID       string `json:"graphId"`
	IsSuccessful  bool   `json:"isSuccessful"`
	GraphResponse struct {
		CompositeResponse []compositeSubresponse `json:"compositeResponse"`
	} `json:"graphResponse"`
}

// compositeGraph serves POST /composite/graph: each graph runs like an
// allOrNone composite request; after 14 failed graphs the rest are halted.
func (h *Handler) compositeGraph(w http.ResponseWriter, q *request) {
	if !q.version.AtLeast(graphMinAPIVersion) {
		notFound(w)
		return
	}
	body, err := readBody(q.r)
	if err != nil {
		wire.WriteError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", err.Error())
		return
	}
	var in struct {
		Graphs []struct {
			GraphID          string                `json:"graphId"`
			CompositeRequest []compositeSubrequest `json:"compositeRequest"`
		} `json:"graphs"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		wire.WriteError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", err.Error())
		return
	}
	if len(in.Graphs) == 0 || len(in.Graphs) > MaxGraphs {
		wire.WriteError(w, http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("A request must contain between 1 and %d graphs.", MaxGraphs))
		return
	}
	nodes := 0
	for _, g := range in.Graphs {
		if g.GraphID == "" {
			wire.WriteError(w, http.StatusBadRequest, "INVALID_REQUEST", "Every graph needs a graphId.")
			return
		}
		if len(g.CompositeRequest) > MaxGraphNodes {
			wire.WriteError(w, http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("Graph %s has more than %d nodes.", g.GraphID, MaxGraphNodes))
			return
		}
		nodes += len(g.CompositeRequest)
	}
	if nodes > MaxGraphNodes {
		wire.WriteError(w, http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("The request has more than %d nodes.", MaxGraphNodes))
		return
	}
	out := make([]graphResult, len(in.Graphs))
	failures := 0
	halt := mustJSON([]wire.Error{{ErrorCode: codeProcessingHalt, Message: "This graph was not processed because too many graphs in the request failed."}})
	for i, g := range in.Graphs {
		out[i].GraphID = g.GraphID
		if failures >= maxGraphFailures {
			for _, s := range g.CompositeRequest {
				out[i].GraphResponse.CompositeResponse = append(out[i].GraphResponse.CompositeResponse,
					compositeSubresponse{Body: halt, HTTPHeaders: map[string]string{}, HTTPStatusCode: http.StatusBadRequest, ReferenceID: s.ReferenceID})
			}
			continue
		}
		if msg := validateGraphSubrequests(g.CompositeRequest); msg != "" {
			out[i].GraphResponse.CompositeResponse = []compositeSubresponse{{
				Body: mustJSON([]wire.Error{{ErrorCode: "INVALID_REQUEST", Message: msg}}), HTTPHeaders: map[string]string{}, HTTPStatusCode: http.StatusBadRequest,
			}}
			failures++
			continue
		}
		resp, ok := h.runComposite(q.r.Context(), q.userID, g.CompositeRequest, true)
		out[i].IsSuccessful = ok
		out[i].GraphResponse.CompositeResponse = resp
		if !ok {
			failures++
		}
	}
	wire.WriteJSON(w, http.StatusOK, map[string]any{"graphs": out})
}

// validateGraphSubrequests applies the composite checks without the
// 25-subrequest cap (graphs allow up to MaxGraphNodes nodes).
func validateGraphSubrequests(subs []compositeSubrequest) string {
	for start := 0; start < len(subs); start += MaxCompositeSubrequests {
		end := min(start+MaxCompositeSubrequests, len(subs))
		if msg := validateSubrequests(subs[start:end]); msg != "" {
			return msg
		}
	}
	if len(subs) == 0 {
		return "A graph must contain at least one subrequest."
	}
	seen := map[string]bool{}
	for _, s := range subs {
		if seen[s.ReferenceID] {
			return fmt.Sprintf("Duplicate referenceId %q", s.ReferenceID)
		}
		seen[s.ReferenceID] = true
	}
	return ""
}
