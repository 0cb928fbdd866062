//lint:file-ignore ST1005 these errors are Salesforce's exceptionMessage texts, sent to clients as they are.

package bulk

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// pkChunking is a parsed Sforce-Enable-PKChunking header.
type pkChunking struct {
	chunkSize int
	parent    string
	startRow  string
}

// parsePKChunking parses "true", "false" or
// "chunkSize=50000; parent=Account; startRow=001...". It returns nil for
// "false".
func parsePKChunking(h string) (*pkChunking, error) {
	h = strings.TrimSpace(h)
	switch strings.ToLower(h) {
	case "true":
		return &pkChunking{chunkSize: DefaultPKChunkSize}, nil
	case "false", "":
		return nil, nil
	}
	pk := &pkChunking{chunkSize: DefaultPKChunkSize}
	for _, part := range strings.Split(h, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("Invalid Sforce-Enable-PKChunking header value: %s", h)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch strings.ToLower(k) {
		case "chunksize":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("Invalid chunkSize in Sforce-Enable-PKChunking: %s", v)
			}
			if n > MaxPKChunkSize {
				return nil, fmt.Errorf("chunkSize %d in Sforce-Enable-PKChunking exceeds the maximum of %d", n, MaxPKChunkSize)
			}
			pk.chunkSize = n
		case "parent":
			pk.parent = v
		case "startrow":
			if len(v) != 15 && len(v) != 18 {
				return nil, fmt.Errorf("Invalid startRow in Sforce-Enable-PKChunking: %s", v)
			}
			pk.startRow = v[:15]
		default:
			return nil, fmt.Errorf("Unknown Sforce-Enable-PKChunking option: %s", k)
		}
	}
	return pk, nil
}

// chunkRanges splits sorted ids into [lo, hi) ranges of size ids each; an
// empty hi means open-ended. With no ids there is one range from startRow.
func chunkRanges(ids []string, size int, startRow string) [][2]string {
	if len(ids) == 0 {
		return [][2]string{{startRow, ""}}
	}
	var out [][2]string
	for i := 0; i < len(ids); i += size {
		lo := ids[i]
		if i == 0 && startRow != "" {
			lo = startRow
		}
		hi := ""
		if i+size < len(ids) {
			hi = ids[i+size]
		}
		out = append(out, [2]string{lo, hi})
	}
	return out
}

// withIDRange adds "Id >= 'lo' AND Id < 'hi'" to a query that has at most a
// WHERE clause, as PK chunking allows.
func withIDRange(query, field, lo, hi string) string {
	var conds []string
	if lo != "" {
		conds = append(conds, field+" >= '"+lo+"'")
	}
	if hi != "" {
		conds = append(conds, field+" < '"+hi+"'")
	}
	if len(conds) == 0 {
		return query
	}
	rng := strings.Join(conds, " AND ")
	if i := indexKeyword(query, "WHERE"); i >= 0 {
		return query[:i] + "WHERE (" + strings.TrimSpace(query[i+5:]) + ") AND " + rng
	}
	return strings.TrimRight(query, " \t\r\n;") + " WHERE " + rng
}

// indexKeyword finds a keyword outside string literals, case-insensitively.
func indexKeyword(q, kw string) int {
	inStr := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c == '\\' && inStr {
			i++
			continue
		}
		if c == '\'' {
			inStr = !inStr
			continue
		}
		if inStr || i+len(kw) > len(q) || !strings.EqualFold(q[i:i+len(kw)], kw) {
			continue
		}
		before := i == 0 || isSpace(q[i-1])
		after := i+len(kw) == len(q) || isSpace(q[i+len(kw)])
		if before && after {
			return i
		}
	}
	return -1
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// pkChunk splits a query batch into one batch per id range.
func (s *Service) pkChunk(ctx context.Context, b *batch) error {
	j := b.job
	obj, field := j.object, "Id"
	if j.pk.parent != "" {
		obj, field = j.pk.parent, j.pk.parent+"Id"
	}
	res, err := s.org.Query(ctx, "SELECT Id FROM "+obj, j.operation == "queryAll")
	if err != nil {
		return fmt.Errorf("InvalidBatch : Failed to process query: %s", queryErrorText(err))
	}
	ids := make([]string, 0, res.Len())
	for i := range res.Len() {
		id := res.Text(i, 0)
		if len(id) >= 15 {
			id = id[:15]
		}
		if j.pk.startRow != "" && id < j.pk.startRow {
			continue
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	ranges := chunkRanges(ids, j.pk.chunkSize, j.pk.startRow)
	for range ranges {
		if err := s.org.Consume(limitBatches, 1); err != nil {
			return fmt.Errorf("InvalidBatch : Failed to create PK chunking batches: %v", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clk.Now()
	for _, rg := range ranges {
		cb := &batch{
			job: j, state: batchQueued, created: now, modstamp: now, chunk: true,
			query: withIDRange(b.query, field, rg[0], rg[1]),
		}
		cb.data = []byte(cb.query)
		cb.id = s.newIDLocked(prefixBatch)
		cb.seq = len(j.batches)
		j.batches = append(j.batches, cb)
		s.saveBatchLocked(cb)
		s.enqueueLocked(&work{job: j, batch: cb})
	}
	return nil
}
