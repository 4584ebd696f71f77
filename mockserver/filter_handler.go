package mockserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// A storedFilter is an uploaded filter: decoded for use, and the text as
// uploaded (compacted) to give back, members the mock does not know kept.
type storedFilter struct {
	filter *syncFilter
	text   []byte
}

// filterKey finds a filter: IDs are the owner's, so the same ID under
// another user finds nothing.
type filterKey struct {
	owner *user
	id    string
}

// uploadedFilter is the body of POST /user/{userId}/filter, decoded.
type uploadedFilter struct {
	filter *syncFilter
	text   []byte
}

func decodeUploadedFilter(body []byte) (uploadedFilter, *apiError) {
	f, err := decodeFilter(body, "the filter")
	if err != nil {
		return uploadedFilter{}, err
	}
	var text bytes.Buffer
	json.Compact(&text, body) // valid: decodeFilter checked
	return uploadedFilter{filter: f, text: text.Bytes()}, nil
}

// postFilter serves POST /user/{userId}/filter: a user uploads filters for
// themself alone. IDs are decimal numbers, never starting with "{", which
// marks an inline filter.
func (s *Server) postFilter(w http.ResponseWriter, r *http.Request, c call) {
	if c.userID != c.viewer.id {
		writeError(w, errorf(http.StatusForbidden, "M_FORBIDDEN", "you cannot upload a filter for another user"))
		return
	}
	up, ok := decodeBody(s, w, r, decodeUploadedFilter)
	if !ok {
		return
	}
	id := strconv.FormatUint(s.lastFilterID.Add(1), 10)
	s.filters.Store(filterKey{c.viewer, id}, &storedFilter{filter: up.filter, text: up.text})
	buf := make([]byte, 0, 32)
	buf = append(buf, `{"filter_id":`...)
	buf = appendString(buf, id)
	writeJSON(w, http.StatusOK, append(buf, '}'))
}

// getFilter serves GET /user/{userId}/filter/{filterId} to the filter's
// owner.
func (s *Server) getFilter(w http.ResponseWriter, r *http.Request, c call) {
	if c.userID != c.viewer.id {
		writeError(w, errorf(http.StatusForbidden, "M_FORBIDDEN", "you cannot read another user's filters"))
		return
	}
	f := s.filterByID(c.viewer, filterIDFromPath(r))
	if f == nil {
		writeError(w, errNoFilter)
		return
	}
	writeJSON(w, http.StatusOK, f.text)
}

var errNoFilter = errorf(http.StatusNotFound, "M_NOT_FOUND", "there is no filter with that ID for this user")

func (s *Server) filterByID(owner *user, id string) *storedFilter {
	if v, ok := s.filters.Load(filterKey{owner, id}); ok {
		return v.(*storedFilter)
	}
	return nil
}

// filterIDFromPath is the path's last segment, decoded: routing matched
// {filterId} there.
func filterIDFromPath(r *http.Request) string {
	p := r.URL.EscapedPath()
	seg := p[strings.LastIndexByte(p, '/')+1:]
	if id, err := url.PathUnescape(seg); err == nil {
		return id
	}
	return seg
}

// syncFilterParam reads the filter query parameter of /sync: inline JSON
// when it starts with "{", else the ID of one of the caller's filters.
func (s *Server) syncFilterParam(viewer *user, param string, given bool) (*syncFilter, *apiError) {
	if !given {
		return nil, nil
	}
	if strings.HasPrefix(param, "{") {
		return decodeFilter([]byte(param), "filter")
	}
	f := s.filterByID(viewer, param)
	if f == nil {
		return nil, errorf(http.StatusBadRequest, "M_INVALID_PARAM", "filter: you have no filter with ID "+quoteForMessage(param))
	}
	return f.filter, nil
}
