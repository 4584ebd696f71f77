// Package coverage traces the presence-related texts of the Matrix spec,
// sentence by sentence, to the suite's requirements that check them, or to
// the reason none can. The trace is data (traces.go), reviewed like code;
// the table suite/COVERAGE.md is generated from it, and a test fails when
// the table is stale, when a sentence of the spec files has no trace, or
// when a trace names a sentence the files no longer hold.
package coverage

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A Source is one spec file the table covers, by its path under the spec
// reference tree (../shared/spec, see its SOURCES.md).
type Source struct {
	Path string
	// Every picks every sentence of a description at these places, not
	// only the normative ones: the description of a response (what a
	// status means), or of a property of a filter definition (what a
	// filter field does); nil picks the normative ones only. In prose,
	// anything not nil picks every sentence.
	Every func(yamlPath []string) bool
}

// Sources are the texts the table covers: the presence module, presence,
// sync and filter APIs with the filter definitions a presence filter is
// made of, in r0.6.1 and v1.19, and the v1 event stream.
var Sources = []Source{
	{Path: "v3/v1.19/content/client-server-api/modules/presence.md", Every: always},
	{Path: "r0/r0.6.1/specification/modules/presence.rst", Every: always},
	{Path: "v3/v1.19/data/api/client-server/presence.yaml", Every: always},
	{Path: "r0/r0.6.1/api/client-server/presence.yaml", Every: always},
	{Path: "v3/v1.19/data/api/client-server/sync.yaml", Every: isResponse},
	{Path: "r0/r0.6.1/api/client-server/sync.yaml", Every: isResponse},
	{Path: "v3/v1.19/data/api/client-server/filter.yaml", Every: always},
	{Path: "r0/r0.6.1/api/client-server/filter.yaml", Every: always},
	{Path: "v3/v1.19/data/api/client-server/definitions/event_filter.yaml", Every: isProperty},
	{Path: "r0/r0.6.1/api/client-server/definitions/event_filter.yaml", Every: isProperty},
	{Path: "v3/v1.19/data/api/client-server/definitions/sync_filter.yaml", Every: isProperty},
	{Path: "r0/r0.6.1/api/client-server/definitions/sync_filter.yaml", Every: isProperty},
	{Path: "v1/api/client-server/v1/sync.yaml", Every: always},
}

func always([]string) bool { return true }

func isResponse(path []string) bool { return len(path) >= 2 && path[len(path)-2] == "responses" }
func isProperty(path []string) bool { return len(path) >= 2 && path[len(path)-2] == "properties" }

// normative picks the sentences that state a rule: those with a word of
// RFC 2119 in any case (the older texts do not capitalise them), "will" or
// "cannot" (how the spec often states what a server does), or that say
// what the server or homeserver does.
var normative = regexp.MustCompile(`(?i)\b(must|shall|should|required|recommended|may|optional|will|cannot|server|homeserver)\b`)

// A Sentence is one sentence of a source, where it stands.
type Sentence struct {
	File string
	// Where is the place in a YAML file, its keys joined by "/" up to the
	// description the sentence is from; "" in prose.
	Where string
	Text  string
}

// Extract reads the sources under root and returns their normative
// sentences, in file order.
func Extract(root string) ([]Sentence, error) {
	var out []Sentence
	for _, src := range Sources {
		data, err := os.ReadFile(filepath.Join(root, src.Path))
		if err != nil {
			return nil, err
		}
		var texts []located
		if strings.HasSuffix(src.Path, ".yaml") {
			var doc yaml.Node
			if err := yaml.Unmarshal(data, &doc); err != nil {
				return nil, fmt.Errorf("%s: %w", src.Path, err)
			}
			walk(&doc, nil, &texts)
		} else {
			for _, block := range proseBlocks(string(data)) {
				texts = append(texts, located{text: block})
			}
		}
		for _, t := range texts {
			every := src.Every != nil && src.Every(t.path)
			for _, s := range sentences(t.text) {
				if every || normative.MatchString(s) {
					out = append(out, Sentence{File: src.Path, Where: strings.Join(t.path, "/"), Text: s})
				}
			}
		}
	}
	return out, nil
}

type located struct {
	path []string
	text string
}

// walk gathers every description string of a YAML tree, with its path.
func walk(n *yaml.Node, path []string, out *[]located) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			walk(c, path, out)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, value := n.Content[i].Value, n.Content[i+1]
			if key == "description" && value.Kind == yaml.ScalarNode {
				*out = append(*out, located{path: slicesClone(path), text: value.Value})
				continue
			}
			walk(value, append(path, key), out)
		}
	}
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

var (
	underline = regexp.MustCompile(`^[=\-~^"'*+#]{3,}\s*$`)
	bullet    = regexp.MustCompile(`^\s*[-*]\s+`)
	space     = regexp.MustCompile(`\s+`)
)

// proseBlocks splits Markdown or reStructuredText into paragraphs and list
// items, leaving out headings, comments, directives and templates.
func proseBlocks(text string) []string {
	lines := strings.Split(text, "\n")
	var blocks []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			blocks = append(blocks, space.ReplaceAllString(strings.TrimSpace(strings.Join(cur, " ")), " "))
			cur = nil
		}
	}
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		next := ""
		if i+1 < len(lines) {
			next = lines[i+1]
		}
		switch {
		case trimmed == "":
			flush()
		case strings.HasPrefix(trimmed, "#"), strings.HasPrefix(trimmed, ".."), strings.Contains(trimmed, "{{"),
			underline.MatchString(trimmed), underline.MatchString(strings.TrimSpace(next)) && !bullet.MatchString(line):
			flush()
		case bullet.MatchString(line):
			flush()
			cur = append(cur, bullet.ReplaceAllString(line, ""))
		default:
			cur = append(cur, trimmed)
		}
	}
	flush()
	return blocks
}

// sentences splits a text at each '.', '!' or '?' that a space and a
// capital letter (or a quote, backtick, bracket or asterisk) follow.
func sentences(text string) []string {
	text = space.ReplaceAllString(strings.TrimSpace(text), " ")
	var out []string
	start := 0
	for i := 0; i+2 < len(text); i++ {
		if !strings.ContainsRune(".!?", rune(text[i])) || text[i+1] != ' ' {
			continue
		}
		c := text[i+2]
		abbreviation := strings.HasSuffix(text[:i+1], "e.g.") || strings.HasSuffix(text[:i+1], "i.e.") || strings.HasSuffix(text[:i+1], "N.B.")
		if !abbreviation && (c >= 'A' && c <= 'Z' || strings.ContainsRune("`\"'(*[", rune(c))) {
			out = append(out, strings.TrimSpace(text[start:i+1]))
			start = i + 2
		}
	}
	if rest := strings.TrimSpace(text[start:]); rest != "" {
		out = append(out, rest)
	}
	return out
}
