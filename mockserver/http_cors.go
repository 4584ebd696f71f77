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
	// The methods the spec recommends, for paths the mock does not serve.
	specMethods = []string{"GET, POST, PUT, DELETE, OPTIONS"}
)

// writePreflight answers a CORS preflight (OPTIONS) on any path, served
// (rt, naming the route's methods) or not (rt nil). It needs no access
// token, since browsers send preflights without credentials, and does
// nothing the path's methods do, as the spec requires.
func writePreflight(w http.ResponseWriter, rt *route) {
	h := w.Header()
	if rt != nil {
		h["Access-Control-Allow-Methods"] = rt.allow
	} else {
		h["Access-Control-Allow-Methods"] = specMethods
	}
	h["Access-Control-Allow-Headers"] = allowedHeaders
	writeJSON(w, http.StatusOK, emptyObject)
}
