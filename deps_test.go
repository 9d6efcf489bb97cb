package statesrv_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// allowed lists, for each package of the module, the packages of the module
// it may import (directly). It keeps the arrows of docs/ARCHITECTURE.md
// pointing one way: the log knows nothing, views know the log, the write
// side knows views, the edges know the write side, and only cmd/ knows all.
var allowed = map[string][]string{
	"":                  {"textfmt"},
	"clock":             {},
	"client":            {},
	"api":               {""},
	"client/jobexec":    {"client", "textfmt"},
	"eventlog":          {},
	"eventlog/logtest":  {"eventlog"},
	"projections":       {"", "eventlog"},
	"commands/schedule": {"", "textfmt"},
	"commands":          {"", "eventlog", "projections", "clock", "commands/schedule", "textfmt"},
	"commands/tcp":      {"", "commands"},
	"commands/dispatch": {"commands", "projections", "clock"},
	"crontab":           {"", "commands/schedule", "textfmt"},
	"schtasks":          {"", "commands/schedule", "crontab", "textfmt"},
	"importer":          {"", "commands", "crontab", "schtasks", "textfmt"},
	"views":             {"", "textfmt"},
	"web":               {"", "api", "eventlog", "projections", "commands", "commands/schedule", "crontab", "views", "textfmt", "sso"},
	"sso":               {""},
	"sso/ssotest":       {},
	"metrics":           {"", "eventlog", "projections"},
	"notify":            {"", "textfmt"},
	"document":          {"", "api", "commands", "textfmt"},
	"textfmt":           {},
	"pidfile":           {},
	"tlsreload":         {},
	"tlsreload/tlstest": {},
	"envflag":           {},
	"datadir":           {"", "eventlog", "projections"},
	"audit":             {"", "api", "datadir", "eventlog", "projections"},
}

const module = "github.com/statesrv/statesrv"

func TestDependencyDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := rel(fields[0])
		if strings.HasPrefix(pkg, "cmd/") {
			continue
		}
		ok, known := allowed[pkg]
		if !known {
			t.Errorf("package %q has no entry in the dependency rules: add one", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			if imp != module && !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := rel(imp)
			if !contains(ok, dep) {
				t.Errorf("%s imports %s, which the architecture does not allow", show(pkg), show(dep))
			}
		}
	}
}

func rel(path string) string {
	return strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
}

func show(p string) string {
	if p == "" {
		return "statesrv (root)"
	}
	return p
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestArchitectureArrows keeps the arrows drawn in docs/ARCHITECTURE.md the
// same as the rules above, so that the page the next engineer starts from
// cannot drift from what the build enforces.
func TestArchitectureArrows(t *testing.T) {
	doc, err := os.ReadFile("docs/ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(doc), "```\ncmd/statesrv ──► everything\n")
	if !ok {
		t.Fatal("docs/ARCHITECTURE.md: no block of arrows starting with cmd/statesrv")
	}
	block, _, _ = strings.Cut(block, "```")
	drawn := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		from, to, ok := strings.Cut(line, "►")
		if !ok {
			t.Fatalf("arrow line without ►: %q", line)
		}
		var deps []string
		if to = strings.TrimSpace(to); to != "nothing of ours" {
			for _, d := range strings.Split(to, ",") {
				deps = append(deps, docName(d))
			}
		}
		for _, f := range strings.Split(strings.TrimRight(from, "─ "), ",") {
			drawn[docName(f)] = deps
		}
	}
	for pkg, want := range allowed {
		got, ok := drawn[pkg]
		switch {
		case !ok:
			t.Errorf("docs/ARCHITECTURE.md draws no arrow line for %s", show(pkg))
		case ok && !sameSet(got, want):
			t.Errorf("docs/ARCHITECTURE.md: %s ► %v, deps_test.go allows %v", show(pkg), got, want)
		}
	}
	for pkg := range drawn {
		if _, ok := allowed[pkg]; !ok {
			t.Errorf("docs/ARCHITECTURE.md draws %s, which deps_test.go does not know", show(pkg))
		}
	}
}

// docName turns a package as the architecture page writes it into its
// path inside the module ("statesrv" is the root).
func docName(s string) string {
	s = strings.TrimSpace(s)
	if s == "statesrv" {
		return ""
	}
	return s
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, s := range a {
		if !contains(b, s) {
			return false
		}
	}
	return true
}
