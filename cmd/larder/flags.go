package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
)

// flagCtx is what parseFlags knows about a flag set newFlags made: the
// command, its env, and where each flag's value came from.
type flagCtx struct {
	e       *env
	c       *command
	sources map[string]string // flag name → "flag", "LARDER_DB", a larder.toml path, "found"
}

// flagCtxs maps each *flag.FlagSet newFlags made to its flagCtx, so that
// parse(fs, args) (the signature every command uses) can apply defaults.
var flagCtxs sync.Map

// newFlags returns a flag set that reports errors instead of exiting, so
// that bad flags become usage errors (exit 2).
func newFlags(e *env, c *command) *flag.FlagSet {
	fs := flag.NewFlagSet("larder "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parseFlags reports errors and prints help
	fs.Usage = func() {}
	flagCtxs.Store(fs, &flagCtx{e: e, c: c, sources: map[string]string{}})
	return fs
}

// flagsFor returns the flag set of the command called name.
func flagsFor(e *env, name string) *flag.FlagSet { return newFlags(e, commands[name]) }

// flagSource says where the value of fs's flag name came from: "flag"
// (the command line), an environment variable's name, the path of
// larder.toml, "found" (a directory found by looking), or "" (the
// built-in default).
func flagSource(fs *flag.FlagSet, name string) string {
	if fc, ok := flagCtxs.Load(fs); ok {
		return fc.(*flagCtx).sources[name]
	}
	return ""
}

// unset gives fs's flag name back its built-in default (for a default
// from larder.toml or the environment that another flag overrides).
func unset(fs *flag.FlagSet, name string) {
	if f := fs.Lookup(name); f != nil {
		f.Value.Set(f.DefValue)
		if fc, ok := flagCtxs.Load(fs); ok {
			delete(fc.(*flagCtx).sources, name)
		}
	}
}

// parse parses args with fs and checks that exactly one positional
// argument per name remains, returning them: names say what each one is
// ("NAME", "version N") in the usage error.
func parse(fs *flag.FlagSet, args []string, names ...string) ([]string, error) {
	rest, err := parseFlags(fs, args)
	switch {
	case err != nil:
		return nil, err
	case len(names) == 0 && len(rest) > 0:
		return nil, usagef("unexpected argument %q", rest[0])
	case len(rest) != len(names):
		return nil, usagef("give exactly one %s", strings.Join(names, " and one "))
	}
	return rest, nil
}

// parseFlags parses args, allowing flags after positional arguments,
// converts flag errors into usage errors, prints the command's help for
// -h, and fills the flags not given from LARDER_DB/LARDER_DIR, larder.toml
// and the default migrations directory (see defaults.go).
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var fc *flagCtx
	if v, ok := flagCtxs.Load(fs); ok {
		fc = v.(*flagCtx)
	}
	if fc != nil && fc.e.probe != nil {
		fc.e.probe(fc.c, fs)
		return nil, flag.ErrHelp
	}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) && fc != nil {
				printUsage(fc.e.stdout, fc.c, fs)
			}
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	if fc != nil {
		if err := applyDefaults(fs, fc); err != nil {
			return nil, err
		}
	}
	return positional, nil
}

// printUsage prints c's synopsis, description and flags.
func printUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	var b bytes.Buffer
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	fmt.Fprintf(w, "usage: larder %s %s\n\n%s\n", c.name, c.args, c.short)
	if c.long != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.long))
	}
	if b.Len() > 0 {
		fmt.Fprintf(w, "\nflags:\n%s", b.String())
	}
	fmt.Fprintln(w, "\nFlags not given come from LARDER_DB / LARDER_DIR, then larder.toml (see docs/cli.md).")
}
