package mockserver

import "net/http"

// The account bodies of r0 and v3 (POST /register with user-interactive
// auth, POST /login with an identifier) and of shared-secret registration,
// decoded under the same conventions as the rest: unknown members are
// ignored, a member given twice is refused, a wrong type is M_BAD_JSON
// naming the field.

// A field is a member a decoder wants, kept raw until its type is checked.
type field struct {
	name string
	raw  *[]byte
}

// readFields collects the named members of an object, refusing any given
// twice; members not named are ignored. within names the object in error
// messages ("auth."), empty for the body itself.
func readFields(obj objectReader, within string, fields ...field) *apiError {
	for key, value, ok := obj.next(); ok; key, value, ok = obj.next() {
		for _, f := range fields {
			if !keyIs(key, f.name) {
				continue
			}
			if *f.raw != nil {
				return duplicate(within + f.name)
			}
			*f.raw = value
			break
		}
	}
	return nil
}

// boolField decodes a boolean field; present is false when absent.
func boolField(name string, raw []byte) (value, present bool, err *apiError) {
	if raw == nil {
		return false, false, nil
	}
	switch raw[0] {
	case 't':
		return true, true, nil
	case 'f':
		return false, true, nil
	}
	return false, true, wrongType(name, "a boolean", raw)
}

// requiredString decodes a string field that must be there.
func requiredString(name string, raw []byte) (string, *apiError) {
	s, present, err := stringField(name, raw)
	if err != nil {
		return "", err
	}
	if !present {
		return "", badJSON(name + ": missing; it is required")
	}
	return s, nil
}

// nonEmpty refuses an empty string given for a field that must have one.
func nonEmpty(name, value string, present bool) *apiError {
	if present && value == "" {
		return badJSON(name + ": must not be empty")
	}
	return nil
}

// objectMembers starts reading a field that must be an object.
func objectMembers(name string, raw []byte) (objectReader, *apiError) {
	obj, ok := readObject(raw)
	if !ok {
		return objectReader{}, wrongType(name, "an object", raw)
	}
	return obj, nil
}

// interactiveRegistration is the body of POST /register in r0 and v3.
// Whether the password must be there depends on how far the
// user-interactive auth has got, so absence is reported, not refused.
type interactiveRegistration struct {
	username, password, deviceID string
	hasUsername, hasPassword     bool
	hasDeviceID, inhibitLogin    bool
	hasAuth                      bool
	authType, authSession        string // from auth; empty when absent
	hasAuthType, hasAuthSession  bool
}

func decodeInteractiveRegistration(body []byte) (interactiveRegistration, *apiError) {
	var reg interactiveRegistration
	obj, err := startObject(body)
	if err != nil {
		return reg, err
	}
	var username, password, deviceID, displayName, inhibit, auth []byte
	if err := readFields(obj, "",
		field{"username", &username}, field{"password", &password}, field{"device_id", &deviceID},
		field{"initial_device_display_name", &displayName}, field{"inhibit_login", &inhibit}, field{"auth", &auth},
	); err != nil {
		return reg, err
	}
	if reg.username, reg.hasUsername, err = stringField("username", username); err != nil {
		return reg, err
	}
	if reg.password, reg.hasPassword, err = stringField("password", password); err != nil {
		return reg, err
	}
	if err := nonEmpty("password", reg.password, reg.hasPassword); err != nil {
		return reg, err
	}
	if reg.deviceID, reg.hasDeviceID, err = stringField("device_id", deviceID); err != nil {
		return reg, err
	}
	if err := nonEmpty("device_id", reg.deviceID, reg.hasDeviceID); err != nil {
		return reg, err
	}
	if _, _, err = stringField("initial_device_display_name", displayName); err != nil {
		return reg, err
	}
	if reg.inhibitLogin, _, err = boolField("inhibit_login", inhibit); err != nil {
		return reg, err
	}
	if auth == nil {
		return reg, nil
	}
	reg.hasAuth = true
	authObj, err := objectMembers("auth", auth)
	if err != nil {
		return reg, err
	}
	var authType, session []byte
	if err := readFields(authObj, "auth.", field{"type", &authType}, field{"session", &session}); err != nil {
		return reg, err
	}
	if reg.authType, reg.hasAuthType, err = stringField("auth.type", authType); err != nil {
		return reg, err
	}
	if reg.authSession, reg.hasAuthSession, err = stringField("auth.session", session); err != nil {
		return reg, err
	}
	return reg, nil
}

