package dirjournal

import (
	"errors"
	"io/fs"
	"os"
	"sync/atomic"
)

// Strict is the local file system restricted to what object storage behind FUSE, or NFS
// without a lock manager, reliably offers: exclusive creation, appends, whole reads and
// listings. It refuses rewriting or truncating an existing file, writing at an offset or
// seeking a file open for writing, locks, and renaming over an existing file, with
// ErrUnsupported; Refused counts the refusals, so a test can check that none was attempted.
// Use it to check that code works on such storage. Safe for concurrent use.
type Strict struct {
	refused atomic.Int64
}

// ErrUnsupported is Strict's refusal.
var ErrUnsupported = errors.New("dirjournal: not supported by this storage (no locks, random writes or rename-over)")

// Refused returns how many operations were refused.
func (s *Strict) Refused() int64 { return s.refused.Load() }

func (s *Strict) refuse() error {
	s.refused.Add(1)
	return ErrUnsupported
}

// OpenFile opens a file for reading, creates one exclusively, or opens one for appending;
// any other write access is refused.
func (s *Strict) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	writing := flag&(os.O_WRONLY|os.O_RDWR) != 0
	if writing {
		exclusive := flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0
		appending := flag&os.O_APPEND != 0 && flag&os.O_TRUNC == 0 && flag&os.O_CREATE == 0
		if !exclusive && !appending {
			return nil, s.refuse()
		}
	}
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &strictFile{File: f, fs: s, writing: writing}, nil
}

// Rename renames a file unless newpath exists.
func (s *Strict) Rename(oldpath, newpath string) error {
	if _, err := os.Stat(newpath); err == nil {
		return s.refuse()
	}
	return os.Rename(oldpath, newpath)
}

// ReadDir calls os.ReadDir.
func (s *Strict) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }

// MkdirAll calls os.MkdirAll.
func (s *Strict) MkdirAll(path string, perm fs.FileMode) error { return os.MkdirAll(path, perm) }

// strictFile refuses writes at an offset, seeks while writing and locks.
type strictFile struct {
	*os.File
	fs      *Strict
	writing bool
}

func (f *strictFile) WriteAt([]byte, int64) (int, error) { return 0, f.fs.refuse() }

func (f *strictFile) Seek(offset int64, whence int) (int64, error) {
	if f.writing {
		return 0, f.fs.refuse()
	}
	return f.File.Seek(offset, whence)
}

// Lock is what a file lock would go through: refused.
func (f *strictFile) Lock() error { return f.fs.refuse() }
