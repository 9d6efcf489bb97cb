// Package envflag parses a command's flags and gives every flag not on the
// command line the value of an environment variable named after it: the
// prefix, then the flag's name in upper case with '-' as '_' (with prefix
// STATESRV_, --log-level is STATESRV_LOG_LEVEL). A flag given wins.
package envflag

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// Name returns the environment variable of the flag name.
func Name(prefix, name string) string {
	return prefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Parse parses args into fs, then sets every flag not given from its
// variable, where set. It returns the error of fs.Parse (flag.ErrHelp for
// -h), and an error naming the variable when a flag refuses its value.
func Parse(fs *flag.FlagSet, args []string, prefix string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		env := Name(prefix, f.Name)
		if v, ok := os.LookupEnv(env); ok {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: %w", env, e)
			}
		}
	})
	return err
}

// ParseInterspersed is Parse for flags given before and after the
// positional arguments, which it returns in their order.
func ParseInterspersed(fs *flag.FlagSet, args []string, prefix string) ([]string, error) {
	var pos []string
	for {
		if err := Parse(fs, args, prefix); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
