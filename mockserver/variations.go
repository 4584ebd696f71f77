package mockserver

// variations lists the legitimate variations; see Deviation.
func variations() []Deviation { return nil }
