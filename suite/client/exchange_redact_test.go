package client_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/mxpresence/mxpresence/suite/client"
)

// An exchange is shown in failure messages and reports that get shared, so
// no token may show, whichever separator came before it: url.Query drops a
// pair holding ";", so redaction cannot rest on it.
func TestExchangeRedactsTokensWhateverTheSeparator(t *testing.T) {
	for raw, want := range map[string]string{
		"http://h/p?x=1;access_token=live-token":           "http://h/p?x=1;access_token=REDACTED",
		"http://h/p?access_token=live-token;x=1":           "http://h/p?access_token=REDACTED;x=1",
		"http://h/p?x=1&access%5Ftoken=live-token;y=2":     "http://h/p?x=1&access_token=REDACTED;y=2",
		"http://h/p?x=%zz;access_token=live-token":         "http://h/p?x=%zz;access_token=REDACTED",
		"http://h/p?access_token%3Dlive-token&since=s1":    "http://h/p?access_token=REDACTED&since=s1",
		"http://h/p?since=s1;timeout=0":                    "http://h/p?since=s1;timeout=0",
		"http://h/p?access_token=live-token&access_token=": "http://h/p?access_token=REDACTED&access_token=",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		ex := client.Exchange{Request: client.RecordedRequest{Method: "GET", URL: u}}
		shown := ex.String()
		if strings.Contains(shown, "live-token") || !strings.Contains(shown, "--> GET "+want+"\n") {
			t.Errorf("%s shown as:\n%s\nwant the request line GET %s", raw, shown, want)
		}
	}
}
