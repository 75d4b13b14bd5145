//go:build !unix

package run

import "os"

// TryLock does not lock on systems without flock: it opens (creating) path
// and reports ok. Processes sharing a run or sweep directory must then be
// kept apart by hand (disjoint sweep shards, one train per run directory).
func TryLock(path string) (f *os.File, unlock func(), ok bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, false, err
	}
	return f, func() { f.Close() }, true, nil
}