// identifiedLogin is the body of POST /login in r0 and v3. The user is
// named in identifier (m.id.user), in the deprecated top-level user, or in
// both, which the handler checks agree.
type identifiedLogin struct {
	identifierUser, legacyUser   string
	hasIdentifier, hasLegacyUser bool
	password, deviceID           string
	hasDeviceID                  bool
}

// errUnknownIdentifier answers an identifier type other than m.id.user.
var errUnknownIdentifier = errorf(http.StatusBadRequest, "M_UNKNOWN", "unknown identifier type: only m.id.user is supported")

func decodeIdentifiedLogin(body []byte) (identifiedLogin, *apiError) {
	var l identifiedLogin
	obj, err := startObject(body)
	if err != nil {
		return l, err
	}
	var loginType, identifier, user, password, deviceID, displayName []byte
	if err := readFields(obj, "",
		field{"type", &loginType}, field{"identifier", &identifier}, field{"user", &user},
		field{"password", &password}, field{"device_id", &deviceID}, field{"initial_device_display_name", &displayName},
	); err != nil {
		return l, err
	}
	// The login type is judged first, as in v1: the other fields mean
	// something only for a type the server knows.
	if !(credentials{loginType: loginType}).isPasswordLogin() {
		return l, errBadLoginType
	}
	if l.password, err = requiredString("password", password); err != nil {
		return l, err
	}
	if err := nonEmpty("password", l.password, true); err != nil {
		return l, err
	}
	if identifier != nil {
		l.hasIdentifier = true
		idObj, err := objectMembers("identifier", identifier)
		if err != nil {
			return l, err
		}
		var idType, idUser []byte
		if err := readFields(idObj, "identifier.", field{"type", &idType}, field{"user", &idUser}); err != nil {
			return l, err
		}
		t, err := requiredString("identifier.type", idType)
		if err != nil {
			return l, err
		}
		if t != "m.id.user" {
			return l, errUnknownIdentifier
		}
		if l.identifierUser, err = requiredString("identifier.user", idUser); err != nil {
			return l, err
		}
	}
	if l.legacyUser, l.hasLegacyUser, err = stringField("user", user); err != nil {
		return l, err
	}
	if !l.hasIdentifier && !l.hasLegacyUser {
		return l, badJSON("identifier: missing; it is required")
	}
	if l.deviceID, l.hasDeviceID, err = stringField("device_id", deviceID); err != nil {
		return l, err
	}
	if err := nonEmpty("device_id", l.deviceID, l.hasDeviceID); err != nil {
		return l, err
	}
	if _, _, err = stringField("initial_device_display_name", displayName); err != nil {
		return l, err
	}
	return l, nil
}

// adminRegistration is the body of POST /_synapse/admin/v1/register.
type adminRegistration struct {
	nonce, username, password, mac string
	admin                          bool
	userType                       string
	hasUserType                    bool
}

func decodeAdminRegistration(body []byte) (adminRegistration, *apiError) {
	var a adminRegistration
	obj, err := startObject(body)
	if err != nil {
		return a, err
	}
	var nonce, username, password, admin, mac, userType []byte
	if err := readFields(obj, "",
		field{"nonce", &nonce}, field{"username", &username}, field{"password", &password},
		field{"admin", &admin}, field{"mac", &mac}, field{"user_type", &userType},
	); err != nil {
		return a, err
	}
	for _, f := range []struct {
		name string
		raw  []byte
		into *string
	}{{"nonce", nonce, &a.nonce}, {"username", username, &a.username}, {"password", password, &a.password}, {"mac", mac, &a.mac}} {
		if *f.into, err = requiredString(f.name, f.raw); err != nil {
			return a, err
		}
	}
	if err := nonEmpty("password", a.password, true); err != nil {
		return a, err
	}
	if a.admin, _, err = boolField("admin", admin); err != nil {
		return a, err
	}
	// user_type may be null, meaning none, as the admin API's clients send it.
	if userType != nil && userType[0] != 'n' {
		if a.userType, a.hasUserType, err = stringField("user_type", userType); err != nil {
			return a, err
		}
	}
	return a, nil
}
