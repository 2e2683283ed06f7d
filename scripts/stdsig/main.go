// SPDX-License-Identifier: BSD-2-Clause

// Command stdsig writes luprobe's table of the Go standard library's
// exported functions and methods (src/go/stdsig.tab) from a Go toolchain:
//
//	go run . -goroot "$(go env GOROOT)" -o ../../src/go/stdsig.tab
//
// (make stdsig does that with the newest Go on the machine). Which functions
// and methods exist, and since which release, comes from the Go API checker's
// data in $GOROOT/api: go1.txt ... go1.N.txt list every exported function and
// method once, in the release that added it, and except.txt the lines that
// later changed or went away. Parameter names and types come from
// type-checking $GOROOT/src for linux/amd64 with go/types; the signature of a
// line that changed is read from the line itself.
//
// The generator must run on the toolchain it reads (go/types must know the
// language of the sources; Go 1.22 or later), and it fails rather than guess: an API line it
// cannot match with the sources, or a removal it cannot date, is an error.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

var (
	gorootFlag = flag.String("goroot", runtime.GOROOT(), "the Go tree to read (api/ and src/)")
	outFlag    = flag.String("o", "", "output file (default: standard output)")
)

func main() {
	flag.Parse()
	if err := run(*gorootFlag, *outFlag); err != nil {
		fmt.Fprintf(os.Stderr, "stdsig: %v\n", err)
		os.Exit(1)
	}
}

