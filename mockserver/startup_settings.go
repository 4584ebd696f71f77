package mockserver

import "net/http"

// The account settings a client reads at start, r0 and v3. The mock has
// no password change, no third-party IDs, no login tokens and no push, so
// it says so rather than let a client assume them: a capability the
// server leaves out means "yes" for m.change_password and m.3pid_changes.
// Room versions are left out: the mock's rooms hold no events, so no
// version applies to them, and a client then assumes version 1, which
// changes nothing here.

// capabilitiesBody is the same for every user.
var capabilitiesBody = []byte(`{"capabilities":{` +
	`"m.change_password":{"enabled":false},` +
	`"m.set_displayname":{"enabled":true},` +
	`"m.set_avatar_url":{"enabled":true},` +
	`"m.3pid_changes":{"enabled":false},` +
	`"m.get_login_token":{"enabled":false}}}`)

// getCapabilities serves GET /capabilities.
func (s *Server) getCapabilities(w http.ResponseWriter, r *http.Request, c call) {
	writeJSON(w, http.StatusOK, capabilitiesBody)
}

// emptyRuleset is the global push ruleset of every user: each of the five
// kinds present and empty. The mock sends no notifications, so it has no
// default rules to show; a client that adds its own defaults (as SDKs do)
// sees a well-formed set.
const emptyRuleset = `{"override":[],"content":[],"room":[],"sender":[],"underride":[]}`

var (
	pushRulesBody       = []byte(`{"global":` + emptyRuleset + `}`)
	globalPushRulesBody = []byte(emptyRuleset)
)

// getPushRules serves GET /pushrules/: every ruleset, of which the spec
// defines only global.
func (s *Server) getPushRules(w http.ResponseWriter, r *http.Request, c call) {
	writeJSON(w, http.StatusOK, pushRulesBody)
}

// getGlobalPushRules serves GET /pushrules/global/.
func (s *Server) getGlobalPushRules(w http.ResponseWriter, r *http.Request, c call) {
	writeJSON(w, http.StatusOK, globalPushRulesBody)
}
