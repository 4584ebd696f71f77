package schemas

import (
	"fmt"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/go-openapi/jsonpointer"
)

// checkRefs follows every $ref reachable from the file at absPath and fails
// on the first that does not resolve, naming the file and the pointer of the
// $ref itself. go-openapi's own errors say what failed but not where.
func (l *loader) checkRefs(absPath string) error {
	visited := map[string]bool{}
	var visit func(absPath string) error
	visit = func(absPath string) error {
		if visited[absPath] {
			return nil
		}
		visited[absPath] = true
		if absPath != l.rootPath {
			l.schemaFiles = append(l.schemaFiles, absPath)
		}
		doc, err := l.read(absPath)
		if err != nil {
			return err
		}
		return walkRefs(doc, "", func(ref, at string) error {
			if _, err := l.resolve(ref, absPath, at); err != nil {
				return err
			}
			if file := refFile(ref); file != "" {
				return visit(path.Join(path.Dir(absPath), file))
			}
			return nil
		})
	}
	return visit(absPath)
}

// resolve returns what ref, written at pointer `at` of the file absPath,
// points to.
func (l *loader) resolve(ref, absPath, at string) (any, error) {
	value, _, err := l.resolveTo(ref, absPath, at)
	return value, err
}

// location is a place in one file of a document set.
type location struct {
	file    string // absolute path
	pointer string // JSON pointer inside file
}

// resolveTo is resolve that also says where the target is.
func (l *loader) resolveTo(ref, absPath, at string) (any, location, error) {
	fail := func(format string, args ...any) error {
		return &LoadError{File: l.name(absPath), Pointer: at, Err: fmt.Errorf("$ref %q: "+format, append([]any{ref}, args...)...)}
	}
	u, err := url.Parse(ref)
	if err != nil {
		return nil, location{}, fail("not a URI reference: %v", err)
	}
	if u.Scheme != "" || u.Host != "" {
		return nil, location{}, fail("only relative references to local files are supported")
	}
	target := location{file: absPath, pointer: u.Fragment}
	if u.Path != "" {
		target.file = path.Join(path.Dir(absPath), u.Path)
	}
	doc, err := l.read(target.file)
	if err != nil {
		return nil, location{}, fail("cannot load %s: %v", l.name(target.file), unwrapLoadError(err))
	}
	if u.Fragment == "" {
		return doc, target, nil
	}
	ptr, err := jsonpointer.New(u.Fragment)
	if err != nil {
		return nil, location{}, fail("bad JSON pointer: %v", err)
	}
	value, _, err := ptr.Get(doc)
	if err != nil {
		return nil, location{}, fail("%s has nothing at #%s", l.name(target.file), u.Fragment)
	}
	return value, target, nil
}

func unwrapLoadError(err error) error {
	if le, ok := err.(*LoadError); ok {
		return le.Err
	}
	return err
}

func refFile(ref string) string {
	file, _, _ := strings.Cut(ref, "#")
	return file
}

// walkRefs calls fn for every $ref in v, in a stable order, with the JSON
// pointer of the $ref key. Literal values (examples, enums) are not searched.
func walkRefs(v any, at string, fn func(ref, at string) error) error {
	switch node := v.(type) {
	case map[string]any:
		if ref, ok := node["$ref"].(string); ok {
			if err := fn(ref, at+"/$ref"); err != nil {
				return err
			}
		}
		keys := make([]string, 0, len(node))
		for k := range node {
			if k != "$ref" && !isLiteralValue(k) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := walkRefs(node[k], at+"/"+escapePointer(k), fn); err != nil {
				return err
			}
		}
	case []any:
		for i, child := range node {
			if err := walkRefs(child, at+"/"+strconv.Itoa(i), fn); err != nil {
				return err
			}
		}
	}
	return nil
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

func escapePointer(token string) string { return pointerEscaper.Replace(token) }