func run(goroot, out string) error {
	minor, err := treeMinor(goroot)
	if err != nil {
		return err
	}
	if own := versionMinor(runtime.Version()); own != minor {
		return fmt.Errorf("%s is Go 1.%d but this generator runs on %s: run it with that "+
			"tree's own go (%s/bin/go run .)", goroot, minor, runtime.Version(), goroot)
	}
	api, err := readAPI(goroot, minor)
	if err != nil {
		return err
	}
	g := newGen(goroot, minor, api)
	if err := g.loadAll(); err != nil {
		return err
	}
	if err := g.collect(); err != nil {
		return err
	}
	text, err := g.render()
	if err != nil {
		return err
	}
	if out == "" {
		_, err = os.Stdout.WriteString(text)
		return err
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// treeMinor reads the minor release of a Go tree from its VERSION file.
func treeMinor(goroot string) (int, error) {
	b, err := os.ReadFile(filepath.Join(goroot, "VERSION"))
	if err != nil {
		return 0, fmt.Errorf("%s: not a Go tree (%v); pass -goroot $(go env GOROOT)", goroot, err)
	}
	v := strings.SplitN(string(b), "\n", 2)[0]
	m := versionMinor(v)
	if m < 0 {
		return 0, fmt.Errorf("%s/VERSION: cannot read a release from %q", goroot, v)
	}
	return m, nil
}

// versionMinor: "go1.26.8" -> 26, "go1.26rc1" -> 26, "go1" -> 0; -1 if not a release.
func versionMinor(v string) int {
	m := regexp.MustCompile(`^go1(?:\.(\d+))?`).FindStringSubmatch(v)
	if m == nil {
		return -1
	}
	if m[1] == "" {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// --- the API files ------------------------------------------------------------------------

// One function or method line of an api/go1*.txt file.
type apiLine struct {
	text    string // as written, without the " #nnnnn" proposal number
	ver     int    // minor release of the first file that lists it
	except  bool   // listed in except.txt too: it may be gone or changed
	pkg     string // import path
	recv    string // "*Buffer", "Time", "*Pointer" (type parameters dropped); "" for a function
	name    string
	sig     string // what follows the name: "(string, int) (float64, error)", "[$0 any](...)"
	generic bool
}

func (l *apiLine) key() string { return l.pkg + " " + l.recv + " " + l.name }

type apiData struct {
	byKey   map[string][]*apiLine // every distinct line of a key, oldest first
	types   map[string]int        // "pkg T" -> release of its "type T" line
	aliases map[string]int        // "pkg T" -> release that made T an alias
	fields  map[string]int        // "pkg T" -> latest release that added a field to struct T
	fexcept map[string]bool       // "pkg T": a field line of T is in except.txt
	pkgs    map[string]bool
}

var (
	lineRE   = regexp.MustCompile(`^pkg (\S+?)(?: \(([a-z0-9-]+)\))?, (.*)$`)
	numberRE = regexp.MustCompile(` #\d+$`)
)

// Lines for linux/amd64: without a context, or with linux-amd64 (-cgo).
func forLinuxAMD64(ctx string) bool {
	return ctx == "" || ctx == "linux-amd64" || ctx == "linux-amd64-cgo"
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		t := strings.TrimSpace(numberRE.ReplaceAllString(sc.Text(), ""))
		if t != "" && !strings.HasPrefix(t, "#") {
			out = append(out, t)
		}
	}
	return out, sc.Err()
}

func readAPI(goroot string, minor int) (*apiData, error) {
	d := &apiData{
		byKey:   map[string][]*apiLine{},
		types:   map[string]int{},
		aliases: map[string]int{},
		fields:  map[string]int{},
		fexcept: map[string]bool{},
		pkgs:    map[string]bool{},
	}
	except := map[string]bool{}
	lines, err := readLines(filepath.Join(goroot, "api", "except.txt"))
	if err != nil {
		return nil, err
	}
	for _, t := range lines {
		except[t] = true
		if m := lineRE.FindStringSubmatch(t); m != nil && forLinuxAMD64(m[2]) {
			if tn, _, ok := structField(m[3]); ok {
				d.fexcept[m[1]+" "+tn] = true
			}
		}
	}
	seen := map[string]bool{}
	for v := 0; v <= minor; v++ {
		name := "go1.txt"
		if v > 0 {
			name = fmt.Sprintf("go1.%d.txt", v)
		}
		lines, err := readLines(filepath.Join(goroot, "api", name))
		if err != nil {
			return nil, err
		}
		for _, t := range lines {
			m := lineRE.FindStringSubmatch(t)
			if m == nil {
				return nil, fmt.Errorf("api/%s: cannot read %q", name, t)
			}
			pkg, ctx, rest := m[1], m[2], m[3]
			if !forLinuxAMD64(ctx) || pkg == "unsafe" || strings.HasSuffix(rest, "//deprecated") {
				continue // a deprecation notice adds nothing
			}
			d.pkgs[pkg] = true
			// the same line under both contexts counts once
			text := "pkg " + pkg + ", " + rest
			if tn, ok := strings.CutPrefix(rest, "type "); ok {
				tname := strings.Fields(tn)[0]
				if i := strings.IndexByte(tname, '['); i >= 0 {
					tname = tname[:i]
				}
				k := pkg + " " + tname
				if f, _, ok := structField(rest); ok && f == tname {
					if _, ok := d.fields[k]; !ok || v > d.fields[k] {
						d.fields[k] = v
					}
				} else if strings.Contains(tn, " = ") {
					if _, ok := d.aliases[k]; !ok {
						d.aliases[k] = v
					}
				} else if _, ok := d.types[k]; !ok {
					d.types[k] = v
				}
				continue
			}
			if seen[text] {
				continue
			}
			l, err := parseFuncLine(pkg, rest)
			if err != nil {
				return nil, fmt.Errorf("api/%s: %v in %q", name, err, t)
			}
			if l == nil {
				continue
			}
			seen[text] = true
			l.text, l.ver, l.except = text, v, except[t]
			d.byKey[l.key()] = append(d.byKey[l.key()], l)
		}
	}
	return d, nil
}

// structField: "type T struct, F int" -> "T", "F int", true.
func structField(rest string) (string, string, bool) {
	tn, ok := strings.CutPrefix(rest, "type ")
	if !ok {
		return "", "", false
	}
	i := strings.Index(tn, " struct, ")
	if i < 0 {
		return "", "", false
	}
	name := tn[:i]
	if j := strings.IndexByte(name, '['); j >= 0 {
		name = name[:j]
	}
	return name, tn[i+len(" struct, "):], true
}

// parseFuncLine reads "func F(...) ..." or "method (R) M(...) ..."; nil for other lines.
func parseFuncLine(pkg, rest string) (*apiLine, error) {
	l := &apiLine{pkg: pkg}
	if s, ok := strings.CutPrefix(rest, "func "); ok {
		rest = s
	} else if s, ok := strings.CutPrefix(rest, "method ("); ok {
		depth, end := 1, -1
		for i, c := range s {
			if c == '(' || c == '[' {
				depth++
			} else if c == ')' || c == ']' {
				depth--
				if depth == 0 {
					end = i
					break
				}
			}
		}
		if end < 0 || end+1 >= len(s) || s[end+1] != ' ' {
			return nil, errors.New("unbalanced receiver")
		}
		l.recv = s[:end]
		if i := strings.IndexByte(l.recv, '['); i >= 0 {
			l.recv = l.recv[:i]
			l.generic = true
		}
		rest = s[end+2:]
	} else {
		return nil, nil
	}
	i := strings.IndexAny(rest, "([")
	if i <= 0 {
		return nil, errors.New("no parameter list")
	}
	l.name, l.sig = rest[:i], rest[i:]
	if rest[i] == '[' {
		l.generic = true
	}
	return l, nil
}

// --- loading and type-checking the sources ------------------------------------------------

type gen struct {
	goroot string
	minor  int
	api    *apiData
	ctxt   build.Context
	fset   *token.FileSet
	pkgs   map[string]*types.Package // by import path ("vendor/..." for vendored packages)
	errs   map[string]error
	// import path -> package name -> import path, from the files' imports, for api types
	imports map[string]map[string]string

	entries []*entry
	named   map[string]*namedType
}

func newGen(goroot string, minor int, api *apiData) *gen {
	ctxt := build.Default
	ctxt.GOROOT = goroot
	ctxt.GOPATH = ""
	ctxt.GOOS = "linux"
	ctxt.GOARCH = "amd64"
	ctxt.CgoEnabled = false
	ctxt.Dir = filepath.Join(goroot, "src")
	// only std, never a module lookup through the go command
	os.Setenv("GO111MODULE", "off")
	return &gen{
		goroot:  goroot,
		minor:   minor,
		api:     api,
		ctxt:    ctxt,
		fset:    token.NewFileSet(),
		pkgs:    map[string]*types.Package{},
		errs:    map[string]error{},
		imports: map[string]map[string]string{},
		named:   map[string]*namedType{},
	}
}

func (g *gen) Import(path string) (*types.Package, error) {
	return g.ImportFrom(path, filepath.Join(g.goroot, "src"), 0)
}

func (g *gen) ImportFrom(path, dir string, _ types.ImportMode) (*types.Package, error) {
	if path == "unsafe" {
		return types.Unsafe, nil
	}
	bp, err := g.ctxt.Import(path, dir, 0)
	if err != nil {
		return nil, err
	}
	return g.load(bp)
}

func (g *gen) load(bp *build.Package) (*types.Package, error) {
	if p, ok := g.pkgs[bp.ImportPath]; ok {
		if p == nil {
			return nil, fmt.Errorf("import cycle through %s", bp.ImportPath)
		}
		return p, nil
	}
	if err := g.errs[bp.ImportPath]; err != nil {
		return nil, err
	}
	g.pkgs[bp.ImportPath] = nil
	var files []*ast.File
	names := map[string]string{}
	for _, fn := range bp.GoFiles {
		f, err := parser.ParseFile(g.fset, filepath.Join(bp.Dir, fn), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		for _, is := range f.Imports {
			p, _ := strconv.Unquote(is.Path.Value)
			n := p[strings.LastIndexByte(p, '/')+1:]
			if is.Name != nil {
				n = is.Name.Name
			}
			names[n] = p
		}
	}
	var errs []error
	conf := types.Config{
		Importer: g,
		Sizes:    types.SizesFor("gc", "amd64"),
		Error:    func(err error) { errs = append(errs, err) },
	}
	p, _ := conf.Check(bp.ImportPath, g.fset, files, nil)
	if len(errs) > 0 {
		delete(g.pkgs, bp.ImportPath)
		g.errs[bp.ImportPath] = fmt.Errorf("%s: %v", bp.ImportPath, errs[0])
		return nil, g.errs[bp.ImportPath]
	}
	g.pkgs[bp.ImportPath] = p
	g.imports[bp.ImportPath] = names
	return p, nil
}

func (g *gen) loadAll() error {
	var paths []string
	for p := range g.api.pkgs {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if _, err := g.Import(p); err != nil {
			return fmt.Errorf("type-checking %s: %v", p, err)
		}
	}
	return nil
}

// --- the table ----------------------------------------------------------------------------

type param struct {
	name string // "" when unnamed; "_" when blank
	typ  string
}

type entry struct {
	symbol  string
	since   int
	until   int // first release without it; 0: still there
	flags   string
	tparams string  // generic: "S ~[]E, E cmp.Ordered"
	params  []param // receiver first
	results []param
}

// Flags of an entry (src/go/stdsig.h describes the table).
const (
	flagWrapper  = "w" // a method promoted from an embedded field: the symbol is a wrapper
	flagVariadic = "v"
	flagGeneric  = "g"
)

func symbolOf(pkg, recv, name string, generic bool) string {
	if recv == "" {
		if generic {
			return pkg + "." + name + "[...]"
		}
		return pkg + "." + name
	}
	targs := ""
	if generic {
		targs = "[...]"
	}
	if t, ok := strings.CutPrefix(recv, "*"); ok {
		return pkg + ".(*" + t + targs + ")." + name
	}
	return pkg + "." + recv + targs + "." + name
}

// One source function or method, as the api files name it.
type srcFunc struct {
	pkg     *types.Package
	recv    string // "*T", "T", ""
	name    string
	fn      *types.Func
	recvT   types.Type // the receiver type of the symbol (outer type for promoted methods)
	wrapper bool
}

func (s *srcFunc) key() string { return s.pkg.Path() + " " + s.recv + " " + s.name }

// Every exported function and method of the std packages the api files list.
func (g *gen) sourceFuncs() map[string]*srcFunc {
	out := map[string]*srcFunc{}
	for path := range g.api.pkgs {
		p := g.pkgs[path]
		for _, n := range p.Scope().Names() {
			obj := p.Scope().Lookup(n)
			if !obj.Exported() {
				continue
			}
			switch o := obj.(type) {
			case *types.Func:
				s := &srcFunc{pkg: p, name: n, fn: o}
				out[s.key()] = s
			case *types.TypeName:
				if o.IsAlias() {
					continue // its methods are listed under the type it names
				}
				named, ok := o.Type().(*types.Named)
				if !ok || types.IsInterface(named) {
					continue
				}
				g.methods(p, named, out)
			}
		}
	}
	return out
}

func (g *gen) methods(p *types.Package, named *types.Named, out map[string]*srcFunc) {
	tname := named.Obj().Name()
	val := types.NewMethodSet(named)
	ptr := types.NewMethodSet(types.NewPointer(named))
	for i := 0; i < ptr.Len(); i++ {
		sel := ptr.At(i)
		fn := sel.Obj().(*types.Func)
		if !fn.Exported() {
			continue
		}
		s := &srcFunc{pkg: p, name: fn.Name(), fn: fn, wrapper: len(sel.Index()) > 1}
		if val.Lookup(fn.Pkg(), fn.Name()) != nil {
			s.recv, s.recvT = tname, named
		} else {
			s.recv, s.recvT = "*"+tname, types.NewPointer(named)
		}
		out[s.key()] = s
	}
}

func (g *gen) collect() error {
	src := g.sourceFuncs()
	var problems []string
	keys := make([]string, 0, len(g.api.byKey))
	for k := range g.api.byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		lines := g.api.byKey[k]
		s := src[k]
		last := len(lines)
		if s != nil {
			last--
		}
		// lines before the newest are replaced by the next one, or by the source's
		for i := 0; i < last; i++ {
			until, err := g.until(lines, i)
			if err == nil {
				var e *entry
				e, err = g.fromLine(lines[i], src)
				if err == nil {
					e.until = until
					g.entries = append(g.entries, e)
					continue
				}
			}
			problems = append(problems, err.Error())
		}
		if s != nil {
			newest := lines[len(lines)-1]
			since := newest.ver
			if got := apiText(s); got != newest.text {
				// a line older than an alias names the type that became it
				re, at := g.aliasRewrite(newest)
				if at == 0 || re != got {
					problems = append(problems,
						fmt.Sprintf("%s: the sources say %q", newest.text, got))
					continue
				}
				old, err := g.fromLine(newest, src)
				if err != nil {
					problems = append(problems, err.Error())
					continue
				}
				old.until, since = at, at
				g.entries = append(g.entries, old)
			}
			e, err := g.fromSource(s)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			e.since = since
			g.entries = append(g.entries, e)
			delete(src, k)
		}
	}
	for k := range src {
		problems = append(problems, fmt.Sprintf("%s: in the sources but in no api file", k))
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("%d problems:\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	sort.Slice(g.entries, func(i, j int) bool {
		a, b := g.entries[i], g.entries[j]
		if a.symbol != b.symbol {
			return a.symbol < b.symbol
		}
		return a.since < b.since
	})
	return g.closeNamed()
}

// until says when line i of a key stopped being true: when the next line for
// the key came, or, for the newest line of a key the sources no longer have,
// when its receiver type became an alias or its method moved to the other
// receiver (T <-> *T).
func (g *gen) until(lines []*apiLine, i int) (int, error) {
	l := lines[i]
	if !l.except {
		return 0, fmt.Errorf("%s: replaced or gone, but not in except.txt", l.text)
	}
	if i+1 < len(lines) {
		return lines[i+1].ver, nil
	}
	if l.recv != "" {
		t := strings.TrimPrefix(l.recv, "*")
		if v, ok := g.api.aliases[l.pkg+" "+t]; ok {
			return v, nil
		}
		other := "*" + t
		if strings.HasPrefix(l.recv, "*") {
			other = t
		}
		if o := g.api.byKey[l.pkg+" "+other+" "+l.name]; o != nil {
			return o[0].ver, nil
		}
	}
	return 0, fmt.Errorf("%s: gone from the sources, and no api file says when", l.text)
}

// aliasRewrite returns an api line with the names of types that later became
// aliases (os.FileMode, an alias of io/fs.FileMode since Go 1.16) written as
// the types they now stand for, and the release that made them aliases; 0 if
// the line names none. The API checker accepts such a line as it stands.
func (g *gen) aliasRewrite(l *apiLine) (string, int) {
	var keys []string
	for k := range g.api.aliases {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	text, at := l.text, 0
	for _, k := range keys {
		av := g.api.aliases[k]
		intro, ok := g.api.types[k]
		if av <= l.ver || !ok || intro >= av {
			continue // an alias already, or from its start
		}
		pkg, name, _ := strings.Cut(k, " ")
		p := g.pkgs[pkg]
		obj, _ := p.Scope().Lookup(name).(*types.TypeName)
		if obj == nil {
			continue
		}
		target, ok := types.Unalias(obj.Type()).(*types.Named)
		if !ok {
			continue
		}
		spell, tspell := name, target.Obj().Name()
		if pkg != l.pkg {
			spell = p.Name() + "." + name
		}
		if target.Obj().Pkg().Path() != l.pkg {
			tspell = target.Obj().Pkg().Name() + "." + tspell
		}
		re := regexp.MustCompile(`(^|[^\w.])` + regexp.QuoteMeta(spell) + `\b`)
		if !re.MatchString(text) {
			continue
		}
		if at != 0 && at != av {
			return "", 0 // aliases of two releases: not seen yet, so not handled
		}
		text, at = re.ReplaceAllString(text, "${1}"+tspell), av
	}
	return text, at
}

// --- types --------------------------------------------------------------------------------

// A typeWriter writes types as luprobe's type-spec parser reads them (src/go/gotype.c):
// package-qualified by import path, aliases resolved, byte and rune as uint8
// and int32, func types without parameter names, struct tags dropped.
type typeWriter struct {
	g    *gen
	refs map[*types.Named]bool // named types met (instantiated ones included)
	tpOK bool                  // type parameters may appear (generic signatures)
	err  error
}

func (w *typeWriter) fail(format string, args ...any) string {
	if w.err == nil {
		w.err = fmt.Errorf(format, args...)
	}
	return "?"
}

func (w *typeWriter) str(t types.Type) string {
	switch t := t.(type) {
	case *types.Alias:
		return w.str(types.Unalias(t))
	case *types.Basic:
		switch t.Kind() {
		case types.Byte:
			return "uint8"
		case types.Rune:
			return "int32"
		case types.UnsafePointer:
			return "unsafe.Pointer"
		}
		if t.Info()&types.IsUntyped != 0 {
			return w.fail("untyped %s", t)
		}
		return t.Name()
	case *types.Pointer:
		return "*" + w.str(t.Elem())
	case *types.Slice:
		return "[]" + w.str(t.Elem())
	case *types.Array:
		return fmt.Sprintf("[%d]%s", t.Len(), w.str(t.Elem()))
	case *types.Map:
		return "map[" + w.str(t.Key()) + "]" + w.str(t.Elem())
	case *types.Chan:
		elem := w.str(t.Elem())
		switch t.Dir() {
		case types.RecvOnly:
			return "<-chan " + elem
		case types.SendOnly:
			return "chan<- " + elem
		}
		if c, ok := t.Elem().(*types.Chan); ok && c.Dir() == types.RecvOnly {
			return "chan (" + elem + ")"
		}
		return "chan " + elem
	case *types.Signature:
		return "func" + w.sig(t)
	case *types.Struct:
		if t.NumFields() == 0 {
			return "struct{}"
		}
		var b strings.Builder
		b.WriteString("struct{ ")
		for i := 0; i < t.NumFields(); i++ {
			f := t.Field(i)
			if i > 0 {
				b.WriteString("; ")
			}
			if !f.Embedded() {
				b.WriteString(f.Name() + " ")
			}
			b.WriteString(w.str(f.Type()))
		}
		b.WriteString(" }")
		return b.String()
	case *types.Interface:
		if t.Empty() {
			return "any"
		}
		if w.tpOK {
			return types.TypeString(t, w.qualifier)
		}
		return w.fail("an interface literal with methods (%s): give it a name", t)
	case *types.Named:
		if t.Obj().Pkg() == nil {
			return t.Obj().Name() // error, comparable
		}
		name := t.Obj().Pkg().Path() + "." + t.Obj().Name()
		if ta := t.TypeArgs(); ta.Len() > 0 {
			args := make([]string, ta.Len())
			for i := range args {
				args[i] = w.str(ta.At(i))
			}
			name += "[" + strings.Join(args, ",") + "]"
		}
		if !w.tpOK || !hasTypeParam(t) {
			w.refs[t] = true
		}
		return name
	case *types.TypeParam:
		if !w.tpOK {
			return w.fail("type parameter %s outside a generic signature", t)
		}
		return t.Obj().Name()
	case *types.Union:
		if w.tpOK {
			return types.TypeString(t, w.qualifier)
		}
	}
	return w.fail("cannot write type %s (%T)", t, t)
}

func (w *typeWriter) qualifier(p *types.Package) string { return p.Path() }

func hasTypeParam(t types.Type) bool {
	switch t := t.(type) {
	case *types.TypeParam:
		return true
	case *types.Named:
		for i := 0; i < t.TypeArgs().Len(); i++ {
			if hasTypeParam(t.TypeArgs().At(i)) {
				return true
			}
		}
		return t.TypeParams().Len() > 0 && t.TypeArgs().Len() == 0
	case *types.Pointer:
		return hasTypeParam(t.Elem())
	case *types.Slice:
		return hasTypeParam(t.Elem())
	case *types.Array:
		return hasTypeParam(t.Elem())
	case *types.Map:
		return hasTypeParam(t.Key()) || hasTypeParam(t.Elem())
	case *types.Chan:
		return hasTypeParam(t.Elem())
	case *types.Signature:
		for _, tup := range []*types.Tuple{t.Params(), t.Results()} {
			for i := 0; i < tup.Len(); i++ {
				if hasTypeParam(tup.At(i).Type()) {
					return true
				}
			}
		}
	case *types.Struct:
		for i := 0; i < t.NumFields(); i++ {
			if hasTypeParam(t.Field(i).Type()) {
				return true
			}
		}
	}
	return false
}

// (params) results, as func types are written: no names, ...T for the variadic one.
func (w *typeWriter) sig(s *types.Signature) string {
	var b strings.Builder
	b.WriteString("(")
	for i := 0; i < s.Params().Len(); i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		t := s.Params().At(i).Type()
		if s.Variadic() && i == s.Params().Len()-1 {
			b.WriteString("..." + w.str(t.(*types.Slice).Elem()))
		} else {
			b.WriteString(w.str(t))
		}
	}
	b.WriteString(")")
	switch r := s.Results(); r.Len() {
	case 0:
	case 1:
		b.WriteString(" " + w.str(r.At(0).Type()))
	default:
		b.WriteString(" (")
		for i := 0; i < r.Len(); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(w.str(r.At(i).Type()))
		}
		b.WriteString(")")
	}
	return b.String()
}

func (g *gen) newWriter(generic bool) *typeWriter {
	return &typeWriter{g: g, refs: map[*types.Named]bool{}, tpOK: generic}
}

func tupleParams(w *typeWriter, t *types.Tuple) []param {
	var out []param
	for i := 0; i < t.Len(); i++ {
		out = append(out, param{name: t.At(i).Name(), typ: w.str(t.At(i).Type())})
		w.g.markValue(t.At(i).Type())
	}
	return out
}

// fromSource: the entry of a function or method of the sources.
func (g *gen) fromSource(s *srcFunc) (*entry, error) {
	sig := s.fn.Type().(*types.Signature)
	generic := sig.TypeParams().Len() > 0 || sig.RecvTypeParams().Len() > 0
	w := g.newWriter(generic)
	e := &entry{symbol: symbolOf(s.pkg.Path(), s.recv, s.name, generic)}
	if s.recvT != nil {
		e.params = append(e.params, param{name: sig.Recv().Name(), typ: w.str(s.recvT)})
		g.markValue(s.recvT)
		if generic {
			// the receiver's type parameters, by the names the method gives them
			e.params[0].typ = w.recvGeneric(s, sig)
		}
	}
	e.params = append(e.params, tupleParams(w, sig.Params())...)
	e.results = tupleParams(w, sig.Results())
	if s.wrapper {
		e.flags += flagWrapper
	}
	if sig.Variadic() {
		e.flags += flagVariadic
	}
	if generic {
		e.flags += flagGeneric
		tps := sig.TypeParams()
		if tps.Len() == 0 {
			tps = sig.RecvTypeParams()
		}
		var b []string
		for i := 0; i < tps.Len(); i++ {
			tp := tps.At(i)
			b = append(b, tp.Obj().Name()+" "+types.TypeString(tp.Constraint(), w.qualifier))
		}
		e.tparams = strings.Join(b, ", ")
	}
	if w.err != nil {
		return nil, fmt.Errorf("%s: %v", e.symbol, w.err)
	}
	g.noteRefs(w.refs)
	return e, nil
}

// The receiver of a method of a generic type: *sync/atomic.Pointer[T].
func (w *typeWriter) recvGeneric(s *srcFunc, sig *types.Signature) string {
	named := s.recvT
	ptr := ""
	if p, ok := named.(*types.Pointer); ok {
		named, ptr = p.Elem(), "*"
	}
	n := named.(*types.Named)
	var args []string
	for i := 0; i < sig.RecvTypeParams().Len(); i++ {
		args = append(args, sig.RecvTypeParams().At(i).Obj().Name())
	}
	if len(args) == 0 || s.wrapper {
		return w.fail("generic receiver of %s", s.key())
	}
	return ptr + n.Obj().Pkg().Path() + "." + n.Obj().Name() + "[" + strings.Join(args, ",") + "]"
}

// fromLine: the entry of an api line that is no longer true, with its types
// read from the line and the parameter names of its successor in the sources
// when the counts agree.
func (g *gen) fromLine(l *apiLine, src map[string]*srcFunc) (*entry, error) {
	if l.generic {
		return nil, fmt.Errorf("%s: a generic line that changed", l.text)
	}
	expr, err := parser.ParseExpr("func" + l.sig)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", l.text, err)
	}
	ft := expr.(*ast.FuncType)
	w := g.newWriter(false)
	e := &entry{symbol: symbolOf(l.pkg, l.recv, l.name, false), since: l.ver}
	if l.recv != "" {
		rt, err := g.astType(l.pkg, &ast.Ident{Name: strings.TrimPrefix(l.recv, "*")})
		if err != nil {
			return nil, fmt.Errorf("%s: %v", l.text, err)
		}
		if strings.HasPrefix(l.recv, "*") {
			rt = types.NewPointer(rt)
		}
		e.params = append(e.params, param{typ: w.str(rt)})
		g.markValue(rt)
	}
	for i, fl := range []*ast.FieldList{ft.Params, ft.Results} {
		if fl == nil {
			continue
		}
		for _, f := range fl.List {
			te := f.Type
			if el, ok := te.(*ast.Ellipsis); ok {
				te = &ast.ArrayType{Elt: el.Elt}
				e.flags += flagVariadic
			}
			t, err := g.astType(l.pkg, te)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", l.text, err)
			}
			p := param{typ: w.str(t)}
			g.markValue(t)
			if i == 0 {
				e.params = append(e.params, p)
			} else {
				e.results = append(e.results, p)
			}
		}
	}
	if w.err != nil {
		return nil, fmt.Errorf("%s: %v", l.text, w.err)
	}
	// names from the function or method that replaced it
	if succ := g.successor(l, src); succ != nil {
		if succ.wrapper {
			e.flags = flagWrapper + e.flags
		}
		sig := succ.fn.Type().(*types.Signature)
		var names, rnames []string
		if l.recv != "" {
			names = append(names, sig.Recv().Name())
		}
		for i := 0; i < sig.Params().Len(); i++ {
			names = append(names, sig.Params().At(i).Name())
		}
		for i := 0; i < sig.Results().Len(); i++ {
			rnames = append(rnames, sig.Results().At(i).Name())
		}
		if len(names) == len(e.params) {
			for i := range names {
				e.params[i].name = names[i]
			}
		}
		if len(rnames) == len(e.results) {
			for i := range rnames {
				e.results[i].name = rnames[i]
			}
		}
	}
	g.noteRefs(w.refs)
	return e, nil
}

