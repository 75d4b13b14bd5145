// Package atomicfile writes files whole or not at all: the one way curvprobe
// replaces a file that a reader or a resumed run may open at any moment
// (configs, checkpoints, summaries, logs rewritten on resume, weights, CSV
// exports, plots, datasets).
//
// Write creates a temporary file beside the target, named ".<name>.tmp<N>"
// with N a random decimal number, hands it to the caller's write function,
// syncs it, closes it, renames it over the target and syncs the directory,
// so that after Write returns nil the new file survives a crash and a
// reader sees either the old file or the new one, never a mixture. On any
// error the temporary file is removed and the target is left as it was.
// A writer killed between the create and the rename leaves the temporary
// file behind; TempPattern matches such names so that the owner of the
// directory (probe/run's resume, under its lock) can remove them.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
)

// Perm is the mode a file is created with, before the umask: readable by
// all, like the logs beside it, since runs are shared (os.CreateTemp's 0600
// would hide them from other users).
const Perm fs.FileMode = 0o644

// TempPattern is the regular expression, without anchors, that the
// temporary file of a target named name (already quoted with
// regexp.QuoteMeta, or a pattern of names) matches: TempPattern("a\\.json")
// matches ".a.json.tmp123".
func TempPattern(name string) string {
	return `\.(` + name + `)\.tmp[0-9]+`
}

// TempName returns a temporary file name for the target base name, in the
// form TempPattern matches.
func TempName(base string) string {
	return fmt.Sprintf(".%s.tmp%d", base, rand.Uint32())
}

// Write writes the file at path through write, atomically (see the package
// doc). An error from write is returned wrapped with the path, so that
// errors.Is sees it.
func Write(path string, write func(f *os.File) error) (err error) {
	f, err := create(path)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = write(f); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// WriteBytes writes b to the file at path atomically.
func WriteBytes(path string, b []byte) error {
	return Write(path, func(f *os.File) error { _, err := f.Write(b); return err })
}

// create creates a new temporary file beside path.
func create(path string) (*os.File, error) {
	dir, base := filepath.Split(path)
	for range 100 {
		f, err := os.OpenFile(filepath.Join(dir, TempName(base)), os.O_RDWR|os.O_CREATE|os.O_EXCL, Perm)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("%s: cannot create a temporary file beside it", path)
}

// syncDir makes a rename in dir durable. File systems that cannot sync a
// directory (EINVAL: some network and FUSE mounts) are not an error: the
// rename has happened, only its durability is the file system's.
func syncDir(dir string) error {
	if dir == "" {
		dir = "."
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil && !errors.Is(err, errors.ErrUnsupported) && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("syncing folder %s: %w", dir, err)
	}
	return nil
}
