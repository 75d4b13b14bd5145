//go:build unix

package run

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// TryLock takes an exclusive, non-blocking flock on path, creating the file
// if needed. ok is false when another process (or another open of the file
// in this process) holds it. The lock goes with the process, however it
// ends, so a killed writer leaves no stale lock; the file itself stays.
// Where the file system does not support locks (some network file systems)
// it proceeds unlocked. f is the locked file, open for reading and writing,
// for the holder to describe itself in; unlock releases the lock and closes
// f.
func TryLock(path string) (f *os.File, unlock func(), ok bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, nil, false, nil
		}
		if errors.Is(err, syscall.ENOLCK) || errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EOPNOTSUPP) {
			return f, func() { f.Close() }, true, nil
		}
		f.Close()
		return nil, nil, false, fmt.Errorf("locking %s: %w", path, err)
	}
	return f, func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, true, nil
}
