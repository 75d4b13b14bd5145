// Package layout holds the test that keeps the package boundaries of
// DESIGN.md: which curvprobe packages each package may import.
//
// The rules of its table (allowed in layout_test.go):
//
//   - Every package of the module has a row, with the reason for any import
//     beyond DESIGN.md's table in a comment. A package without a row fails
//     the test, and so does a row whose package is gone: adding a package
//     means deciding what it may import.
//   - A row lists third-party module prefixes (they contain a dot, e.g.
//     "gonum.org/") and curvprobe packages by their path in the module
//     (e.g. "kernels"). A curvprobe entry allows that package and the
//     packages below it, except for "kernels" and "probe", whose
//     subpackages (backends, the run, test suites) must be listed one by one.
//   - "*" allows everything (bench and cmd/curvprobe sit on top).
//   - The standard library is always allowed, and so is cgo's "C".
//   - Only a package's own files are checked (go list's Imports), in every
//     build-tag set in buildTags (openblas links kernels/cpu/openblaslink):
//     tests may import anything as an oracle.
//   - The test fails if go list fails: it never skips itself.
package layout