// The function or method of the sources that took over from a gone api line:
// same key, or the method of the type its receiver became an alias of, on
// either receiver.
func (g *gen) successor(l *apiLine, src map[string]*srcFunc) *srcFunc {
	if s := src[l.key()]; s != nil {
		return s
	}
	if l.recv == "" {
		return nil
	}
	t := strings.TrimPrefix(l.recv, "*")
	obj, _ := g.pkgs[l.pkg].Scope().Lookup(t).(*types.TypeName)
	if obj == nil {
		return nil
	}
	named, ok := types.Unalias(obj.Type()).(*types.Named)
	if !ok {
		return nil
	}
	m, index, _ := types.LookupFieldOrMethod(types.NewPointer(named), true, named.Obj().Pkg(),
		l.name)
	if fn, ok := m.(*types.Func); ok {
		return &srcFunc{pkg: named.Obj().Pkg(), fn: fn, wrapper: len(index) > 1}
	}
	return nil
}

// astType resolves a type written in an api line of package pkg: local names
// in pkg (through aliases to what they named then, which the sources keep as
// the alias's target), other packages by the name pkg's files import them as.
func (g *gen) astType(pkg string, e ast.Expr) (types.Type, error) {
	switch e := e.(type) {
	case *ast.Ident:
		if obj := types.Universe.Lookup(e.Name); obj != nil {
			if tn, ok := obj.(*types.TypeName); ok {
				return tn.Type(), nil
			}
		}
		return g.namedIn(pkg, e.Name)
	case *ast.SelectorExpr:
		x, ok := e.X.(*ast.Ident)
		if !ok {
			break
		}
		path := g.imports[pkg][x.Name]
		if path == "" {
			// the files no longer import it: the one API package of that name
			for p := range g.api.pkgs {
				if g.pkgs[p].Name() == x.Name {
					if path != "" {
						return nil, fmt.Errorf("package %s of %s is ambiguous", x.Name, pkg)
					}
					path = p
				}
			}
		}
		if path == "" {
			return nil, fmt.Errorf("package %s not imported by %s", x.Name, pkg)
		}
		return g.namedIn(path, e.Sel.Name)
	case *ast.StarExpr:
		t, err := g.astType(pkg, e.X)
		if err != nil {
			return nil, err
		}
		return types.NewPointer(t), nil
	case *ast.ArrayType:
		elem, err := g.astType(pkg, e.Elt)
		if err != nil {
			return nil, err
		}
		if e.Len == nil {
			return types.NewSlice(elem), nil
		}
		lit, ok := e.Len.(*ast.BasicLit)
		if !ok {
			break
		}
		n, err := strconv.ParseInt(lit.Value, 0, 64)
		if err != nil {
			return nil, err
		}
		return types.NewArray(elem, n), nil
	case *ast.MapType:
		k, err := g.astType(pkg, e.Key)
		if err != nil {
			return nil, err
		}
		v, err := g.astType(pkg, e.Value)
		if err != nil {
			return nil, err
		}
		return types.NewMap(k, v), nil
	case *ast.FuncType:
		var tups [2][]*types.Var
		variadic := false
		for i, fl := range []*ast.FieldList{e.Params, e.Results} {
			if fl == nil {
				continue
			}
			for _, f := range fl.List {
				te := f.Type
				if el, ok := te.(*ast.Ellipsis); ok {
					te = &ast.ArrayType{Elt: el.Elt}
					variadic = true
				}
				t, err := g.astType(pkg, te)
				if err != nil {
					return nil, err
				}
				tups[i] = append(tups[i], types.NewVar(token.NoPos, nil, "", t))
			}
		}
		return types.NewSignatureType(nil, nil, nil, types.NewTuple(tups[0]...),
			types.NewTuple(tups[1]...), variadic), nil
	case *ast.InterfaceType:
		if e.Methods == nil || len(e.Methods.List) == 0 {
			return types.NewInterfaceType(nil, nil), nil
		}
	}
	return nil, fmt.Errorf("cannot read type %T in an api line", e)
}

