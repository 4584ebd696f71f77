//go:build !goexperiment.jsonv2 && !go1.27

package federation

import (
	"github.com/mxpresence/mxpresence/mockserver/federation/fedtest"
	"net/http"
	"testing"

	mfed "maunium.net/go/mautrix/federation"
)

// TestJoinsSayWhyTheyAreMissing: a build without encoding/json/v2 has no
// joins, and says how to get them, after the signature check.
func TestJoinsSayWhyTheyAreMissing(t *testing.T) {
	home := newFakeHome("localhost")
	home.addRoom("!room:localhost", "@alice:localhost", true)
	f := newMock(t, home, Tweaks{})
	p := fedtest.NewPeer(t, f.Handler())
	rec := serve(f.Handler(), p.Signed("localhost", http.MethodGet, mfed.URLPath{"v1", "make_join", "!room:localhost", "@bob:" + p.Name}, map[string][]string{"ver": {"10"}}, nil))
	wantError(t, rec, http.StatusNotFound, "M_UNRECOGNIZED")
	if got := home.members("!room:localhost"); len(got) != 1 {
		t.Fatalf("members %v", got)
	}
}
