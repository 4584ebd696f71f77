package mockserver

import (
	"net/http"
	"strings"
)

// Room IDs are "!" opaque_id ":" server_name and room aliases "#" localpart
// ":" server_name, each at most 255 bytes. As with user IDs, the first ":"
// ends the first part, which is any printable ASCII but ":".

const maxRoomIDLength = 255

func validRoomID(id string) bool { return validSigilled(id, '!') }

func validRoomAlias(alias string) bool { return validSigilled(alias, '#') }

func validSigilled(id string, sigil byte) bool {
	if len(id) > maxRoomIDLength || len(id) < 2 || id[0] != sigil {
		return false
	}
	opaque, serverName, found := strings.Cut(id[1:], ":")
	return found && validHistoricalLocalpart(opaque) && validServerName(serverName)
}

// validRoomPathParam checks a room path parameter by its kind.
func validRoomPathParam(kind roomParam, id string) bool {
	if kind == roomIDOrAliasParam {
		return validRoomID(id) || validRoomAlias(id)
	}
	return validRoomID(id)
}

// badRoomParam is the 400 for a malformed room path parameter.
func badRoomParam(kind roomParam, id string) *apiError {
	if kind == roomIDOrAliasParam {
		return errorf(http.StatusBadRequest, "M_INVALID_PARAM",
			"roomIdOrAlias: "+quoteForMessage(id)+" is not a Matrix room ID (!opaque:server.name) or room alias (#alias:server.name)")
	}
	return errorf(http.StatusBadRequest, "M_INVALID_PARAM",
		"roomId: "+quoteForMessage(id)+" is not a Matrix room ID (!opaque:server.name)")
}
