package salesforce

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestEmulatorBulk1IngestAndQuery(t *testing.T) {
	t.Parallel()
	for _, ct := range []string{"CSV", "JSON", "XML"} {
		t.Run(ct, func(t *testing.T) {
			t.Parallel()
			c, srv := newEmulatorClient(t)
			ctx := t.Context()
			job, err := c.Bulk1.CreateJob(ctx, JobRequest{Object: "Contact", Operation: "insert", ContentType: ct, ConcurrencyMode: "Serial"})
			if err != nil {
				t.Fatal(err)
			}
			if job.State != JobStateOpen || job.ContentType != ct || job.ConcurrencyMode != "Serial" {
				t.Fatalf("job = %+v", job)
			}
			const rows = 12
			var data bytes.Buffer
			switch ct {
			case "CSV":
				data.WriteString("FirstName,LastName\n")
				for i := range rows {
					last := fmt.Sprintf("B1%s%02d", ct, i)
					if i == 4 {
						last = ""
					}
					fmt.Fprintf(&data, "F%d,%s\n", i, last)
				}
			case "JSON":
				data.WriteString("[")
				for i := range rows {
					if i > 0 {
						data.WriteString(",")
					}
					last := fmt.Sprintf("%q", fmt.Sprintf("B1%s%02d", ct, i))
					if i == 4 {
						last = "null"
					}
					fmt.Fprintf(&data, `{"FirstName":"F%d","LastName":%s}`, i, last)
				}
				data.WriteString("]")
			case "XML":
				data.WriteString(`<?xml version="1.0" encoding="UTF-8"?><sObjects xmlns="http://www.force.com/2009/06/asyncapi/dataload">`)
				for i := range rows {
					last := fmt.Sprintf("<LastName>B1%s%02d</LastName>", ct, i)
					if i == 4 {
						last = ""
					}
					fmt.Fprintf(&data, "<sObject><FirstName>F%d</FirstName>%s</sObject>", i, last)
				}
				data.WriteString("</sObjects>")
			}
			batch, err := c.Bulk1.AddBatch(ctx, job.ID, ct, BytesBody(data.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Bulk1.CloseJob(ctx, job.ID); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "batch", func() (bool, error) {
				b, err := c.Bulk1.GetBatch(ctx, job.ID, batch.ID)
				if err == nil {
					batch = b
				}
				return err == nil && b.Terminal(), err
			})
			if batch.State != BatchStateCompleted || batch.NumberRecordsProcessed != rows || batch.NumberRecordsFailed != 1 {
				t.Fatalf("batch = %+v", batch)
			}
			rc, err := c.Bulk1.BatchResults(ctx, job.ID, batch.ID)
			if err != nil {
				t.Fatal(err)
			}
			var n int
			for r, err := range ReadBatchResults(rc, ct) {
				if err != nil {
					t.Fatal(err)
				}
				if ok := n != 4; r.Success != ok {
					t.Errorf("result %d = %+v", n, r)
				}
				if n == 4 && (len(r.Errors) == 0 || r.Errors[0].StatusCode != "REQUIRED_FIELD_MISSING") {
					t.Errorf("failed row result = %+v", r)
				}
				if n != 4 && (!r.Created || r.ID == "") {
					t.Errorf("result %d = %+v", n, r)
				}
				n++
			}
			rc.Close()
			if n != rows {
				t.Errorf("%d results for %d rows", n, rows)
			}
			batches, err := c.Bulk1.ListBatches(ctx, job.ID)
			if err != nil || len(batches) != 1 || batches[0].ID != batch.ID {
				t.Fatalf("batches = %v, %v", batches, err)
			}
			if n := srv.Org().Count("Contact"); n != rows-1 {
				t.Errorf("org has %d contacts, want %d", n, rows-1)
			}

			// Query them back.
			qjob, err := c.Bulk1.CreateJob(ctx, JobRequest{Object: "Contact", Operation: "query", ContentType: ct})
			if err != nil {
				t.Fatal(err)
			}
			qb, err := c.Bulk1.AddQueryBatch(ctx, qjob.ID, ct, "SELECT Id, LastName FROM Contact")
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "query batch", func() (bool, error) {
				b, err := c.Bulk1.GetBatch(ctx, qjob.ID, qb.ID)
				if err == nil {
					qb = b
				}
				return err == nil && b.Terminal(), err
			})
			if qb.State != BatchStateCompleted {
				t.Fatalf("query batch = %+v", qb)
			}
			ids, err := c.Bulk1.QueryResultList(ctx, qjob.ID, qb.ID)
			if err != nil || len(ids) == 0 {
				t.Fatalf("result ids %v, %v", ids, err)
			}
			var all strings.Builder
			for _, id := range ids {
				rc, err := c.Bulk1.QueryResult(ctx, qjob.ID, qb.ID, id)
				if err != nil {
					t.Fatal(err)
				}
				b := new(bytes.Buffer)
				_, _ = b.ReadFrom(rc)
				rc.Close()
				all.Write(b.Bytes())
			}
			if got := strings.Count(all.String(), "B1"+ct); got != rows-1 {
				t.Errorf("query results mention %d of the %d records", got, rows-1)
			}
			if _, err := c.Bulk1.CloseJob(ctx, qjob.ID); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestEmulatorBulk1Errors(t *testing.T) {
	t.Parallel()
	c, srv := newEmulatorClient(t)
	ctx := t.Context()
	job, err := c.Bulk1.CreateJob(ctx, JobRequest{Object: "Account", Operation: "insert"})
	if err != nil {
		t.Fatal(err)
	}
	// An expired session is refreshed (Bulk 1.0 InvalidSessionId) and the batch resent.
	srv.ExpireSessions()
	if _, err := c.Bulk1.AddBatch(ctx, job.ID, "CSV", BytesBody([]byte("Name\nAcme\n"))); err != nil {
		t.Fatalf("after session expiry: %v", err)
	}
	if _, err := c.Bulk1.AbortJob(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.Bulk1.AddBatch(ctx, job.ID, "CSV", BytesBody([]byte("Name\nAcme\n")))
	if !IsErrorCode(err, "InvalidJobState") {
		t.Errorf("batch on aborted job: err = %v", err)
	}
	if _, err := c.Bulk1.GetJob(ctx, "750000000000000AAA"); !IsErrorCode(err, "InvalidJob") {
		t.Errorf("unknown job: err = %v", err)
	}
}

func TestEmulatorBulk1PKChunking(t *testing.T) {
	t.Parallel()
	c, srv := newEmulatorClient(t)
	ctx := t.Context()
	recs := make([]map[string]any, 25)
	for i := range recs {
		recs[i] = map[string]any{"Name": fmt.Sprintf("PK %02d", i)}
	}
	if _, err := srv.Insert(ctx, "Account", recs...); err != nil {
		t.Fatal(err)
	}
	job, err := c.Bulk1.CreateJob(ctx, JobRequest{Object: "Account", Operation: "query", PKChunking: &PKChunking{ChunkSize: 10}})
	if err != nil {
		t.Fatal(err)
	}
	orig, err := c.Bulk1.AddQueryBatch(ctx, job.ID, "CSV", "SELECT Id, Name FROM Account")
	if err != nil {
		t.Fatal(err)
	}
	var batches []*Batch
	waitFor(t, "chunk batches", func() (bool, error) {
		bs, err := c.Bulk1.ListBatches(ctx, job.ID)
		if err != nil {
			return false, err
		}
		batches = bs
		if len(bs) < 2 {
			return false, nil
		}
		for _, b := range bs {
			if !b.Terminal() {
				return false, nil
			}
		}
		return true, nil
	})
	rows := 0
	for _, b := range batches {
		if b.ID == orig.ID {
			if b.State != BatchStateNotProcessed {
				t.Errorf("original batch state = %s, want NotProcessed", b.State)
			}
			continue
		}
		if b.State != BatchStateCompleted {
			t.Fatalf("chunk batch = %+v", b)
		}
		ids, err := c.Bulk1.QueryResultList(ctx, job.ID, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			rc, err := c.Bulk1.QueryResult(ctx, job.ID, b.ID, id)
			rows += len(readCSV(t, rc, err)) - 1
		}
	}
	if rows != 25 || len(batches) != 4 {
		t.Errorf("%d rows from %d batches, want 25 rows from 1 original + 3 chunks", rows, len(batches))
	}
	if _, err := c.Bulk1.CloseJob(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
}
