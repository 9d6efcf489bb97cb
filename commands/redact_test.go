package commands_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/statesrv/statesrv/commands"
)

func TestKeyNeverStored(t *testing.T) {
	for _, tc := range []struct{ name, line, want string }{
		{"LineKeyRedacted", "#id=26;state=OK;key=s3cret;msg=x", "#id=26;state=OK;key=***;msg=x"},
		{"UpperCaseKeyRedacted", "#id=26; KEY = s3cret ;state=OK", "#id=26; KEY =***;state=OK"},
		{"MalformedLineRedacted", "id=26;key=s3cret", "id=26;key=***"},
		{"OtherKeysKept", "#id=26;state=OK;monkey=banana", "#id=26;state=OK;monkey=banana"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := commands.ParseLine(tc.line)
			if r.Line != tc.want {
				t.Fatalf("Line = %q, want %q", r.Line, tc.want)
			}
			if strings.Contains(tc.line, "s3cret") && r.Key != "s3cret" && !strings.HasPrefix(tc.line, "id=") {
				t.Fatalf("Key = %q, want the key still parsed", r.Key)
			}
		})
	}
	t.Run("PingKeyRedacted", func(t *testing.T) {
		q := url.Values{"key": {"s3cret"}, "msg": {"hi"}}
		r, err := commands.ParsePing("26", "OK", q, "", "GET /ping/26/OK?key=s3cret&msg=hi")
		if err != nil || r.Key != "s3cret" || r.Line != "GET /ping/26/OK?key=***&msg=hi" {
			t.Fatalf("ParsePing = %+v, %v", r, err)
		}
	})
	// Found by FuzzParsePing: names that unescape, or trim, to "key" are
	// taken as the key, so they are redacted too.
	for _, tc := range []struct{ name, query, want string }{
		{"PingEscapedKeyRedacted", "%6Bey=s3cret&msg=hi", "%6Bey=***&msg=hi"},
		{"PingEscapedMiddleRedacted", "k%65y=s3cret&msg=hi", "k%65y=***&msg=hi"},
		{"PingEscapedValueRedacted", "key=s%33cret", "key=***"},
		{"PingBlankAroundKeyRedacted", "key+=s3cret&msg=hi", "key+=***&msg=hi"},
		{"PingEscapedBlankKeyRedacted", "%20KEY%09=s3cret", "%20KEY%09=***"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, _ := url.ParseQuery(tc.query)
			r, err := commands.ParsePing("26", "OK", q, "", "GET /ping/26/OK?"+tc.query)
			if err != nil || r.Key != "s3cret" || r.Line != "GET /ping/26/OK?"+tc.want {
				t.Fatalf("ParsePing = %+v, %v", r, err)
			}
		})
	}
}
