package auth

import (
	"reflect"
	"strings"
	"testing"
)

func TestSettingsFrom(t *testing.T) {
	props := map[string]string{
		"profile": "prod", "authscheme": "DeviceCode", "initiateoauth": "REFRESH", "tenant": "contoso",
		"oauthclientid": "app", "oauthclientsecret": "s3cret", "oauthaccesstoken": "at", "oauthrefreshtoken": "rt",
		"oauthsettingslocation": "memory://", "callbackurl": "http://127.0.0.1:8400/cb",
		"scope": "Tasks.Read, Group.Read.All\tUser.Read", "authorityurl": "https://login.example", "graphurl": "https://graph.example/v1.0",
	}
	get := func(name string) (string, bool) { v, ok := props[strings.ToLower(name)]; return v, ok }
	got := SettingsFrom(get, nil)
	want := Settings{Profile: "prod", AuthScheme: "DeviceCode", InitiateOAuth: "REFRESH", Tenant: "contoso",
		ClientID: "app", ClientSecret: "s3cret", AccessToken: "at", RefreshToken: "rt", Location: "memory://",
		CallbackURL: "http://127.0.0.1:8400/cb", Scopes: []string{"Tasks.Read", "Group.Read.All", "User.Read"},
		AuthorityURL: "https://login.example", GraphURL: "https://graph.example/v1.0"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SettingsFrom:\n got %+v\nwant %+v", got, want)
	}
}
