// Package layout holds the test that keeps the package boundaries of
// DESIGN.md: which curvprobe packages each package may import.
package layout
