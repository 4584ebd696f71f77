package mockserver

import "net/http"

// versionsBody lists the spec versions whose rules the mock serves: the r0
// releases under /r0 and Matrix v1.1 under /v3, whose presence API is
// r0.6.1's. v1 predates /versions, so it is not listed.
var versionsBody = []byte(`{"versions":["r0.0.1","r0.1.0","r0.2.0","r0.3.0","r0.4.0","r0.5.0","r0.6.0","r0.6.1","v1.1"],"unstable_features":{}}`)

// getVersions serves GET /_matrix/client/versions, which needs no token.
func (s *Server) getVersions(w http.ResponseWriter, r *http.Request, c call) {
	writeJSON(w, http.StatusOK, versionsBody)
}
