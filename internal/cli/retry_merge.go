package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// mergedFile is what sfbatch retry writes in its run folder: every row of the first run's
// input with its latest outcome across the chain of retries.
const mergedFile = "merged.csv"

// maxRetryChain bounds the retries followed back to the first run (a loop of retry.json
// files would otherwise never end).
const maxRetryChain = 1000

// writeMerged writes dir/merged.csv for the retry run in dir: the first run's results.csv,
// row for row (sf__Row is the first run's row), each row replaced by its outcome in the
// latest retry of the chain that sent it. Input columns come from that retry when its
// columns are the first run's, else from the first run. Only the retries' results are held
// in memory; the first run's are streamed.
func writeMerged(dir string) error {
	chain := []string{dir}
	var links []retryLink // links[k] is retry.json of chain[k+1] once reversed
	for cur := dir; ; {
		b, err := os.ReadFile(filepath.Join(cur, retryLinkFile))
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			return err
		}
		var l retryLink
		if err := json.Unmarshal(b, &l); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(cur, retryLinkFile), err)
		}
		if len(chain) > maxRetryChain {
			return fmt.Errorf("more than %d retries chained from %s", maxRetryChain, dir)
		}
		links = append(links, l)
		cur = l.RetryOf
		chain = append(chain, cur)
	}
	slices.Reverse(chain) // chain[0] is the first run, chain[k] the k-th retry
	slices.Reverse(links) // links[k-1] maps chain[k]'s rows to chain[k-1]'s
	root := chain[0]
	rootHdr, err := resultsHeader(filepath.Join(root, load.ResultsFile))
	if err != nil {
		return err
	}
	nres := len(load.ResultColumns)
	latest := map[int64][]string{}
	var toRoot []int64 // row i+1 of the previous run is row toRoot[i] of the first run
	for k := 1; k < len(chain); k++ {
		rows := links[k-1].Rows
		cur := make([]int64, len(rows))
		for i, r := range rows {
			switch {
			case k == 1:
				cur[i] = r
			case r >= 1 && int(r) <= len(toRoot):
				cur[i] = toRoot[r-1]
			}
		}
		toRoot = cur
		path := filepath.Join(chain[k], load.ResultsFile)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			continue // a retry that sent nothing, or never finished
		}
		err := eachResult(path, func(hdr, rec []string) error {
			n, err := strconv.ParseInt(rec[0], 10, 64)
			if err != nil || n < 1 || int(n) > len(toRoot) || toRoot[n-1] == 0 {
				return fmt.Errorf("%s: sf__Row %q is not a row of the retry", path, rec[0])
			}
			out := slices.Clone(rec)
			if !slices.Equal(hdr, rootHdr) {
				out = out[:nres] // columns differ: this outcome, the first run's input values
			}
			out[0] = strconv.FormatInt(toRoot[n-1], 10)
			latest[toRoot[n-1]] = out
			return nil
		})
		if err != nil {
			return err
		}
	}
	tmp, err := os.CreateTemp(dir, ".merged-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := sfcsv.NewWriter(tmp, sfcsv.WriterOptions{})
	if _, err := w.Write(rootHdr); err != nil {
		tmp.Close()
		return err
	}
	err = eachResult(filepath.Join(root, load.ResultsFile), func(_, rec []string) error {
		n, _ := strconv.ParseInt(rec[0], 10, 64)
		if l, ok := latest[n]; ok {
			if len(l) == nres { // the retry's columns differ: its outcome, the first run's values
				l = append(l, rec[nres:]...)
			}
			rec = l
		}
		_, err := w.Write(rec)
		return err
	})
	if err == nil {
		err = w.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", mergedFile, err)
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, mergedFile))
}

func resultsHeader(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, err := sfcsv.NewReader(f, sfcsv.ReaderOptions{Name: path}).Header()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(h) < len(load.ResultColumns) || !slices.Equal(h[:len(load.ResultColumns)], load.ResultColumns) {
		return nil, fmt.Errorf("%s: not a results file", path)
	}
	return slices.Clone(h), nil
}

// eachResult calls fn with the header and every record of a results.csv.
func eachResult(path string, fn func(hdr, rec []string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rd := sfcsv.NewReader(f, sfcsv.ReaderOptions{Name: path})
	h, err := rd.Header()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(h) < len(load.ResultColumns) || h[0] != "sf__Row" {
		return fmt.Errorf("%s: not a results file", path)
	}
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := fn(h, rec); err != nil {
			return err
		}
	}
}
