package extract

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// spool holds one downloaded page: the first limit bytes in memory, the rest
// in a temporary file, so memory stays bounded whatever the page size.
// Not safe for concurrent use.
type spool struct {
	dir   string
	limit int
	mem   bytes.Buffer
	f     *os.File
}

func newSpool(dir string, limit int) *spool { return &spool{dir: dir, limit: limit} }

// Write appends p, in memory up to the limit and in the file after.
func (s *spool) Write(p []byte) (int, error) {
	if s.f == nil && s.mem.Len()+len(p) <= s.limit {
		return s.mem.Write(p)
	}
	if s.f == nil {
		f, err := os.CreateTemp(s.dir, "sfbatch-extract-*.csv")
		if err != nil {
			return 0, fmt.Errorf("extract: spooling a page: %w", err)
		}
		s.f = f
	}
	n, err := s.f.Write(p)
	if err != nil {
		return n, fmt.Errorf("extract: spooling a page: %w", err)
	}
	return n, nil
}

// reset empties the spool for another attempt.
func (s *spool) reset() error {
	s.mem.Reset()
	if s.f != nil {
		if _, err := s.f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		return s.f.Truncate(0)
	}
	return nil
}

// reader returns the spooled bytes from the start.
func (s *spool) reader() (io.Reader, error) {
	if s.f == nil {
		return bytes.NewReader(s.mem.Bytes()), nil
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("extract: reading a spooled page: %w", err)
	}
	return io.MultiReader(bytes.NewReader(s.mem.Bytes()), s.f), nil
}

// close releases the memory and removes the temporary file.
func (s *spool) close() error {
	s.mem = bytes.Buffer{}
	if s.f == nil {
		return nil
	}
	name := s.f.Name()
	err := s.f.Close()
	s.f = nil
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	return err
}