// namedIn: the type named name in package path, as the sources have it. An
// alias there stands for a type that was once that package's own (os.FileMode
// before Go 1.16): a named type of that name over the same underlying type.
func (g *gen) namedIn(path, name string) (types.Type, error) {
	p := g.pkgs[path]
	if p == nil {
		return nil, fmt.Errorf("package %s not loaded", path)
	}
	obj, _ := p.Scope().Lookup(name).(*types.TypeName)
	if obj == nil {
		return nil, fmt.Errorf("no type %s.%s in the sources", path, name)
	}
	if !obj.IsAlias() {
		return obj.Type(), nil
	}
	target := types.Unalias(obj.Type())
	tn := types.NewTypeName(token.NoPos, p, name, nil)
	return types.NewNamed(tn, target.Underlying(), nil), nil
}

// --- named types --------------------------------------------------------------------------

// A named type the signatures use: what a consumer needs to place and show it.
type namedType struct {
	name    string
	t       *types.Named
	byValue bool   // some signature holds it by value, or a by-value type holds it
	class   string // fixed, since1.N, guess1.N, iface, opaque (src/go/stdsig.h)
	spec    string // underlying type, when class says there is one
}

// The table's name of a named type: import path, name, type arguments.
func namedName(t *types.Named) string {
	return (&typeWriter{refs: map[*types.Named]bool{}}).str(t)
}

