package rest

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sfbatch/sfbatch/emulator/clock"
	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/emulator/wire"
)

// cursor is an open query result being paged with nextRecordsUrl.
type cursor struct {
	id       string
	userID   string
	res      *org.Result
	batch    int
	lastUsed time.Time
}

// cursorStore holds open query cursors. Safe for concurrent use.
type cursorStore struct {
	clock clock.Clock
	mu    sync.Mutex
	seq   uint64
	m     map[string]*cursor
}

func newCursorStore(c clock.Clock) *cursorStore {
	return &cursorStore{clock: c, m: map[string]*cursor{}}
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// open registers a cursor and returns its locator id (an 18-character 01g
// id). A user holding MaxOpenCursors loses the least recently used one.
func (cs *cursorStore) open(userID string, res *org.Result, batch int) string {
	now := cs.clock.Now()
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.expireLocked(now)
	var mine []*cursor
	for _, c := range cs.m {
		if c.userID == userID {
			mine = append(mine, c)
		}
	}
	for len(mine) >= MaxOpenCursors {
		oldest := 0
		for i, c := range mine {
			if c.lastUsed.Before(mine[oldest].lastUsed) {
				oldest = i
			}
		}
		delete(cs.m, mine[oldest].id)
		mine = append(mine[:oldest], mine[oldest+1:]...)
	}
	cs.seq++
	n := cs.seq
	var digits [12]byte
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = base62[n%62]
		n /= 62
	}
	id := org.To18("01g" + string(digits[:]))
	cs.m[id] = &cursor{id: id, userID: userID, res: res, batch: batch, lastUsed: now}
	return id
}

func (cs *cursorStore) get(id string) *cursor {
	now := cs.clock.Now()
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.expireLocked(now)
	c, ok := cs.m[id]
	if !ok {
		return nil
	}
	c.lastUsed = now
	return c
}

func (cs *cursorStore) close(id string) {
	cs.mu.Lock()
	delete(cs.m, id)
	cs.mu.Unlock()
}

func (cs *cursorStore) expireLocked(now time.Time) {
	for id, c := range cs.m {
		if now.Sub(c.lastUsed) >= CursorIdleTimeout {
			delete(cs.m, id)
		}
	}
}

// batchSize reads Sforce-Query-Options: batchSize=N, clamped to 200..2000.
func batchSize(r *http.Request) int {
	for _, opt := range strings.Split(r.Header.Get("Sforce-Query-Options"), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(opt), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "batchSize") {
			n := atoiDefault(v, DefaultQueryBatchSize)
			return min(max(n, MinQueryBatchSize), MaxQueryBatchSize)
		}
	}
	return DefaultQueryBatchSize
}

func (h *Handler) query(w http.ResponseWriter, q *request) {
	if !allow(w, q.r.Method, http.MethodGet) {
		return
	}
	all := q.parts[0] == "queryAll"
	if len(q.parts) == 2 {
		h.queryMore(w, q, q.parts[1])
		return
	}
	if len(q.parts) > 2 {
		notFound(w)
		return
	}
	soql := q.r.URL.Query().Get("q")
	if strings.TrimSpace(soql) == "" {
		wire.WriteError(w, http.StatusBadRequest, "MALFORMED_QUERY", "unexpected token: <EOF>")
		return
	}
	if strings.EqualFold(q.r.URL.Query().Get("columns"), "true") {
		h.writeQueryColumns(w, q, soql, all)
		return
	}
	res, err := h.org.Query(q.r.Context(), soql, all)
	if err != nil {
		writeOrgError(w, err)
		return
	}
	batch := batchSize(q.r)
	locator := ""
	if !res.Count && res.Len() > batch {
		locator = h.cursors.open(q.userID, res, batch)
	}
	h.writePage(w, q, res, locator, 0, batch)
}

// queryMore serves GET .../query/{locator}-{offset}.
func (h *Handler) queryMore(w http.ResponseWriter, q *request, seg string) {
	i := strings.LastIndexByte(seg, '-')
	if i < 0 {
		wire.WriteError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return
	}
	off, err := strconv.Atoi(seg[i+1:])
	c := h.cursors.get(seg[:i])
	if err != nil || c == nil || off < 0 || off > c.res.Len() || c.userID != q.userID {
		wire.WriteError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return
	}
	h.writePage(w, q, c.res, c.id, off, c.batch)
}

// writePage writes records [off, off+batch) with nextRecordsUrl when more
// remain; the cursor closes once the last page has been served.
func (h *Handler) writePage(w http.ResponseWriter, q *request, res *org.Result, locator string, off, batch int) {
	end := min(off+batch, res.Len())
	if res.Count {
		end = off
	}
	total := res.TotalSize
	b := make([]byte, 0, 256*(end-off)+64)
	b = append(b, `{"totalSize":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	done := end >= res.Len() || res.Count
	b = append(b, `,"done":`...)
	b = strconv.AppendBool(b, done)
	if !done {
		b = append(b, `,"nextRecordsUrl":`...)
		b = appendString(b, "/services/data/v"+q.ver+"/query/"+locator+"-"+strconv.Itoa(end))
	} else if locator != "" {
		h.cursors.close(locator)
	}
	b = append(b, `,"records":[`...)
	enc := newRecordEncoder(q.ver)
	for i := off; i < end; i++ {
		if i > off {
			b = append(b, ',')
		}
		b = enc.appendRecord(b, res.Record(i), res.Columns)
	}
	b = append(b, "]}"...)
	writeJSONBytes(w, http.StatusOK, b)
}
