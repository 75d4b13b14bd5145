//go:build !unix

package sweep

// lockRun does not lock on systems without flock: processes sharing a
// sweep directory must then be given disjoint shards.
func lockRun(path string) (unlock func(), ok bool, err error) {
	return func() {}, true, nil
}
