package schemas

import (
	"embed"
	"io/fs"
)

// specFiles holds the seed document byte for byte (spec/v1/presence.yaml)
// beside the two files it $refs, which mxpresence writes itself from the
// facts of the v1 spec.
//
//go:embed spec
var specFiles embed.FS

// Files is the embedded spec tree, rooted at spec/.
func Files() fs.FS {
	sub, err := fs.Sub(specFiles, "spec")
	if err != nil {
		panic(err) // the embed directive above guarantees the folder
	}
	return sub
}

// SeedPath is the seed document's path inside Files.
const SeedPath = "v1/presence.yaml"

// LoadSeed loads the embedded seed document: the v1 presence API. Its Name,
// and the files its errors would name, are their paths in this repository.
func LoadSeed() (*Document, error) {
	return load(Files(), "/"+SeedPath, "schemas/spec/"+SeedPath)
}
