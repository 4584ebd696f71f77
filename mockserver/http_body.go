package mockserver

import (
	"errors"
	"io"
	"net/http"
)

// maxBodyBytes bounds every request body. The largest legitimate body, a
// presence list diff, holds a few hundred user IDs in this much.
const maxBodyBytes = 64 << 10

// decodeBody is the one way a handler reads its body: it reads the body,
// decodes it and returns the buffer to the pool. On any failure it has
// already answered with the Matrix error, and the handler only returns.
// decode must copy whatever it keeps, since the buffer is reused.
func decodeBody[T any](s *Server, w http.ResponseWriter, r *http.Request, decode func([]byte) (T, *apiError)) (T, bool) {
	bp, err := s.readBody(w, r)
	if err != nil {
		writeError(w, err)
		var zero T
		return zero, false
	}
	v, err := decode(*bp)
	s.releaseBuffer(bp)
	if err != nil {
		writeError(w, err)
		return v, false
	}
	return v, true
}

// readBody reads the whole body into a buffer from the server's pool. The
// caller returns the buffer with s.releaseBuffer once nothing refers to it;
// every value decoded from it is a copy.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) (*[]byte, *apiError) {
	if r.ContentLength > maxBodyBytes {
		return nil, errTooLarge
	}
	// MaxBytesReader, not a plain limit, so that net/http also stops
	// reading the connection and closes it after the response.
	body := http.MaxBytesReader(w, r.Body, maxBodyBytes)
	bp := s.buffer()
	buf := (*bp)[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			*bp = buf
			s.releaseBuffer(bp)
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return nil, errTooLarge
			}
			return nil, errorf(http.StatusBadRequest, "M_UNKNOWN", "could not read the body: "+err.Error())
		}
	}
	*bp = buf
	return bp, nil
}

// The pool keeps response and body buffers across requests. Buffers that
// grew large (a long presence list) are dropped rather than kept forever.
const maxPooledBuffer = 64 << 10

func (s *Server) buffer() *[]byte {
	if bp, ok := s.buffers.Get().(*[]byte); ok {
		return bp
	}
	b := make([]byte, 0, 1024)
	return &b
}

func (s *Server) releaseBuffer(bp *[]byte) {
	if cap(*bp) > maxPooledBuffer {
		return
	}
	*bp = (*bp)[:0]
	s.buffers.Put(bp)
}
