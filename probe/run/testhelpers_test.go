package run

// probedRecords returns the records of recs written on probed steps, in
// order.
func probedRecords(recs []Record) []Record {
	var probed []Record
	for _, r := range recs {
		if r.Probed() {
			probed = append(probed, r)
		}
	}
	return probed
}