func (g *gen) noteRefs(refs map[*types.Named]bool) {
	for t := range refs {
		n := namedName(t)
		if g.named[n] == nil {
			g.named[n] = &namedType{name: n, t: t}
		}
	}
}

// markValue records that a value of type t is passed by value: named types
// in it, and in the fields and elements it holds by value, need a layout.
func (g *gen) markValue(t types.Type) {
	switch t := t.(type) {
	case *types.Alias:
		g.markValue(types.Unalias(t))
	case *types.Named:
		if t.Obj().Pkg() == nil || hasTypeParam(t) {
			return
		}
		n := namedName(t)
		nt := g.named[n]
		if nt == nil {
			nt = &namedType{name: n, t: t}
			g.named[n] = nt
		}
		if nt.byValue {
			return
		}
		nt.byValue = true
		g.markValue(t.Underlying())
	case *types.Struct:
		for i := 0; i < t.NumFields(); i++ {
			g.markValue(t.Field(i).Type())
		}
	case *types.Array:
		g.markValue(t.Elem())
	}
}

// Does a value of t hold a struct (whose layout can differ between releases)?
func holdsStruct(t types.Type) bool {
	switch t := types.Unalias(t).(type) {
	case *types.Named:
		return holdsStruct(t.Underlying())
	case *types.Struct:
		return true
	case *types.Array:
		return holdsStruct(t.Elem())
	}
	return false
}

