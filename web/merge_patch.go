package web

import (
	"strings"

	"github.com/statesrv/statesrv"
)

// mergePatch applies the JSON merge patch patch (RFC 7396) to target and
// returns the result. Both are values as encoding/json decodes them into
// an any: a patch that is an object changes the members it names (null
// removes one, an object merges into an object recursively, anything else
// replaces); any other patch replaces the whole target. target's maps may
// be changed in place.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for name, v := range p {
		if v == nil {
			delete(t, name)
			continue
		}
		t[name] = mergePatch(t[name], v)
	}
	return t
}

// checkPatchFields returns an EInvalid error naming the first member of
// the merge patch that is no field of a process (statesrv.ProcessFields),
// so that a patch that only removes an unknown field is refused too. A
// member that is a field is not looked into: its value is checked once the
// patch is applied.
func checkPatchFields(patch map[string]any, prefix string) error {
	for name, v := range patch {
		field := prefix + name
		if _, ok := statesrv.FieldNamed(field); ok {
			continue
		}
		if !hasFieldsUnder(field) {
			return statesrv.Errorf(statesrv.EInvalid, "body: unknown field %q", field)
		}
		if inner, ok := v.(map[string]any); ok {
			if err := checkPatchFields(inner, field+"."); err != nil {
				return err
			}
		}
	}
	return nil
}

// hasFieldsUnder reports whether some field's dotted name starts with
// group and a dot ("alerts" for "alerts.fail").
func hasFieldsUnder(group string) bool {
	for i := range statesrv.ProcessFields {
		if strings.HasPrefix(statesrv.ProcessFields[i].Name, group+".") {
			return true
		}
	}
	return false
}
