//go:build !unix

package sweep

// LockHeld reports false: without flock (run.TryLock) no lock is ever held.
func LockHeld(path string) (bool, error) { return false, nil }
