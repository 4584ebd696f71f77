package schemas

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// specFiles holds the seed document byte for byte (spec/v1/presence.yaml)
// beside the two files it $refs, and the r0 and v3 documents; all but the
// seed are written by mxpresence itself from the facts of the Matrix spec.
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

// Versions are the API versions with an embedded document, oldest first.
var Versions = []string{"v1", "r0", "v3"}

// LoadVersion loads the embedded document of an API version: v1 (the
// seed), r0 (as of r0.6.1) or v3 (as of Matrix v1.1).
func LoadVersion(version string) (*Document, error) {
	switch version {
	case "v1":
		return LoadSeed()
	case "r0", "v3":
		file := version + "/presence.yaml"
		return load(Files(), "/"+file, "schemas/spec/"+file)
	}
	return nil, fmt.Errorf("no embedded document for API version %q; there are %v", version, Versions)
}

// LoadVersionDocument loads one of an API version's embedded documents by
// name: "presence" is LoadVersion's, and each other spec/<version>/<name>.yaml
// (sync, filter, the calls a client makes at start...) is one more part of
// the same API, written from the spec's facts like the rest.
func LoadVersionDocument(version, name string) (*Document, error) {
	if name == "presence" {
		return LoadVersion(version)
	}
	names, err := VersionDocuments(version)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(names, name) {
		return nil, fmt.Errorf("no embedded %s document for API version %s; there are %v", name, version, names)
	}
	file := version + "/" + name + ".yaml"
	return load(Files(), "/"+file, "schemas/spec/"+file)
}

// VersionDocuments names an API version's embedded documents, sorted.
func VersionDocuments(version string) ([]string, error) {
	if !slices.Contains(Versions, version) {
		return nil, fmt.Errorf("no embedded documents for API version %q; there are %v", version, Versions)
	}
	entries, err := fs.ReadDir(Files(), version)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
			names = append(names, name)
		}
	}
	return names, nil
}
