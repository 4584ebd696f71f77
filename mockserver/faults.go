package mockserver

// faults lists the faults; see Deviation.
func faults() []Deviation { return nil }
