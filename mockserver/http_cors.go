package mockserver

import "net/http"

// Header values set on every response. They are shared by all responses
// and never written to, which saves the hot paths an allocation each.
var (
	contentTypeJSON = []string{"application/json"}
	// Matrix clients run in browsers on other origins; the spec asks
	// servers to allow them all.
	allowAnyOrigin = []string{"*"}
	allowedHeaders = []string{"Origin, X-Requested-With, Content-Type, Accept, Authorization"}
)

// writePreflight answers a CORS preflight (OPTIONS) for a known path. It
// needs no access token: browsers send preflights without credentials.
func writePreflight(w http.ResponseWriter, rt *route) {
	h := w.Header()
	h["Access-Control-Allow-Methods"] = rt.allow
	h["Access-Control-Allow-Headers"] = allowedHeaders
	writeJSON(w, http.StatusOK, emptyObject)
}
