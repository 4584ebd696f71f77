package federation

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"

	mfed "maunium.net/go/mautrix/federation"
)

// keyFromSeed makes the signing key of a seed, through the library's
// parser of Synapse's key files so that the key pair is the library's own.
// Its ID names the key's first bytes, as a fresh key's does.
func keyFromSeed(seed []byte) *mfed.SigningKey {
	k, err := mfed.ParseSynapseKey("ed25519 seed " + base64.RawStdEncoding.EncodeToString(seed))
	if err != nil {
		panic("federation: a 32-byte seed did not parse: " + err.Error())
	}
	pub, _ := base64.RawStdEncoding.DecodeString(string(k.Pub))
	k, _ = mfed.ParseSynapseKey("ed25519 " + base64.RawURLEncoding.EncodeToString(pub[:4]) + " " + base64.RawStdEncoding.EncodeToString(seed))
	return k
}

// keyResponse is the body of GET /_matrix/key/v2/server: the key,
// self-signed by the library, valid for a day. It is made once: a mock
// lives shorter than that.
func keyResponse(name string, key *mfed.SigningKey) ([]byte, error) {
	body, err := json.Marshal(key.GenerateKeyResponse(name, nil))
	if err != nil {
		return nil, fmt.Errorf("federation: the key response: %w", err)
	}
	return body, nil
}

func (f *Federation) getServerKey(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, f.keyBody)
}

var versionBody = []byte(`{"server":{"name":"mxpresence mock","version":"1"}}`)

func (f *Federation) getVersion(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, versionBody)
}