// layout: since which release the layout of t is what the sources say (0:
// every release), and whether it is only a guess outside the generating
// release (it holds unexported fields, or fields whose types changed).
func (g *gen) layout(t types.Type) (int, bool) {
	switch t := types.Unalias(t).(type) {
	case *types.Named:
		since, guess := g.layout(t.Underlying())
		if _, ok := t.Underlying().(*types.Struct); ok && t.Obj().Pkg() != nil {
			k := t.Obj().Pkg().Path() + " " + t.Obj().Name()
			intro, known := g.api.types[k]
			if !known || g.api.fexcept[k] {
				guess = true
			}
			if v, ok := g.api.fields[k]; ok && v > intro && v > since {
				since = v
			}
		}
		return since, guess
	case *types.Struct:
		since, guess := 0, false
		for i := 0; i < t.NumFields(); i++ {
			f := t.Field(i)
			s, gs := g.layout(f.Type())
			if !f.Exported() {
				gs = true
			}
			since, guess = max(since, s), guess || gs
		}
		return since, guess
	case *types.Array:
		return g.layout(t.Elem())
	}
	return 0, false
}

// closeNamed gives every named type met a class and, where one is needed, its
// underlying type, adding the named types those mention until none is left.
func (g *gen) closeNamed() error {
	for {
		var todo []*namedType
		for _, nt := range g.named {
			if nt.class == "" {
				todo = append(todo, nt)
			}
		}
		if len(todo) == 0 {
			return nil
		}
		sort.Slice(todo, func(i, j int) bool { return todo[i].name < todo[j].name })
		for _, nt := range todo {
			if err := g.classify(nt); err != nil {
				return err
			}
		}
	}
}

