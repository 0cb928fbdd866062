package dirjournal

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// FS is the storage a journal directory lives on. The journal uses only what storage without
// locks, random writes or rename-over (a FUSE mount of object storage, NFS) offers: it creates
// files exclusively (os.O_CREATE|os.O_EXCL) and writes them once from the start, appends to
// its own lease file (os.O_APPEND), reads files whole and lists the directory. It never
// rewrites, truncates, seeks while writing, locks or renames. The methods mirror package os so
// that a test can put a shim in between that refuses everything else.
type FS interface {
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	Rename(oldpath, newpath string) error
	ReadDir(name string) ([]fs.DirEntry, error)
	MkdirAll(path string, perm fs.FileMode) error
}

// File is an open file of an FS.
type File interface {
	io.Reader
	io.Writer
	io.WriterAt
	io.Seeker
	Sync() error
	Close() error
}

// OS is the local file system (package os).
type OS struct{}

// OpenFile calls os.OpenFile.
func (OS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Rename calls os.Rename.
func (OS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// ReadDir calls os.ReadDir.
func (OS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }

// MkdirAll calls os.MkdirAll.
func (OS) MkdirAll(path string, perm fs.FileMode) error { return os.MkdirAll(path, perm) }

// writeOnce creates name exclusively and writes data to it once, durably. An existing file is
// fs.ErrExist.
func writeOnce(fsys FS, name string, data []byte) error {
	f, err := fsys.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	return writeClose(f, data)
}

// writeClose writes data to f, syncs and closes it.
func writeClose(f File, data []byte) error {
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readFile reads name whole.
func readFile(fsys FS, name string) ([]byte, error) {
	f, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// join is filepath.Join, named for readability at call sites.
func join(dir, name string) string { return filepath.Join(dir, name) }
