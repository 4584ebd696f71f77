package mockserver

import (
	"net/http"
	"strings"
)

// specReleases are the spec releases each mounted API version serves the
// calls of, as a client of that release makes them: presence as that
// release defines it, accounts, the rooms visibility needs, the start-up
// calls. The r0 releases before r0.5.0 are not listed: they still had
// presence lists, which the mock's r0 (r0.6.1's presence API) does not
// mount. v3 is Matrix v1.1's presence API; later releases add calls a
// client of them may rely on that the mock lacks. v1 predates /versions.
var specReleases = map[string][]string{
	"r0": {"r0.5.0", "r0.6.0", "r0.6.1"},
	"v3": {"v1.1"},
}

// versionsBody lists the releases of every mounted version, oldest first.
func versionsBody(versions []*apiVersion) []byte {
	var listed []string
	for _, v := range versions {
		for _, release := range specReleases[v.name] {
			listed = append(listed, `"`+release+`"`)
		}
	}
	return []byte(`{"versions":[` + strings.Join(listed, ",") + `],"unstable_features":{}}`)
}

// getVersions serves GET /_matrix/client/versions, which needs no token.
func (s *Server) getVersions(w http.ResponseWriter, r *http.Request, c call) {
	writeJSON(w, http.StatusOK, s.versionsBody)
}
