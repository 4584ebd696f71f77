package federation

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	mfed "maunium.net/go/mautrix/federation"
)

type timeT = time.Time

var farFuture = time.Now().Add(24 * time.Hour)

// unsignedGet is a GET of a federation path with no Authorization header.
func unsignedGet(path mfed.URLPath) *http.Request {
	u := "/_matrix/federation"
	for _, part := range path {
		u += "/" + fmt.Sprint(part)
	}
	return httptest.NewRequest(http.MethodGet, u, nil)
}
