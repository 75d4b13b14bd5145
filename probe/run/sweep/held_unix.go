//go:build unix

package sweep

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// LockHeld reports whether a process holds the flock on path (run.TryLock),
// without creating the file. It tests with a shared lock, released at once:
// a `sweep run` that tries the run's lock in that instant waits and tries
// again (Execute), so reading a sweep's progress never makes it skip a run.
// Where the file system has no locks, nothing is held.
func LockHeld(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	defer f.Close()
	switch err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); {
	case err == nil:
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return false, nil
	case errors.Is(err, syscall.EWOULDBLOCK):
		return true, nil
	case errors.Is(err, syscall.ENOLCK) || errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EOPNOTSUPP):
		return false, nil
	default:
		return false, fmt.Errorf("testing the lock %s: %w", path, err)
	}
}
