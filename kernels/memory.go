package kernels

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// MemInfo says how much memory a backend (or the host) can still allocate.
type MemInfo struct {
	// Available and Total are in bytes: what can still be allocated now
	// (the host's MemAvailable, a GPU's free memory) and all there is.
	Available, Total int64
	// Host is true when the memory is the host's (the CPU backend): host
	// copies of parameters and data then draw on the same memory.
	Host bool
	// Where names the memory for messages: "this machine" or "the GPU cuda:0".
	Where string
}

// MemoryReporter is implemented by backends that can say how much memory
// they can still allocate, so that callers can refuse a size before
// allocating it rather than crash.
type MemoryReporter interface {
	MemInfo() (MemInfo, error)
}

// meminfoPath is the Linux file HostMemInfo reads.
const meminfoPath = "/proc/meminfo"

// HostMemInfo returns the host's available and total memory from
// /proc/meminfo (MemAvailable and MemTotal), or an error where they cannot
// be read (not Linux).
func HostMemInfo() (MemInfo, error) {
	f, err := os.Open(meminfoPath)
	if err != nil {
		return MemInfo{}, err
	}
	defer f.Close()
	return parseMeminfo(f)
}

// parseMeminfo reads MemAvailable and MemTotal from a /proc/meminfo.
func parseMeminfo(r io.Reader) (MemInfo, error) {
	mi := MemInfo{Host: true, Where: "this machine"}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		// MemTotal:       24514624 kB
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "MemTotal" && name != "MemAvailable") {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			continue
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil || kb <= 0 || kb > 1<<53 {
			continue
		}
		if name == "MemTotal" {
			mi.Total = kb << 10
		} else {
			mi.Available = kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		return MemInfo{}, fmt.Errorf("%s: %w", meminfoPath, err)
	}
	if mi.Total == 0 || mi.Available == 0 {
		return MemInfo{}, errors.New(meminfoPath + ": no MemTotal and MemAvailable")
	}
	return mi, nil
}