func (g *gen) classify(nt *namedType) error {
	u := nt.t.Underlying()
	if it, ok := u.(*types.Interface); ok {
		if it.Empty() {
			nt.class, nt.spec = "fixed", "any"
		} else {
			nt.class = "iface"
		}
		return nil
	}
	if holdsStruct(u) && !nt.byValue {
		nt.class = "opaque"
		return nil
	}
	w := g.newWriter(false)
	nt.spec = w.str(u)
	if w.err != nil {
		return fmt.Errorf("type %s: %v", nt.name, w.err)
	}
	nt.class = "fixed"
	if holdsStruct(u) {
		since, guess := g.layout(nt.t)
		intro := g.api.types[nt.t.Obj().Pkg().Path()+" "+nt.t.Obj().Name()]
		if guess {
			nt.class = fmt.Sprintf("guess1.%d", g.minor)
		} else if since > intro {
			nt.class = fmt.Sprintf("since1.%d", since)
		}
	}
	for t := range w.refs {
		n := namedName(t)
		if g.named[n] == nil {
			g.named[n] = &namedType{name: n, t: t}
		}
	}
	return nil
}

// --- output -------------------------------------------------------------------------------

// The C side's limits (src/go/stdsig.h): it copies a line to split it.
const (
	maxLine   = 4000
	maxParams = 32
)

func joinParams(ps []param) string {
	if len(ps) == 0 {
		return "-"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		n := p.name
		if n == "" {
			n = "_"
		}
		s[i] = n + " " + p.typ
	}
	return strings.Join(s, "|")
}

// render writes the table; the format is described in src/go/stdsig.h.
func (g *gen) render() (string, error) {
	var b strings.Builder
	counts := make([]string, g.minor+1)
	for v := range counts {
		n := 0
		for _, e := range g.entries {
			if e.since <= v && (e.until == 0 || v < e.until) {
				n++
			}
		}
		counts[v] = strconv.Itoa(n)
	}
	fmt.Fprintf(&b, `# SPDX-License-Identifier: BSD-2-Clause
# The Go standard library's exported functions and methods, Go 1.0 to 1.%d, for
# linux/amd64, with the named types their signatures use. Generated by
# scripts/stdsig (make stdsig) from Go 1.%d's api/go1*.txt, api/except.txt and
# src/; do not edit. The format is described in src/go/stdsig.h.
# Entries per release, 1.0 to 1.%d: %s
go	%d
funcs	%d
`, g.minor, g.minor, g.minor, strings.Join(counts, " "), g.minor, len(g.entries))
	var lines []string
	for _, e := range g.entries {
		ver := strconv.Itoa(e.since)
		if e.until != 0 {
			ver += "-" + strconv.Itoa(e.until)
		}
		flags := e.flags
		if flags == "" {
			flags = "-"
		}
		line := strings.Join([]string{e.symbol, ver, flags, joinParams(e.params),
			joinParams(e.results)}, "\t")
		if e.tparams != "" {
			line += "\t" + e.tparams
		}
		lines = append(lines, line)
	}
	var names []string
	for n := range g.named {
		names = append(names, n)
	}
	sort.Strings(names)
	lines = append(lines, fmt.Sprintf("types\t%d", len(names)))
	for _, n := range names {
		nt := g.named[n]
		spec := nt.spec
		if spec == "" {
			spec = "-"
		}
		lines = append(lines, n+"\t"+nt.class+"\t"+spec)
	}
	for _, e := range g.entries {
		if len(e.params) > maxParams || len(e.results) > maxParams {
			return "", fmt.Errorf("%s: more than %d parameters or results (the C side's limit)",
				e.symbol, maxParams)
		}
	}
	for _, l := range lines {
		if len(l) >= maxLine {
			return "", fmt.Errorf("a line of %d bytes (the C side takes %d): %.80s...",
				len(l), maxLine-1, l)
		}
		b.WriteString(l + "\n")
	}
	return b.String(), nil
}

