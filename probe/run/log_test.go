package run

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// fullDisk is a log file on a disk that fills up after room more bytes: a
// write past it writes what fits and fails with ENOSPC, as write(2) does.
type fullDisk struct {
	*os.File
	room int
}

func (d *fullDisk) Write(b []byte) (int, error) {
	if len(b) <= d.room {
		d.room -= len(b)
		return d.File.Write(b)
	}
	n, err := d.File.Write(b[:d.room])
	d.room = 0
	if err != nil {
		return n, err
	}
	return n, syscall.ENOSPC
}

// A record that does not fit on the disk is not logged at all: the log
// keeps its whole records and stays valid JSON Lines (no torn last line
// waiting for a resume to mend it), and the error says which step was lost.
func TestLogWriterNeverTearsALine(t *testing.T) {
	path := filepath.Join(t.TempDir(), LogFile)
	w, err := OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	gn := 0.5
	for s := range 3 {
		if err := w.Write(&Record{Step: s, Loss: 1, LR: 0.1, GradNorm: &gn}); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := os.ReadFile(path)
	w.f = &fullDisk{File: w.f.(*os.File), room: 10}
	err = w.Write(&Record{Step: 3, Loss: 1, LR: 0.1, GradNorm: &gn})
	if err == nil || !strings.Contains(err.Error(), "step 3") || !strings.Contains(err.Error(), "no space") {
		t.Errorf("a record past a full disk: %v; want an error naming step 3 and the full disk", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Errorf("the log after a failed write:\n%s\nwant the whole records before it:\n%s", after, before)
	}
	// Room again: the next record follows the whole ones.
	w.f.(*fullDisk).room = 1 << 20
	if err := w.Write(&Record{Step: 4, Loss: 1, LR: 0.1, GradNorm: &gn}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	recs, err := readLogStrict(b)
	if err != nil || len(recs) != 4 || recs[3].Step != 4 {
		t.Errorf("log after the disk had room again: %d records, %v\n%s", len(recs), err, b)
	}
}

// readLogStrict parses every line of a JSON Lines log, the last included.
func readLogStrict(b []byte) ([]Record, error) {
	var recs []Record
	for _, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return recs, err
		}
		recs = append(recs, r)
	}
	return recs, nil
}
