package main

import (
	"fmt"

	"github.com/mxpresence/mxpresence/schemas"
	"github.com/mxpresence/mxpresence/suite/client"
)

// useSpecDir makes the run validate responses against the official
// documents of a spec checkout (--spec DIR).
func useSpecDir(api client.API, dir string) (client.API, error) {
	official, err := schemas.LoadOfficial(dir)
	if err != nil {
		return api, fmt.Errorf("--spec %s: %w", dir, err)
	}
	withSpec, err := api.UseOfficial(official)
	if err != nil {
		return api, fmt.Errorf("--spec %s: %w", dir, err)
	}
	return withSpec, nil
}
