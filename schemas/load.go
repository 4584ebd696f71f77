package schemas

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-openapi/spec"
	"github.com/go-openapi/swag/yamlutils"
)

// LoadError says which file, and where in it, could not be loaded.
type LoadError struct {
	File    string // as the caller named it, or as a $ref reached it
	Pointer string // JSON pointer inside File; empty when the whole file is at fault
	Err     error
}

func (e *LoadError) Error() string {
	where := e.File
	if e.Pointer != "" {
		where += "#" + e.Pointer
	}
	return where + ": " + e.Err.Error()
}

func (e *LoadError) Unwrap() error { return e.Err }

// Load reads a Swagger 2.0 document from disk, resolves every $ref (relative
// references across files and folders, YAML or JSON) and compiles its schemas.
func Load(file string) (*Document, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, &LoadError{File: file, Err: err}
	}
	// One loader over the whole file system serves the document and every
	// file its $refs reach, however far up or across the tree they point.
	return load(os.DirFS("/"), filepath.ToSlash(abs), file)
}

// LoadFS is Load for a document inside fsys; its $refs resolve inside fsys.
func LoadFS(fsys fs.FS, file string) (*Document, error) {
	return load(fsys, path.Join("/", file), file)
}

func load(fsys fs.FS, rootPath, displayName string) (*Document, error) {
	l := newLoader(fsys, rootPath, displayName, parseYAML)
	root, err := l.read(rootPath)
	if err != nil {
		return nil, err
	}
	rootMap, ok := root.(map[string]any)
	if !ok {
		return nil, &LoadError{File: displayName, Err: errors.New("not a Swagger document: the top level is not an object")}
	}
	if v, ok := rootMap["openapi"]; ok {
		return nil, &LoadError{File: displayName, Err: fmt.Errorf("an OpenAPI %v document; Load reads Swagger 2.0 (CheckFileExamples reads OpenAPI 3.1 too)", v)}
	}
	if v, _ := rootMap["swagger"].(string); v != "2.0" {
		return nil, &LoadError{File: displayName, Err: fmt.Errorf(`not a Swagger 2.0 document: "swagger" is %v, want "2.0"`, rootMap["swagger"])}
	}
	// Every $ref is checked on the files as written, so that an error's
	// pointer names a place the author can find.
	if err := l.checkRefs(rootPath); err != nil {
		return nil, err
	}
	// Examples written by $ref become what they name (the Matrix convention)
	// before go-openapi reads them, since it would keep the $ref object.
	if err := l.inlineSwaggerExampleRefs(rootMap); err != nil {
		return nil, err
	}
	l.normalise()
	if err := l.inlineSecurityDefinitions(rootMap); err != nil {
		return nil, err
	}

	raw, err := json.Marshal(rootMap)
	if err != nil {
		return nil, &LoadError{File: displayName, Err: err}
	}
	var sw spec.Swagger
	if err := json.Unmarshal(raw, &sw); err != nil {
		return nil, &LoadError{File: displayName, Err: fmt.Errorf("not a Swagger 2.0 document: %w", err)}
	}
	// The r0 files leave the major version as a placeholder that the spec
	// build filled in; r0 is the only value it ever took.
	sw.BasePath = strings.ReplaceAll(sw.BasePath, "%CLIENT_MAJOR_VERSION%", "r0")
	opts := &spec.ExpandOptions{RelativeBase: "file://" + rootPath, PathLoader: l.loadJSON}
	if err := spec.ExpandSpec(&sw, opts); err != nil {
		// checkRefs has named every $ref that does not resolve; what is left
		// is a fault only the expander sees, such as a cycle.
		return nil, &LoadError{File: displayName, Err: fmt.Errorf("resolving $ref: %w", err)}
	}
	return newDocument(displayName, &sw)
}

// loader reads each file of one document set once.
type loader struct {
	fsys        fs.FS
	rootPath    string
	displayName string
	files       map[string]any // absolute path -> parsed content
	parse       func([]byte) (any, error)
	// schemaFiles are the files checkRefs reached through a $ref: schemas,
	// unlike the files an example's $ref reaches.
	schemaFiles []string
}

func newLoader(fsys fs.FS, rootPath, displayName string, parse func([]byte) (any, error)) *loader {
	return &loader{fsys: fsys, rootPath: rootPath, displayName: displayName, files: map[string]any{}, parse: parse}
}

// read parses a YAML or JSON file: YAML is a superset, and the spec tooling
// read every file with a YAML parser.
func (l *loader) read(absPath string) (any, error) {
	if doc, ok := l.files[absPath]; ok {
		return doc, nil
	}
	data, err := fs.ReadFile(l.fsys, strings.TrimPrefix(absPath, "/"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &LoadError{File: l.name(absPath), Err: errors.New("file not found")}
	}
	if err != nil {
		return nil, &LoadError{File: l.name(absPath), Err: err}
	}
	doc, err := l.parse(data)
	if err != nil {
		return nil, &LoadError{File: l.name(absPath), Err: err}
	}
	l.files[absPath] = doc
	return doc, nil
}

// name shows a file as the user would write it: relative to the root
// document's folder, or as given for the root itself.
func (l *loader) name(absPath string) string {
	if absPath == l.rootPath {
		return l.displayName
	}
	rel, err := filepath.Rel(path.Dir(l.rootPath), absPath)
	if err != nil {
		return absPath
	}
	return path.Join(path.Dir(l.displayName), filepath.ToSlash(rel))
}

// normalise states what the spec authors meant where the files say it in a
// form JSON Schema would misread (see normaliseSchemaRefs). Files other than
// the root are reached through schema $refs, so they are schemas throughout.
func (l *loader) normalise() {
	normaliseSwaggerRefs(l.files[l.rootPath])
	for _, p := range l.schemaFiles {
		l.files[p] = normaliseSchemaRefs(l.files[p])
	}
}

// loadJSON is go-openapi's PathLoader; it gets a file:// URL.
func (l *loader) loadJSON(ref string) (json.RawMessage, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return nil, err
	}
	doc, ok := l.files[u.Path]
	if !ok {
		return nil, &LoadError{File: l.name(u.Path), Err: errors.New("reached by the expander but not by any $ref")}
	}
	return json.Marshal(doc)
}

func parseYAML(data []byte) (any, error) {
	node, err := yamlutils.BytesToYAMLDoc(data)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	raw, err := yamlutils.YAMLToJSON(node)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	return doc, nil
}

// inlineSecurityDefinitions replaces `securityDefinitions: {$ref: file}` with
// the file's content. Swagger 2.0 allows no $ref there; the Matrix spec build
// inlined it, and that is what its authors meant.
func (l *loader) inlineSecurityDefinitions(root map[string]any) error {
	defs, ok := root["securityDefinitions"].(map[string]any)
	if !ok {
		return nil
	}
	ref, ok := defs["$ref"].(string)
	if !ok {
		return nil
	}
	const at = "/securityDefinitions/$ref"
	target, err := l.resolve(ref, l.rootPath, at)
	if err != nil {
		return err
	}
	if _, ok := target.(map[string]any); !ok {
		return &LoadError{File: l.displayName, Pointer: at, Err: fmt.Errorf("%q is not an object of security schemes", ref)}
	}
	root["securityDefinitions"] = target
	return nil
}