// --- the api files' own spelling, to check the sources against them -----------------------

// apiText writes a function or method of the sources as the Go API checker
// does (cmd/api): the table only takes a signature from the sources when this
// is exactly the newest api line of its key.
func apiText(s *srcFunc) string {
	a := &apiWriter{pkg: s.pkg}
	var b strings.Builder
	sig := s.fn.Type().(*types.Signature)
	b.WriteString("pkg " + s.pkg.Path() + ", ")
	if s.recvT == nil {
		b.WriteString("func " + s.name)
	} else {
		b.WriteString("method (" + a.str(s.recvT))
		if rtp := sig.RecvTypeParams(); rtp != nil {
			b.WriteString(a.tparams(rtp, false))
		}
		b.WriteString(") " + s.name)
	}
	if tp := sig.TypeParams(); tp != nil {
		b.WriteString(a.tparams(tp, true))
	}
	b.WriteString(a.tuple(sig.Params(), sig.Variadic()))
	switch r := sig.Results(); r.Len() {
	case 0:
	case 1:
		b.WriteString(" " + a.str(r.At(0).Type()))
	default:
		b.WriteString(" " + a.tuple(r, false))
	}
	return b.String()
}

type apiWriter struct{ pkg *types.Package }

func (a *apiWriter) tparams(l *types.TypeParamList, constraints bool) string {
	var s []string
	for i := 0; i < l.Len(); i++ {
		t := a.str(l.At(i))
		if constraints {
			t += " " + a.str(l.At(i).Constraint())
		}
		s = append(s, t)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

func (a *apiWriter) tuple(t *types.Tuple, variadic bool) string {
	var s []string
	for i := 0; i < t.Len(); i++ {
		ty := t.At(i).Type()
		if variadic && i == t.Len()-1 {
			s = append(s, "..."+a.str(ty.(*types.Slice).Elem()))
		} else {
			s = append(s, a.str(ty))
		}
	}
	return "(" + strings.Join(s, ", ") + ")"
}

func (a *apiWriter) embeddeds(t *types.Interface) []string {
	var list []string
	for i := 0; i < t.NumEmbeddeds(); i++ {
		switch e := t.EmbeddedType(i).(type) {
		case *types.Interface:
			list = append(list, a.embeddeds(e)...)
		case *types.Union:
			var terms []string
			for j := 0; j < e.Len(); j++ {
				tm := e.Term(j)
				s := a.str(tm.Type())
				if tm.Tilde() {
					s = "~" + s
				}
				terms = append(terms, s)
			}
			list = append(list, strings.Join(terms, " | "))
		}
	}
	sort.Strings(list)
	return list
}

func (a *apiWriter) str(t types.Type) string {
	switch t := t.(type) {
	case *types.Alias:
		return a.str(types.Unalias(t))
	case *types.Basic:
		switch t.Kind() {
		case types.UnsafePointer:
			return "unsafe.Pointer"
		case types.Byte:
			return "uint8"
		case types.Rune:
			return "int32"
		}
		return t.Name()
	case *types.Array:
		return fmt.Sprintf("[%d]%s", t.Len(), a.str(t.Elem()))
	case *types.Slice:
		return "[]" + a.str(t.Elem())
	case *types.Struct:
		return "struct"
	case *types.Pointer:
		return "*" + a.str(t.Elem())
	case *types.Signature:
		s := "func"
		if tp := t.TypeParams(); tp != nil {
			s += a.tparams(tp, true)
		}
		s += a.tuple(t.Params(), t.Variadic())
		switch r := t.Results(); r.Len() {
		case 0:
		case 1:
			s += " " + a.str(r.At(0).Type())
		default:
			s += " " + a.tuple(r, false)
		}
		return s
	case *types.Interface:
		var parts []string
		for i := 0; i < t.NumMethods(); i++ {
			parts = append(parts, t.Method(i).Name())
		}
		sort.Strings(parts)
		parts = append(parts, a.embeddeds(t)...)
		if len(parts) == 0 {
			return "interface{}"
		}
		return "interface{ " + strings.Join(parts, ", ") + " }"
	case *types.Map:
		return "map[" + a.str(t.Key()) + "]" + a.str(t.Elem())
	case *types.Chan:
		switch t.Dir() {
		case types.SendOnly:
			return "chan<- " + a.str(t.Elem())
		case types.RecvOnly:
			return "<-chan " + a.str(t.Elem())
		}
		return "chan " + a.str(t.Elem())
	case *types.Named:
		s := ""
		if p := t.Obj().Pkg(); p != nil && p != a.pkg {
			s = p.Name() + "."
		}
		s += t.Obj().Name()
		if ta := t.TypeArgs(); ta.Len() > 0 {
			var args []string
			for i := 0; i < ta.Len(); i++ {
				args = append(args, a.str(ta.At(i)))
			}
			s += "[" + strings.Join(args, ", ") + "]"
		}
		return s
	case *types.TypeParam:
		return fmt.Sprintf("$%d", t.Index())
	}
	return fmt.Sprintf("?%T", t)
}
